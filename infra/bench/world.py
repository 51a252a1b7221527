"""The benchmark's local cloud: provisioned from the template, with a user, a product and orders."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name

from infra.bench import index_writes
from infra.bench.cost import CallLog
from infra.local.cloud import LocalCloud
from infra.local.paths import TEMPLATE_PATH
from infra.local.provision import provision
from infra.local.runtime.functions import discover, spec_of
from infra.local.runtime.sources.base import Services
from infra.local.runtime.sources.stepfunctions import state_machine_sources
from infra.local.runtime.worker import Invocation
from infra.local.template import Stack, load_template
from infra.local.token import local_secret, mint

USER = "ada"
PRODUCT = "bench-mug"
_BOTO3_NAME = {"states": "stepfunctions"}  # signing name -> boto3 service name


class World:
    """One local cloud for the whole benchmark; `fresh()` resets and re-provisions it."""

    def __init__(self) -> None:
        self.cloud = LocalCloud().start()
        self.stack = Stack(load_template(), self.cloud.endpoint)
        self.calls = CallLog(
            functions=set(self.stack.of_type("AWS::Serverless::Function")),
            gateway_tables=frozenset({self.stack.name("PaymentsTable")}),
            indexes=index_writes.indexes(self.stack.resources, self.stack.name),
        )
        self.cloud.observers.append(self.calls.observe)
        self.secret = ""
        self.fresh()

    def fresh(self) -> None:
        """Reset the cloud, provision it, create the workflow and seed the user and the product."""
        from app.adapters.dynamodb.users import DynamoUserRepository
        from app.bootstrap import get_container
        from app.domain.users import User
        from app.settings import get_settings

        self.cloud.reset()
        provision(self.stack)
        services = Services(self.stack, lambda *_: Invocation(request_id="none"), lambda _: None)
        for source in state_machine_sources(services, discover(self.stack), TEMPLATE_PATH.parent):
            source.setup()
        os.environ.update(self.env("ApiFunction"))
        get_settings.cache_clear()
        get_container.cache_clear()
        self.secret = local_secret(self.stack) or ""
        container = get_container()
        now = datetime.now(UTC)
        DynamoUserRepository(container.dynamodb, self.stack.name("UsersTable")).add(
            User(USER, "Ada", "ada@example.com", now, now)
        )
        container.catalog.put(PRODUCT, "Mug", 1200, "USD")
        container.catalog.restock(PRODUCT, 100_000)

    def env(self, logical_id: str) -> dict[str, str]:
        """The function's environment on the local cloud, with the variables Lambda itself sets (as the runtime)."""
        return spec_of(self.stack, logical_id).env

    def token(self) -> str:
        """A bearer token of the seeded user, signed with the provisioned secret."""
        return mint(self.secret, USER, "user", "ada@example.com", "order-service", "order-service")

    def place_orders(self, count: int) -> list[str]:
        """Orders accepted by the order service (PENDING, enqueued)."""
        from app.bootstrap import get_container

        orders = get_container().orders
        return [orders.place(USER, [(PRODUCT, 1)]).order.id for _ in range(count)]

    def replay_of(self, logical_id: str) -> str:
        """The AWS requests the function made since the log was cleared, as the baseline's BENCH_REPLAY."""
        calls = [
            [_BOTO3_NAME.get(service, service), xform_name(operation), params]
            for principal, service, operation, params in self.calls.trace
            if principal == logical_id
        ]
        return json.dumps(calls)

    def stop(self) -> None:
        """Stop the local cloud."""
        self.cloud.stop()


def authorizer_context(token: str) -> dict[str, Any]:
    """What BearerAuthorizer answers for this token (workers/authorizer.py), as API Gateway passes it on."""
    from jose import jwt

    from app.domain.auth import principal_from_claims
    from workers.authorizer import _context

    claims = jwt.get_unverified_claims(token)
    return _context(principal_from_claims(claims), claims["exp"])


def http_event(method: str, path: str, token: str, body: Any = None, edge: bool = True) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event; `edge`: as BearerAuthorizer let it through."""
    headers = {"authorization": f"Bearer {token}", "host": "api.example.com"}
    if body is not None:
        headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "api.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2025:00:00:00 +0000",
            "timeEpoch": 0,
            **({"authorizer": {"lambda": authorizer_context(token)}} if edge else {}),
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def sqs_event(stack: Stack, order_id: str) -> dict[str, Any]:
    """A one-record SQS event of the order queue."""
    body = json.dumps({"orderId": order_id})
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "bench",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{stack.region}:123456789012:{stack.name('OrderQueue')}",
        "awsRegion": stack.region,
    }
    return {"Records": [record]}
