from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FakeContainer
from tests.support.tokens import as_admin, as_user, bearer, hs256

PROBLEM = "application/problem+json"


def owner_of(email: str) -> str:
    """The token subject that owns the profile with this email in these tests."""
    return email.split("@")[0].lower()


def create(client: TestClient, name: str = "Ada", email: str = "ada@example.com") -> dict[str, object]:
    response = client.post("/users", json={"name": name, "email": email}, headers=as_user(owner_of(email), email))
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_returns_201_location_etag_and_body(client: TestClient, fake: FakeContainer) -> None:
    response = client.post("/users", json={"name": "  Ada  ", "email": "ADA@Example.com"}, headers=as_user("ada"))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "email", "createdAt", "updatedAt", "version"}
    assert body["id"] == "ada"
    assert body["name"] == "Ada"
    assert body["email"] == "ada@example.com"
    assert body["version"] == 1
    assert response.headers["location"] == f"/users/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["x-correlation-id"]
    assert fake.repo.users[body["id"]].email == "ada@example.com"
    assert len(fake.publisher.messages) == 1


def test_duplicate_email_is_409_problem(client: TestClient, fake: FakeContainer) -> None:
    create(client)
    response = client.post("/users", json={"id": "b", "name": "B", "email": "Ada@example.com"}, headers=as_admin())
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "EmailAlreadyExists"
    assert len(fake.repo.users) == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "", "email": "x@example.com"}, {"name"}),
        ({"name": "   ", "email": "x@example.com"}, {"name"}),
        ({"name": "x" * 101, "email": "x@example.com"}, {"name"}),
        ({"name": "Ok", "email": "not-an-email"}, {"email"}),
        ({"name": "", "email": "nope"}, {"name", "email"}),
        ({"email": "x@example.com"}, {"name"}),
        ({"name": "Ok", "email": "x@example.com", "admin": True}, {"admin"}),
        ({"name": 5, "email": "x@example.com"}, {"name"}),
    ],
)
def test_invalid_bodies_list_each_bad_field(
    client: TestClient, fake: FakeContainer, payload: dict[str, object], fields: set[str]
) -> None:
    response = client.post("/users", json=payload, headers=as_user("x"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422
    assert {e["field"] for e in body["errors"]} == fields
    assert fake.repo.users == {}


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/users", content=b'{"name": "Ada",', headers={"content-type": "application/json", **as_user("ada")}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert "JSON" in response.json()["detail"]


def test_wrong_content_type_is_415(client: TestClient, fake: FakeContainer) -> None:
    response = client.post(
        "/users", content=b"name=Ada", headers={"content-type": "application/x-www-form-urlencoded", **as_user("ada")}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert fake.repo.users == {}


def test_body_over_1mb_is_413(client: TestClient, fake: FakeContainer) -> None:
    big = b'{"name": "' + b"x" * 1_100_000 + b'", "email": "a@example.com"}'
    response = client.post("/users", content=big, headers={"content-type": "application/json", **as_user("a")})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert fake.repo.users == {}


def test_streamed_body_over_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 100_000

    response = client.post("/users", content=chunks(), headers={"content-type": "application/json", **as_user("a")})
    assert response.status_code == 413


def test_get_user_404_and_malformed_id_422(client: TestClient) -> None:
    user = create(client)
    ok = client.get(f"/users/{user['id']}", headers=as_user("ada"))
    assert ok.status_code == 200
    assert ok.json() == user
    assert ok.headers["etag"] == '"1"'
    missing = client.get("/users/00000000-0000-0000-0000-000000000000", headers=as_admin())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    malformed = client.get("/users/EMAIL%23ada@example.com", headers=as_admin())
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == PROBLEM


def test_lookup_by_email(client: TestClient) -> None:
    user = create(client)
    found = client.get("/users", params={"email": "ADA@example.com"}, headers=as_admin())
    assert found.status_code == 200
    assert found.json() == {"items": [user], "nextCursor": None}
    assert client.get("/users", params={"email": "nobody@example.com"}, headers=as_admin()).status_code == 404
    assert client.get("/users", params={"email": "bad"}, headers=as_admin()).status_code == 422


def test_list_with_cursor_and_forged_cursor(client: TestClient) -> None:
    ids = {str(create(client, f"U{i}", f"u{i}@example.com")["id"]) for i in range(5)}
    admin = as_admin()
    first = client.get("/users", params={"limit": 2}, headers=admin).json()
    assert len(first["items"]) == 2
    assert first["nextCursor"]
    seen = [u["id"] for u in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        page = client.get("/users", params={"limit": 2, "cursor": cursor}, headers=admin).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["nextCursor"]
    assert sorted(seen) == sorted(ids)
    forged = client.get("/users", params={"cursor": first["nextCursor"][:-2] + "AA"}, headers=admin)
    assert forged.status_code == 400
    assert forged.headers["content-type"] == PROBLEM
    assert client.get("/users", params={"limit": 0}, headers=admin).status_code == 422
    assert client.get("/users", params={"limit": 101}, headers=admin).status_code == 422


def test_patch_with_if_match(client: TestClient, fake: FakeContainer) -> None:
    user = create(client)
    url = f"/users/{user['id']}"
    me = as_user("ada")
    ok = client.patch(url, json={"name": "Ada L"}, headers={"if-match": '"1"', **me})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'
    stale = client.patch(url, json={"name": "Stale"}, headers={"if-match": '"1"', **me})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert fake.repo.users[str(user["id"])].name == "Ada L"
    assert client.patch(url, json={"name": "X"}, headers={"if-match": "garbage", **me}).status_code == 412
    assert client.patch(url, json={}, headers=me).status_code == 422
    renamed = as_user("ada", "new@example.com")  # the issuer now vouches for the new address
    assert client.patch(url, json={"email": "new@example.com"}, headers=renamed).json()["email"] == "new@example.com"


def test_patch_email_to_taken_is_409(client: TestClient) -> None:
    a = create(client, "A", "a@example.com")
    create(client, "B", "b@example.com")
    response = client.patch(f"/users/{a['id']}", json={"email": "b@example.com"}, headers=as_user("a", "b@example.com"))
    assert response.status_code == 409


@pytest.mark.parametrize("taken", [True, False])
def test_a_user_may_claim_only_the_email_their_token_vouches_for(client: TestClient, taken: bool) -> None:
    if taken:
        create(client)
    squat = client.post("/users", json={"name": "M", "email": "ada@example.com"}, headers=as_user("mallory"))
    # 403 whether or not the address is registered: the answer reveals nothing about other people.
    assert (squat.status_code, squat.headers["content-type"]) == (403, PROBLEM)
    assert "vouches" in squat.json()["detail"]
    mine = create(client, "M", "mallory@example.com")
    patch = client.patch(f"/users/{mine['id']}", json={"email": "ada@example.com"}, headers=as_user("mallory"))
    assert patch.status_code == 403
    assert client.get(f"/users/{mine['id']}", headers=as_user("mallory")).json()["email"] == "mallory@example.com"


def test_an_unverified_email_claim_vouches_for_nothing(client: TestClient) -> None:
    token = hs256("eve", "user", "eve@example.com", email_verified=False)
    assert (
        client.post("/users", json={"name": "E", "email": "eve@example.com"}, headers=bearer(token)).status_code == 403
    )


def test_an_admin_may_register_any_email(client: TestClient) -> None:
    made = client.post("/users", json={"id": "zed", "name": "Z", "email": "zed@example.com"}, headers=as_admin())
    assert made.status_code == 201


def test_delete_is_204_and_frees_email(client: TestClient) -> None:
    user = create(client)
    me = as_user("ada")
    assert client.delete(f"/users/{user['id']}", headers={"if-match": '"9"', **me}).status_code == 412
    response = client.delete(f"/users/{user['id']}", headers=me)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/users/{user['id']}", headers=as_admin()).status_code == 404
    assert client.delete(f"/users/{user['id']}", headers=as_admin()).status_code == 404
    create(client, "Again", "ada@example.com")


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    response = client.put("/users/abc", json={}, headers=as_user("abc"))
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


def test_unexpected_error_is_a_500_that_leaks_nothing(client: TestClient, fake: FakeContainer) -> None:
    def boom(user_id: str) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    fake.repo.get = boom  # type: ignore[method-assign]
    response = client.get("/users/abc", headers=as_user("abc"))
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_cors_allows_configured_origin_only(client: TestClient) -> None:
    headers = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    allowed = client.options("/users", headers=headers)
    assert allowed.headers.get("access-control-allow-origin") == "https://app.example.com"
    denied = client.options("/users", headers={**headers, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_correlation_id_is_echoed_when_safe(client: TestClient) -> None:
    assert client.get("/health", headers={"x-correlation-id": "abc-123"}).headers["x-correlation-id"] == "abc-123"
    generated = client.get("/health", headers={"x-correlation-id": "bad id\n"}).headers["x-correlation-id"]
    assert generated != "bad id\n"
    assert len(generated) == 36


def test_health_ok_and_503(client: TestClient, fake: FakeContainer) -> None:
    assert client.get("/health").json() == {"status": "ok", "checks": {"dynamodb": "ok"}}
    fake.healthy = False
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" not in docs.text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200
    assert "/static-offline-docs/redoc.standalone.js" in redoc.text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users", "/users/{user_id}", "/health"} <= set(paths)
