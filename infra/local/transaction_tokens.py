"""DynamoDB's ClientRequestToken on TransactWriteItems, which moto ignores.

As DynamoDB documents it: a token makes the call idempotent for ten minutes after the first request that
used it completed. A repeat with the same parameters succeeds without writing again; a repeat with other
parameters is `IdempotentParameterMismatchException`. Only a call that succeeded is remembered: a cancelled
transaction changed nothing, so its retry runs again. Without this no local test could show a retried
transaction whose first attempt was applied and whose answer was lost.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.responses import DynamoHandler

WINDOW_SECONDS = 600.0
# What the token's idempotency compares: the request, less what only shapes the answer.
_NOT_COMPARED = frozenset({"ClientRequestToken", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics"})


class IdempotentParameterMismatch(DynamodbException):
    """A token reused within its window for a different request."""

    error_type = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"

    def __init__(self) -> None:
        message = "The request uses the same client token as a previous, but non-identical request."
        super().__init__(IdempotentParameterMismatch.error_type, message)


class Tokens:
    """The tokens of the transactions that succeeded in the last ten minutes, and what each one asked."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.completed: dict[str, tuple[str, float]] = {}
        self.replays = 0
        self.lock = threading.Lock()

    def seen(self, token: str, request: str) -> bool:
        """True if `token` completed this request within the window; the mismatch error for another request."""
        with self.lock:
            now = self.clock()
            for old in [t for t, (_, at) in self.completed.items() if now - at > WINDOW_SECONDS]:
                del self.completed[old]
            known = self.completed.get(token)
        if known is None:
            return False
        if known[0] != request:
            raise IdempotentParameterMismatch
        self.replays += 1
        return True

    def remember(self, token: str, request: str) -> None:
        """Record a transaction that succeeded."""
        with self.lock:
            self.completed[token] = (request, self.clock())


TOKENS = Tokens()


def fingerprint(body: dict[str, Any]) -> str:
    """The parameters a token is bound to."""
    return json.dumps({k: v for k, v in body.items() if k not in _NOT_COMPARED}, sort_keys=True)


def apply() -> None:
    """Install the token check on moto's TransactWriteItems handler (idempotent)."""
    original = DynamoHandler.transact_write_items
    if getattr(original, "_client_tokens", False):
        return

    def transact_write_items(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if not isinstance(token, str):
            return original(self)
        request = fingerprint(self.body)
        if TOKENS.seen(token, request):
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = original(self)
        TOKENS.remember(token, request)
        return result

    transact_write_items._client_tokens = True  # type: ignore[attr-defined]
    setattr(DynamoHandler, "transact_write_items", transact_write_items)  # noqa: B010 - mypy forbids assigning a method
