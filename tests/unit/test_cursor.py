from __future__ import annotations

import base64

import pytest

from app.domain.errors import InvalidCursor
from app.services.cursor import CursorCodec


def test_round_trip_and_none() -> None:
    codec = CursorCodec("k" * 32, "users")
    key = {"id": "abc", "n": 3}
    cursor = codec.encode(key)
    assert cursor is not None
    assert codec.decode(cursor) == key
    assert codec.encode(None) is None
    assert codec.decode(None) is None
    assert codec.decode("") is None


@pytest.mark.parametrize("mutate", ["flip", "garbage", "not-base64", "short"])
def test_forged_or_corrupt_cursors_are_rejected(mutate: str) -> None:
    codec = CursorCodec("k" * 32, "users")
    cursor = codec.encode({"id": "abc"})
    assert cursor is not None
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    if mutate == "flip":
        raw[-2] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    elif mutate == "garbage":
        forged = base64.urlsafe_b64encode(b"x" * 40).decode()
    elif mutate == "not-base64":
        forged = "!!!$$$"
    else:
        forged = "YQ"
    with pytest.raises(InvalidCursor):
        codec.decode(forged)


def test_cursor_is_bound_to_its_key_and_scope() -> None:
    cursor = CursorCodec("k" * 32, "users").encode({"id": "abc"})
    with pytest.raises(InvalidCursor):
        CursorCodec("other-key-" * 3, "users").decode(cursor)
    with pytest.raises(InvalidCursor):
        CursorCodec("k" * 32, "orders").decode(cursor)


def test_signed_non_object_payload_is_rejected() -> None:
    codec = CursorCodec("k" * 32, "users")
    payload = b"[1,2]"
    token = codec._sign(payload) + payload
    with pytest.raises(InvalidCursor):
        codec.decode(base64.urlsafe_b64encode(token).decode())
