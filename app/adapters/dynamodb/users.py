"""DynamoDB implementation of UserRepository.

Email uniqueness uses an email-claim item (id = "EMAIL#<email>") written in the same
transaction as the user, conditional on not existing: DynamoDB, not a prior read,
decides which of two concurrent writers wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes, error_code
from app.adapters.dynamodb import writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.errors import EmailAlreadyExists, NotFound, PreconditionFailed
from app.domain.users import User
from app.services.ports.common import Page, PageKey

_USER = "USER"
_CLAIM = "EMAIL_CLAIM"


def _claim_key(email: str) -> dict[str, Any]:
    return to_item({"id": f"EMAIL#{email}"})


def _user_key(user_id: str) -> dict[str, Any]:
    return to_item({"id": user_id})


def _to_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "entity": _USER,
        "name": user.name,
        "email": user.email,
        "createdAt": user.created_at.isoformat(),
        "updatedAt": user.updated_at.isoformat(),
        "version": user.version,
    }


def _to_user(item: dict[str, Any]) -> User:
    values = from_item(item)
    return User(
        id=values["id"],
        name=values["name"],
        email=values["email"],
        created_at=datetime.fromisoformat(values["createdAt"]),
        updated_at=datetime.fromisoformat(values["updatedAt"]),
        version=int(values["version"]),
    )


class DynamoUserRepository:
    """Users in one table; email claims live beside them, outside the EmailIndex."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def add(self, user: User) -> None:
        """Store the user and claim its email atomically."""
        try:
            writes.transact(
                self.client,
                [
                    {"Put": self._put(_to_values(user), "attribute_not_exists(id)")},
                    {"Put": self._put(self._claim(user), "attribute_not_exists(id)")},
                ],
            )
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes[1:2] == [CONDITION_FAILED]:
                raise EmailAlreadyExists(f"email {user.email} is already registered") from exc
            if codes[:1] == [CONDITION_FAILED]:
                raise EmailAlreadyExists(f"user {user.id} already exists") from exc
            raise

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        item = self.client.get_item(TableName=self.table, Key=_user_key(user_id), ConsistentRead=True).get("Item")
        if item is None or item.get("entity", {}).get("S") != _USER:
            return None
        return _to_user(item)

    def get_by_email(self, email: str) -> User | None:
        """The user with this email, through the EmailIndex GSI."""
        result = self.client.query(
            TableName=self.table,
            IndexName="EmailIndex",
            KeyConditionExpression="email = :email",
            ExpressionAttributeValues=to_item({":email": email}),
            Limit=1,
        )
        items = result.get("Items", [])
        return _to_user(items[0]) if items else None

    def page(self, limit: int, start: PageKey | None) -> Page[User, PageKey]:
        """A page of users; the scan skips email claims, so it may read several pages."""
        users: list[User] = []
        key = to_item(start) if start else None
        while len(users) < limit:
            args: dict[str, Any] = {
                "TableName": self.table,
                "Limit": limit - len(users),
                "FilterExpression": "entity = :user",
                "ExpressionAttributeValues": to_item({":user": _USER}),
            }
            if key:
                args["ExclusiveStartKey"] = key
            result = self.client.scan(**args)
            users.extend(_to_user(i) for i in result.get("Items", []))
            key = result.get("LastEvaluatedKey")
            if not key:
                break
        return Page(items=users, next_key=from_item(key) if key else None)

    def update(self, user: User, previous: User) -> None:
        """Write the new version; move the email claim in the same transaction."""
        items: list[dict[str, Any]] = [{"Put": self._versioned_put(user, previous.version)}]
        if user.email != previous.email:
            items.append({"Delete": self._release(previous)})
            items.append({"Put": self._put(self._claim(user), "attribute_not_exists(id)")})
        self._transact(items, previous.id)

    def delete(self, user: User) -> None:
        """Delete the user and its email claim together."""
        user_delete = {
            "TableName": self.table,
            "Key": _user_key(user.id),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": to_item({":v": user.version}),
        }
        self._transact([{"Delete": user_delete}, {"Delete": self._release(user)}], user.id)

    def _transact(self, items: list[dict[str, Any]], user_id: str) -> None:
        try:
            writes.transact(self.client, items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes[:1] == [CONDITION_FAILED]:
                raise PreconditionFailed(f"user {user_id} was changed or deleted meanwhile") from exc
            if CONDITION_FAILED in codes[1:]:
                raise EmailAlreadyExists("email is already registered") from exc
            if error_code(exc) == "ResourceNotFoundException":
                raise NotFound(f"user {user_id} not found") from exc
            raise

    def _put(self, values: dict[str, Any], condition: str) -> dict[str, Any]:
        return {"TableName": self.table, "Item": to_item(values), "ConditionExpression": condition}

    def _versioned_put(self, user: User, expected_version: int) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Item": to_item(_to_values(user)),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": to_item({":v": expected_version}),
        }

    def _claim(self, user: User) -> dict[str, Any]:
        return {"id": f"EMAIL#{user.email}", "entity": _CLAIM, "userId": user.id}

    def _release(self, user: User) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Key": _claim_key(user.email),
            "ConditionExpression": "userId = :id",
            "ExpressionAttributeValues": to_item({":id": user.id}),
        }
