"""The JWKS adapter against a real HTTP server on loopback, and RS256 verification end to end with it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.adapters.jwks import HttpJwks
from app.bootstrap.auth import token_verifier
from app.domain.errors import ServiceUnavailable
from app.settings import Settings
from infra.local.cloud import free_port
from tests.support.tokens import AUDIENCE, RsaKey, claims

KEY = RsaKey("loopback-key")


class Issuer:
    """What the loopback issuer serves, and how many times it was asked."""

    def __init__(self) -> None:
        self.body: bytes = json.dumps({"keys": [KEY.jwk()]}).encode()
        self.status = 200
        self.hits = 0


@pytest.fixture
def issuer() -> Iterator[tuple[str, Issuer]]:
    state = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            self.send_response(state.status if self.path == "/.well-known/jwks.json" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_fetches_the_key_set(issuer: tuple[str, Issuer]) -> None:
    url, state = issuer
    assert HttpJwks(f"{url}/.well-known/jwks.json", 2).fetch()["keys"][0]["kid"] == KEY.kid
    assert state.hits == 1


@pytest.mark.parametrize(
    ("status", "body"), [(500, b"{}"), (200, b"not json"), (200, b"[1, 2]"), (200, b"x" * 1_048_577)]
)
def test_bad_answers_are_unavailable(issuer: tuple[str, Issuer], status: int, body: bytes) -> None:
    url, state = issuer
    state.status, state.body = status, body
    with pytest.raises(ServiceUnavailable):
        HttpJwks(f"{url}/.well-known/jwks.json", 2).fetch()


def test_unreachable_issuer_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailable):
        HttpJwks(f"http://127.0.0.1:{free_port()}/.well-known/jwks.json", 1).fetch()


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpJwks("file:///etc/passwd", 1)


def test_cognito_mode_verifies_rs256_from_the_issuer_jwks(issuer: tuple[str, Issuer]) -> None:
    url, state = issuer
    settings = Settings(AUTH_MODE="cognito", JWT_ISSUER=url, JWT_AUDIENCE=AUDIENCE)
    assert settings.jwks_endpoint == f"{url}/.well-known/jwks.json"
    verifier = token_verifier(settings)
    token = KEY.sign(claims("cog-1", role=None, iss=url, token_use="id", email="c@example.com"))
    assert verifier.verify(token).email == "c@example.com"
    assert verifier.verify(token).sub == "cog-1"
    assert state.hits == 1  # cached
