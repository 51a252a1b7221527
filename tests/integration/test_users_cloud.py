"""The Users API end to end against the local cloud (DynamoDB and SNS over real HTTP)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import httpx
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient

from app.adapters.dynamodb.users import DynamoUserRepository
from app.bootstrap import utc_now
from app.domain.errors import EmailAlreadyExists
from app.domain.users import User
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.tokens import SECRET, Signer


def subscribe_queue(stack: Stack, topic_logical: str) -> str:
    sqs, sns = aws(stack, "sqs"), aws(stack, "sns")
    url = sqs.create_queue(QueueName="capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.ref(topic_logical), Protocol="sqs", Endpoint=arn)
    return str(url)


def create_ada(client: TestClient, auth: Signer) -> dict[str, object]:
    """Ada registers herself (mixed-case email); her user as the API returns it."""
    created = client.post(
        "/users", json={"name": "Ada", "email": "Ada@Example.com"}, headers=auth.user("ada", "ada@example.com")
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_a_created_user_reads_back_by_id_email_and_listing(client: TestClient, stack: Stack, auth: Signer) -> None:
    ada, admin = auth.user("ada", "ada@example.com"), auth.admin()
    user = create_ada(client, auth)

    assert user["id"] == "ada"
    assert client.get("/users/ada", headers=ada).json() == user
    assert client.get("/users", params={"email": "ada@example.com"}, headers=ada).json()["items"] == [user]
    # The GSI is sparse: the email claim item never shows up as a user.
    table = aws(stack, "dynamodb").scan(TableName=stack.name("UsersTable"))["Items"]
    assert {i["entity"]["S"] for i in table} == {"USER", "EMAIL_CLAIM"}
    assert client.get("/users", headers=admin).json()["items"] == [user]


def test_an_email_change_releases_the_old_address_and_claims_the_new(client: TestClient, auth: Signer) -> None:
    create_ada(client, auth)
    moved = auth.user("ada", "ada@new.io")  # the issuer now vouches for Ada's new address

    patched = client.patch("/users/ada", json={"email": "ada@new.io"}, headers={"if-match": '"1"', **moved})

    assert (patched.status_code, patched.json()["version"]) == (200, 2)
    stale = client.patch("/users/ada", json={"name": "x"}, headers={"if-match": '"1"', **moved})
    assert stale.status_code == 412
    old = client.post(
        "/users", json={"name": "B", "email": "ada@example.com"}, headers=auth.user("b", "ada@example.com")
    )
    assert old.status_code == 201  # released by the same transaction
    taken = client.post("/users", json={"name": "C", "email": "ada@new.io"}, headers=auth.user("c", "ada@new.io"))
    assert taken.status_code == 409


def test_a_deleted_user_frees_the_email_and_its_token_names_nobody(client: TestClient, auth: Signer) -> None:
    ada = auth.user("ada", "ada@example.com")
    create_ada(client, auth)

    assert client.delete("/users/ada", headers={"if-match": '"1"', **ada}).status_code == 204

    assert client.get("/users/ada", headers=auth.admin()).status_code == 404
    assert client.get("/users/ada", headers=ada).status_code == 401  # a still-valid token, for nobody
    freed = client.post(
        "/users", json={"name": "D", "email": "ada@example.com"}, headers=auth.user("d", "ada@example.com")
    )
    assert freed.status_code == 201


def test_a_created_user_is_announced_on_its_topic(client: TestClient, stack: Stack, auth: Signer) -> None:
    queue = subscribe_queue(stack, "UserCreatedTopic")
    create_ada(client, auth)

    messages = aws(stack, "sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)

    (envelope,) = [json.loads(m["Body"]) for m in messages["Messages"]]
    assert envelope["MessageAttributes"]["eventType"]["Value"] == "UserCreated"
    assert json.loads(envelope["Message"])["userId"] == "ada"
    assert json.loads(envelope["Message"])["email"] == "ada@example.com"


def test_listing_pages_skip_claims_and_forged_cursor_is_400(client: TestClient, auth: Signer) -> None:
    ids = {
        client.post("/users", json={"name": f"U{i}", "email": f"u{i}@example.com"}, headers=auth.user(f"u{i}")).json()[
            "id"
        ]
        for i in range(7)
    }
    admin = auth.admin()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = client.get("/users", params=params, headers=admin).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert client.get("/users", params={"cursor": "eyJpZCI6ICJ4In0"}, headers=admin).status_code == 400


def test_twenty_parallel_creates_with_one_email_give_one_201(live_api: str, auth: Signer) -> None:
    def post(i: int) -> int:
        body = {"name": f"N{i}", "email": "race@example.com"}
        return httpx.post(
            f"{live_api}/users", json=body, headers=auth.user(f"racer-{i}", "race@example.com"), timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(post, range(20)))
    assert sorted(codes) == [201] + [409] * 19
    listed = httpx.get(f"{live_api}/users", params={"limit": 100}, headers=auth.admin(), timeout=10).json()["items"]
    assert [u["email"] for u in listed] == ["race@example.com"]


def test_conditional_writes_are_atomic_under_real_concurrency(stack: Stack) -> None:
    """Many threads race the repository directly, so requests really overlap at the local cloud."""
    repo = DynamoUserRepository(aws(stack, "dynamodb"), stack.name("UsersTable"))

    def add(i: int) -> bool:
        now = utc_now()
        try:
            repo.add(User(f"user-{i}", "N", "same@example.com", now, now))
            return True
        except EmailAlreadyExists:
            return False

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(add, range(40)))
    assert results.count(True) == 1
    items = aws(stack, "dynamodb").scan(TableName=stack.name("UsersTable"))["Items"]
    assert sum(1 for i in items if i["entity"]["S"] == "USER") == 1


def test_health_reports_services(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "checks": {"dynamodb": "ok", "sns": "ok"}}


def test_unreachable_dynamodb_gives_503(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api.main import create_app
    from app.bootstrap import get_container
    from app.settings import get_settings
    from infra.local.cloud import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    # The secret comes from the environment here, so that the write, not the token check, meets DynamoDB.
    monkeypatch.delenv("JWT_SECRET_ID")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    get_settings.cache_clear()
    get_container.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        health = c.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["dynamodb"] == "unavailable"
        write = c.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=Signer(SECRET).user("ada"))
        assert write.status_code == 503
        assert write.headers["content-type"] == "application/problem+json"
        assert write.headers["retry-after"]


def test_boto3_uses_the_local_endpoint(stack: Stack) -> None:
    # No endpoint_url anywhere in app code: AWS_ENDPOINT_URL alone points boto3 here.
    # The app id keeps this test's own call out of the ApiFunction's least-privilege record.
    config = Config(user_agent_appid="tests")  # type: ignore[call-arg]  # stubs predate the field
    client = boto3.client("dynamodb", region_name=stack.region, config=config)
    assert stack.name("UsersTable") in client.list_tables()["TableNames"]
