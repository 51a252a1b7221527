"""The console's pages and actions over the local cloud and the runtime, through Starlette's test client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from infra.local.console.app import Console, create_console
from infra.local.console.bus import watch
from infra.local.console.recorder import Recorder
from infra.local.console.resources import Resources
from infra.local.paths import TEMPLATE_PATH
from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack
from tests.conftest import Logs
from tests.support.throttles import throttle

LOCAL = "http://127.0.0.1:8001"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    stop = watch(recorder.bus_event)
    yield recorder
    stop()


@pytest.fixture
def console(stack: Stack, logs: Logs, recorder: Recorder) -> Iterator[TestClient]:
    # Sources are not started: what arrives on a queue stays there for the test to look at.
    runtime = LocalRuntime(stack, log=recorder.tap(logs), observer=recorder)
    app = create_console(Console(runtime, recorder, Resources(stack), TEMPLATE_PATH.parent))
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as test_client:
        yield test_client
    runtime.stop()


def send(stack: Stack, queue: str, body: str) -> str:
    url = stack.ref(queue)
    client(stack, "sqs").send_message(QueueUrl=url, MessageBody=body)
    return str(url)


def test_invoke_from_the_console_records_event_result_cause_and_logs(console: TestClient, recorder: Recorder) -> None:
    event = {"type": "REQUEST", "headers": {}, "routeArn": "arn:aws:execute-api:us-east-1:1:api/GET/users"}
    reply = console.post(
        "/functions/AuthorizerFunction/invoke", data={"event": json.dumps(event)}, follow_redirects=False
    )

    assert reply.status_code == 303
    (record,) = recorder.invocations("AuthorizerFunction")
    assert reply.headers["location"] == f"/functions/AuthorizerFunction/invocations/{record.request_id}"
    assert record.trigger == {"kind": "console", "source": "the console's Invoke button"}
    assert json.loads(record.event) == event
    assert record.error is not None
    assert record.error["errorMessage"] == "Unauthorized"
    assert any("Unauthorized" in line for line in record.logs)  # the worker's lines during this invocation
    page = console.get(reply.headers["location"]).text
    assert "Exception: Unauthorized" in page
    assert "the console&#39;s Invoke button" in page
    listing = console.get("/functions/AuthorizerFunction").text
    assert record.request_id in listing
    assert "1</strong> invocations" in listing
    assert "1</strong> errors" in listing


def test_bad_input_is_a_clear_4xx_page(console: TestClient) -> None:
    assert console.post("/functions/AuthorizerFunction/invoke", data={"event": "{nope"}).status_code == 400
    assert console.get("/functions/NoSuchFunction").status_code == 404
    assert console.get("/queues/NoSuchQueue").status_code == 404
    assert console.get("/executions?status=SLEEPING").status_code == 400
    assert console.get("/tables/UsersTable?cursor=%%%").status_code == 400
    assert console.get("/functions/AuthorizerFunction/invocations/unknown").status_code == 404
    gone = console.get("/executions/arn:aws:states:us-east-1:123456789012:execution:nope:nope")
    assert gone.status_code == 404
    assert "no such execution" in gone.text


def test_peek_reads_a_dlq_without_receiving_and_redrive_moves_it_back(console: TestClient, stack: Stack) -> None:
    dlq = send(stack, "OrderDeadLetterQueue", '{"orderId": "o-poison"}')

    assert "o-poison" in console.get("/queues/OrderDeadLetterQueue").text
    box = console.get("/").text.split('data-id="OrderDeadLetterQueue"', 1)[1].split("</a>", 1)[0]
    assert "depth 1, in flight 0" in box  # the topology's live figure for that queue
    sqs = client(stack, "sqs")
    counted = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert counted["Attributes"]["ApproximateNumberOfMessages"] == "1"  # still visible: peeking received nothing
    assert console.post("/queues/OrderQueue/redrive").status_code == 400  # not a DLQ

    moved = console.post("/queues/OrderDeadLetterQueue/redrive", follow_redirects=False)

    assert (moved.status_code, moved.headers["location"]) == (303, "/queues/OrderQueue?moved=1")
    assert "Redrove 1 message" in console.get(moved.headers["location"]).text
    (message,) = sqs.receive_message(QueueUrl=stack.ref("OrderQueue"))["Messages"]
    assert message["Body"] == '{"orderId": "o-poison"}'
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []


def test_purge_needs_its_confirmation(console: TestClient, stack: Stack) -> None:
    url = send(stack, "ImportDeadLetterQueue", "stale")

    assert "cannot be brought back" in console.get("/queues/ImportDeadLetterQueue/purge").text
    assert console.post("/queues/ImportDeadLetterQueue/purge").status_code == 400
    assert client(stack, "sqs").receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]

    done = console.post("/queues/ImportDeadLetterQueue/purge", data={"confirm": "ImportDeadLetterQueue"})

    assert done.status_code == 200
    assert "Purged ImportDeadLetterQueue" in done.text
    assert client(stack, "sqs").receive_message(QueueUrl=url).get("Messages", []) == []


def test_only_loopback_hosts_and_same_origin_actions(console: TestClient, stack: Stack) -> None:
    send(stack, "OrderDeadLetterQueue", "kept")
    assert console.get("/", headers={"host": "rebound.example:8001"}).status_code == 403
    hostile = console.post("/queues/OrderDeadLetterQueue/redrive", headers={"origin": "http://evil.example"})
    assert hostile.status_code == 403
    assert "kept" in console.get("/queues/OrderDeadLetterQueue").text
    same = console.post("/queues/OrderDeadLetterQueue/redrive", headers={"origin": LOCAL}, follow_redirects=False)
    assert same.status_code == 303


def test_tables_page_and_look_up_by_key(console: TestClient, stack: Stack) -> None:
    dynamodb = client(stack, "dynamodb")
    for index in range(30):
        item = {"id": {"S": f"user-{index:02}"}, "name": {"S": f"N{index}"}, "n": {"N": "1.5"}}
        dynamodb.put_item(TableName=stack.name("UsersTable"), Item=item)

    first = console.get("/tables/UsersTable").text
    assert first.count("<pre>") == 25
    assert "next page" in first
    cursor = first.split("cursor=")[1].split('"')[0]
    assert console.get(f"/tables/UsersTable?cursor={cursor}").text.count("<pre>") == 5
    found = console.get("/tables/UsersTable?id=user-07").text
    assert "N7" in found
    assert "1.5" in found
    assert "No item with that key" in console.get("/tables/UsersTable?id=nobody").text
    assert console.get("/tables/PaymentsTable?orderId=o-1").status_code == 400  # its key has two attributes
    assert "30 items" in console.get("/").text  # the topology's live figure


def test_every_event_put_on_a_bus_is_kept_with_the_rules_it_matched(
    console: TestClient, stack: Stack, recorder: Recorder
) -> None:
    events, bus = client(stack, "events"), stack.name("OrderEventBus")
    events.put_rule(Name="processed", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["OrderProcessed"]}))
    queue = client(stack, "sqs").create_queue(QueueName="rule-target")["QueueUrl"]
    arn = f"arn:aws:sqs:{stack.region}:123456789012:rule-target"
    events.put_targets(Rule="processed", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    entries = [
        {"Source": "orders", "DetailType": dt, "Detail": json.dumps({"orderId": "o-9"}), "EventBusName": bus}
        for dt in ("OrderProcessed", "OrderFailed")
    ]
    events.put_events(Entries=entries)

    processed, failed = recorder.events()
    assert [(r.rule, r.targets) for r in processed.matched] == [("processed", (arn,))]
    assert failed.matched == []
    assert [r.rule for r in failed.rules] == ["processed"]
    page = console.get("/events").text
    assert "OrderProcessed" in page
    assert "none of 1" in page
    assert client(stack, "sqs").receive_message(QueueUrl=queue)["Messages"]  # delivery itself is unchanged


def test_schedules_show_the_next_fire_and_fire_now_invokes_with_the_schedules_payload(
    stack: Stack, logs: Logs, recorder: Recorder
) -> None:
    runtime = LocalRuntime(stack, log=logs, observer=recorder, poll_seconds=1).start(warm=False)
    try:
        app = create_console(Console(runtime, recorder, Resources(stack), TEMPLATE_PATH.parent))
        with TestClient(app, base_url=LOCAL) as console:
            listed = console.get("/schedules").text
            assert "CleanupFunction" in listed
            assert "rate(1 day)" in listed

            fired = console.post("/schedules/0/fire", follow_redirects=False)

            (record,) = recorder.invocations("CleanupFunction")
            assert fired.headers["location"] == f"/functions/CleanupFunction/invocations/{record.request_id}"
            assert json.loads(record.event)["detail-type"] == "Scheduled Event"
            assert record.trigger["kind"] == "console"
            assert console.post("/schedules/9/fire").status_code == 404
    finally:
        runtime.stop()


def test_tables_page_shows_throttled_requests_per_table_and_key(
    console: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle(stack, monkeypatch, "hot-mug", refusals=1)
    table = stack.name("ProductsTable")

    page = console.get("/tables").text

    hot = page.split('id="hot-keys"')[1].split("</table>")[0]
    assert f"<tr><td>{table}</td><td>hot-mug</td><td>1</td><td>1</td><td>0</td></tr>" in hot
    assert "against 1 write and 3 read units a second per key" in " ".join(page.split())
