"""The local console in a real headless Chromium, against a real `make run`: journeys, graphs, a redrive."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from infra.local.provision import client
from infra.local.runtime.functions import FUNCTION_TYPES
from infra.local.template import Stack, load_template
from tests.support.browser import CHROMIUM_ARGS, chromium
from tests.support.devrun import DevRun, create_user, wait_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT_MS = 90_000  # generous: a loaded machine; the page itself refreshes every 2 s


class Stage:
    """`make run` with its console, a user with a token, and a browser."""

    def __init__(self, run: DevRun, browser: Browser) -> None:
        self.run, self.browser = run, browser
        self.console = run.wait_for_line("Console ").split()[1]
        self.token = run.token()
        self.stack = Stack(load_template(), f"http://127.0.0.1:{run.aws_port}")

    def order(self, product: str, quantity: int) -> str:
        placed = httpx.post(
            f"{self.run.base}/orders",
            headers={"authorization": f"Bearer {self.token}"},
            json={"items": [{"productId": product, "quantity": quantity}]},
            timeout=30,
        )
        assert placed.status_code == 202, placed.text
        return str(placed.json()["id"])

    def page(self, path: str) -> Page:
        page = self.browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{self.console}{path}")
        return page


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    run = DevRun(tmp_path_factory.mktemp("state"), "--no-reload").ready()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            stage = Stage(run, browser)
            assert create_user(run, stage.token).status_code == 201
            yield stage
            browser.close()
    finally:
        assert run.stop() == 0


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    """Every run takes the screenshot; SCREENSHOTS=<dir> keeps it there too (docs/console is where they live)."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    assert (tmp_path / name).stat().st_size > 10_000
    if os.environ.get("SCREENSHOTS"):
        shutil.copy(tmp_path / name, Path(os.environ["SCREENSHOTS"]) / name)


def test_the_journey_of_an_order_shows_every_state_the_event_and_the_notification(stage: Stage, tmp_path: Path) -> None:
    order_id = stage.order("coffee-mug", 1)
    page = stage.page(f"/journey?id={order_id}")  # opened at once: the live page fills in as the order moves

    for state in ("ValidateOrder", "CheckInventory", "ProcessPayment", "UpdateInventory", "SendNotification"):
        page.wait_for_selector(f'li.succeeded[data-kind="state"]:has-text("{state}: succeeded")')
    page.wait_for_selector('li[data-kind="event"]:has-text("Event OrderProcessed")')
    page.wait_for_selector('li[data-kind="notification"]')
    request = page.locator('li[data-kind="request"]').first
    assert "POST /orders → 202" in request.inner_text()
    assert page.locator('li[data-kind="enqueue"]').count() >= 1
    kinds = page.locator("ol.journey li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds.index("request") < kinds.index("execution") < kinds.index("notification")  # in time order
    wait_status(stage.run, stage.token, order_id, "CONFIRMED")
    screenshot(page, "journey.png", tmp_path)

    page.locator('li[data-kind="state"] a', has_text="ProcessPayment").first.click()  # each step links to its detail
    page.wait_for_selector('g[data-state="ProcessPayment"][data-status="succeeded"]')


def test_an_out_of_stock_orders_graph_shows_the_caught_failure_and_the_failure_states(
    stage: Stage, tmp_path: Path
) -> None:
    order_id = stage.order("limited-print", 2)
    wait_status(stage.run, stage.token, order_id, "FAILED")
    page = stage.page("/executions?status=FAILED")

    page.locator("a", has_text=order_id).click()  # one click from the list to the reason

    check = page.locator('g[data-state="CheckInventory"]')
    assert check.get_attribute("data-status") == "caught"
    assert "failed, caught" in (check.text_content() or "")
    page.wait_for_selector('g[data-state="OrderFailed"][data-status="failed"]')
    for state in ("MarkOrderFailed", "CompensatePayment", "ReleaseInventory"):
        assert page.locator(f'g[data-state="{state}"]').get_attribute("data-status") == "succeeded"
    assert page.locator('g[data-state="ProcessPayment"]').get_attribute("data-status") == "not-reached"
    assert "InsufficientInventory" in page.locator('tr.state-row[data-state="CheckInventory"]').inner_text()
    why = page.locator("#why").inner_text()  # the order's reason, at the top of the page one click gave
    assert "CheckInventory failed with InsufficientInventory" in why
    screenshot(page, "execution.png", tmp_path)


def test_a_poison_message_on_the_dlq_is_redriven_from_the_console_to_its_source(stage: Stage) -> None:
    # Where SQS puts a message after maxReceiveCount (3) failed receives; the trip itself takes 3 x 180 s of
    # visibility timeout and is covered by tests/runtime/test_sqs.py on a template with short timeouts.
    marker = f"poison-{uuid.uuid4()}"
    sqs = client(stage.stack, "sqs")
    sqs.send_message(QueueUrl=stage.stack.ref("OrderDeadLetterQueue"), MessageBody=marker)
    page = stage.page("/queues/OrderDeadLetterQueue")
    assert marker in page.locator("table").inner_text()  # read without receiving it

    page.get_by_role("button", name="Redrive to OrderQueue").click()

    page.wait_for_selector("p.notice:has-text('Redrove 1 message')")
    assert page.url.endswith("/queues/OrderQueue?moved=1")
    page.wait_for_selector(f"td:has-text('{marker}')")  # on the source queue (visible, or in flight again)
    dead = sqs.get_queue_attributes(QueueUrl=stage.stack.ref("OrderDeadLetterQueue"), AttributeNames=["All"])
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"
    deadline = time.monotonic() + WAIT_MS / 1000
    while marker not in stage.page(f"/functions/ProcessOrderFunction?q={marker}").locator("#logs").inner_text():
        assert time.monotonic() < deadline, "the redriven message was never delivered to ProcessOrderFunction"
        time.sleep(1)


def test_the_topology_lists_every_function_of_the_template(stage: Stage, tmp_path: Path) -> None:
    page = stage.page("/")
    drawn = set(page.locator("svg a.node").evaluate_all("nodes => nodes.map(n => n.dataset.id)"))

    assert set(load_template()["Resources"]) & drawn >= {
        k for k, v in load_template()["Resources"].items() if v["Type"] in FUNCTION_TYPES
    }
    page.locator('a.node[data-id="ProcessOrderFunction"]').click()
    page.wait_for_selector("h1:has-text('ProcessOrderFunction')")
    screenshot(stage.page("/"), "topology.png", tmp_path)
