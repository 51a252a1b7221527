"""Authentication and authorization on every /users route: 401s, 403s, 503s, owner vs other vs admin."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from app.adapters.secrets import StaticSecret
from app.domain.errors import ServiceUnavailable
from app.services.jwks import JwksCache
from app.services.tokens import JwksKeys, SecretKeys, TokenRules, TokenVerifier
from tests.api.conftest import FakeContainer
from tests.support.tokens import AUDIENCE, ISSUER, RsaKey, as_admin, as_user, bearer, claims, hs256

PROBLEM = "application/problem+json"
ROUTES = [
    ("POST", "/users", {"name": "Ada", "email": "ada@example.com"}),
    ("GET", "/users", None),
    ("GET", "/users/ada", None),
    ("PATCH", "/users/ada", {"name": "Ada L"}),
    ("DELETE", "/users/ada", None),
]


def seed(client: TestClient) -> None:
    headers = as_user("ada", "ada@example.com")
    assert client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=headers).status_code == 201


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
def test_every_users_route_needs_a_token(
    client: TestClient, fake: FakeContainer, method: str, url: str, body: object
) -> None:
    seed(client)
    response = client.request(method, url, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "Unauthenticated"
    assert fake.repo.users["ada"].name == "Ada"


def test_public_routes_stay_public(client: TestClient) -> None:
    for path in ("/health", "/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


BAD_AUTHORIZATION = {
    "alg none": "Bearer " + b64(b'{"alg":"none"}') + "." + b64(b'{"sub":"ada","role":"admin"}') + ".",
    "expired": f"Bearer {hs256('ada', exp=1, iat=0, nbf=0)}",
    "not yet valid": f"Bearer {hs256('ada', nbf=4_000_000_000)}",
    "wrong issuer": f"Bearer {hs256('ada', iss='https://evil.example')}",
    "wrong audience": f"Bearer {hs256('ada', aud='other')}",
    "tampered payload": f"Bearer {hs256('ada')[:-4]}AAAA",
    "RS256 in secret mode": f"Bearer {RsaKey('k').sign(claims('ada'))}",
    "not three parts": "Bearer abc",
    "header not JSON": f"Bearer {b64(b'nope')}.{b64(b'{}')}.sig",
    "over 8 KB": f"Bearer {hs256('ada', pad='x' * 9000)}",
    "empty bearer": "Bearer ",
    "bearer alone": "Bearer",
    "wrong scheme": f"Basic {hs256('ada')}",
    "non-ascii": "Bearer \u00e9\u00e9.\u00e9.\u00e9",
}


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys())
def test_bad_tokens_are_401_problems_never_500(client: TestClient, authorization: str) -> None:
    seed(client)
    # Raw bytes, so that even non-ASCII values reach the server as a client could send them.
    response = client.get("/users/ada", headers={"authorization": authorization.encode("latin-1")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == PROBLEM


def test_two_authorization_headers_are_401_even_when_both_are_valid(client: TestClient) -> None:
    seed(client)
    token = as_user("ada")["authorization"]
    response = client.get("/users/ada", headers=[("authorization", token), ("authorization", token)])
    assert (response.status_code, response.json()["detail"]) == (401, "send exactly one Authorization header")
    assert client.get("/users/ada", headers=[("authorization", token)]).status_code == 200


def test_valid_token_for_a_deleted_user_is_401_on_owner_routes(client: TestClient) -> None:
    seed(client)
    ada = as_user("ada")
    assert client.delete("/users/ada", headers=ada).status_code == 204
    for method, body in (("GET", None), ("PATCH", {"name": "Ghost"}), ("DELETE", None)):
        response = client.request(method, "/users/ada", json=body, headers=ada)
        assert response.status_code == 401, method
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert client.get("/users/ada", headers=as_admin()).status_code == 404  # admins see the truth


def test_owner_other_and_admin_on_single_user_routes(client: TestClient, fake: FakeContainer) -> None:
    seed(client)
    ada, bob, admin = as_user("ada"), as_user("bob"), as_admin()
    for method, body in (("GET", None), ("PATCH", {"name": "Bob was here"}), ("DELETE", None)):
        response = client.request(method, "/users/ada", json=body, headers=bob)
        assert response.status_code == 403, method
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "Forbidden"
    assert fake.repo.users["ada"].name == "Ada"
    assert client.get("/users/nobody", headers=bob).status_code == 403  # no existence leak to others
    assert client.get("/users/ada", headers=ada).status_code == 200
    assert client.patch("/users/ada", json={"name": "Ada L"}, headers=ada).json()["name"] == "Ada L"
    assert client.get("/users/ada", headers=admin).status_code == 200
    assert client.patch("/users/ada", json={"name": "By admin"}, headers=admin).json()["name"] == "By admin"
    assert client.delete("/users/ada", headers=admin).status_code == 204
    assert fake.repo.users == {}


def test_create_is_for_the_callers_own_profile_unless_admin(client: TestClient, fake: FakeContainer) -> None:
    body = {"name": "Bob", "email": "bob@example.com"}
    assert client.post("/users", json={**body, "id": "ada"}, headers=as_user("bob")).status_code == 403
    assert fake.repo.users == {}
    own = client.post("/users", json={**body, "id": "bob"}, headers=as_user("bob"))
    assert own.status_code == 201
    assert own.json()["id"] == "bob"
    again = client.post("/users", json={"name": "Bob", "email": "bob@example.com"}, headers=as_user("bob"))
    assert again.status_code == 409
    admin = client.post("/users", json={"id": "carol", "name": "Carol", "email": "c@example.com"}, headers=as_admin())
    assert admin.status_code == 201
    assert set(fake.repo.users) == {"bob", "carol"}
    assert client.post("/users", json={**body, "id": "bad id"}, headers=as_admin()).status_code == 422


def test_create_with_a_subject_that_is_not_a_user_id_is_422(client: TestClient, fake: FakeContainer) -> None:
    response = client.post("/users", json={"name": "X", "email": "x@example.com"}, headers=as_user("auth0|123"))
    assert response.status_code == 422
    assert fake.repo.users == {}


def test_listing_is_for_admins_and_users_find_only_their_own_email(client: TestClient) -> None:
    seed(client)
    assert (
        client.post("/users", json={"name": "Bob", "email": "bob@example.com"}, headers=as_user("bob")).status_code
        == 201
    )
    ada, admin = as_user("ada", "ada@example.com"), as_admin()
    listing = client.get("/users", headers=ada)
    assert listing.status_code == 403
    assert listing.headers["content-type"] == PROBLEM
    assert len(client.get("/users", headers=admin).json()["items"]) == 2
    assert client.get("/users", params={"email": "ADA@example.com"}, headers=ada).json()["items"][0]["id"] == "ada"
    # Another user's email and an unknown email look the same to a plain user: 403.
    assert client.get("/users", params={"email": "bob@example.com"}, headers=ada).status_code == 403
    assert client.get("/users", params={"email": "nobody@example.com"}, headers=ada).status_code == 403
    assert client.get("/users", params={"email": "bob@example.com"}, headers=admin).json()["items"][0]["id"] == "bob"
    newcomer = as_user("carol", "carol@example.com")
    assert client.get("/users", params={"email": "carol@example.com"}, headers=newcomer).status_code == 404


def test_unreadable_secret_is_503(client: TestClient, fake: FakeContainer) -> None:
    fake.tokens = TokenVerifier(SecretKeys(StaticSecret(None)), TokenRules(ISSUER, AUDIENCE))
    response = client.get("/users/ada", headers=as_user("ada"))
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"]


def test_jwks_unreachable_with_nothing_cached_is_503_then_recovers(client: TestClient, fake: FakeContainer) -> None:
    key = RsaKey("api-key")

    class Flaky:
        up = False

        def fetch(self) -> dict[str, object]:
            if not self.up:
                raise ServiceUnavailable("down")
            return {"keys": [key.jwk()]}

    source = Flaky()
    fake.tokens = TokenVerifier(JwksKeys(JwksCache(source, 0)), TokenRules(ISSUER, AUDIENCE))
    seed_headers = bearer(key.sign(claims("ada", email="ada@example.com")))
    assert client.get("/users/ada", headers=seed_headers).status_code == 503
    source.up = True
    response = client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=seed_headers)
    assert response.status_code == 201


def test_openapi_declares_bearer_auth_for_swagger_authorize(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A JWT bearer token (locally: `make token`).",
    }
    for method in ("get", "patch", "delete"):
        assert spec["paths"]["/users/{user_id}"][method]["security"] == [{"HTTPBearer": []}]
    assert "security" not in spec["paths"]["/health"]["get"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("POST", "/users", {"name": ""}), ("PATCH", "/users/ada", {"email": "not-an-email"}), ("POST", "/orders", {})],
)
def test_an_anonymous_request_with_a_bad_body_is_401_before_its_validation_errors(
    client: TestClient, method: str, url: str, body: object
) -> None:
    seed(client)
    anonymous = client.request(method, url, json=body)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "Unauthenticated")
    assert "errors" not in anonymous.json()
    assert anonymous.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    signed_in = client.request(method, url, json=body, headers=as_user("ada", "ada@example.com"))
    assert signed_in.status_code == 422
    assert signed_in.json()["errors"]


def test_a_bad_body_with_an_unreadable_secret_is_503_not_422(client: TestClient, fake: FakeContainer) -> None:
    fake.tokens = TokenVerifier(SecretKeys(StaticSecret(None)), TokenRules(ISSUER, AUDIENCE))
    response = client.post("/users", json={"name": ""}, headers=as_user("ada"))
    assert (response.status_code, response.headers["content-type"]) == (503, PROBLEM)
