"""The composition root builds, for each function, only the clients its handler uses."""

from __future__ import annotations

from app.bootstrap import Container
from app.settings import Settings


def clients_of(container: Container) -> set[str]:
    return {service for service, _ in container.clients._clients}


def test_a_workflow_task_builds_only_the_dynamodb_client() -> None:
    # Every task shares OrderWorkflow; only SendNotification publishes, so the events client waits for it.
    container = Container(Settings(AWS_REGION="us-east-1"))
    workflow = container.order_workflow
    assert clients_of(container) == {"dynamodb"}
    assert workflow.events.client._client is None  # type: ignore[attr-defined]


def test_the_queue_worker_builds_dynamodb_and_stepfunctions_only() -> None:
    container = Container(Settings(AWS_REGION="us-east-1"))
    assert container.order_dispatcher is not None
    assert clients_of(container) == {"dynamodb", "stepfunctions"}
