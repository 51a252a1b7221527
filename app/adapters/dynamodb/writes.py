"""Writes whose answer may be lost: a retried attempt that fails on its own first attempt is a success.

botocore retries a call whose answer never came (a read timeout, a reset connection) with the same
parameters. When the first attempt was applied, a conditional retry then fails on what that attempt wrote
(`attribute_not_exists` finds the item, `status = :from` finds the new status), and an `ADD` is applied
twice. The rules here, used by every adapter that writes:

- A transaction carries a `ClientRequestToken`, made once per call: DynamoDB answers a retry within ten
  minutes with success and writes nothing again.
- A conditional PutItem or UpdateItem writes a token of its own in `writeId` and asks for the item as
  it stands when its condition fails (`ReturnValuesOnConditionCheckFailure=ALL_OLD`): an item holding
  this call's token was written by this call, and the failure is the success it hid.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import is_condition_failed

WRITE_ID = "writeId"
WRITE_ID_VALUE = ":writeId"


def new_token() -> str:
    """A token for one call: the same across botocore's attempts of it, new for the next call."""
    return uuid.uuid4().hex


def transact(client: Any, items: list[dict[str, Any]]) -> None:
    """TransactWriteItems, idempotent across the SDK's retries of this call."""
    client.transact_write_items(TransactItems=items, ClientRequestToken=new_token())


def put(client: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A conditional PutItem that tags its item with this call's id; a retry that finds its own item succeeds."""
    token = new_token()
    return _conditional(client.put_item, {**args, "Item": {**args["Item"], WRITE_ID: {"S": token}}}, token)


def update(client: Any, args: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """A conditional UpdateItem that also records this call's id (`token`, or a new one) in `writeId`."""
    token = token or new_token()
    expression = args["UpdateExpression"]
    if "SET " in expression:
        expression = expression.replace("SET ", f"SET {WRITE_ID} = {WRITE_ID_VALUE}, ", 1)
    else:
        expression = f"{expression} SET {WRITE_ID} = {WRITE_ID_VALUE}"
    values = {**args.get("ExpressionAttributeValues", {}), WRITE_ID_VALUE: {"S": token}}
    tagged = {**args, "UpdateExpression": expression, "ExpressionAttributeValues": values}
    return _conditional(client.update_item, tagged, token)


def _conditional(call: Callable[..., dict[str, Any]], args: dict[str, Any], token: str) -> dict[str, Any]:
    """Its answer, or the item an earlier attempt of this call already wrote (`Attributes`, as ALL_NEW gives).

    Raises the ConditionalCheckFailed error when the item's condition failed for any other reason.
    """
    try:
        return call(**args, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        current: dict[str, Any] = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
        if is_condition_failed(exc) and current.get(WRITE_ID) == {"S": token}:
            return {"Attributes": current}
        raise
