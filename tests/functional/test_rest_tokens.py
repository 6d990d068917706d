"""REST: scoped customer tokens (create, list, get, revoke, rotate) and the legacy token endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.functional.conftest import Api, err, ok

TOKEN_FIELDS = {
    "id",
    "customer_id",
    "name",
    "scope",
    "package_scopes",
    "token_hint",
    "expires_at",
    "last_used_at",
    "last_used_ip",
    "created_at",
}


def _future(days: int = 30) -> str:
    return (
        (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def _works(api: Api, secret: str) -> bool:
    """Whether Composer accepts the secret (``GET /packages.json`` with Basic ``token:<secret>``)."""
    status = api.composer("/packages.json", secret).status_code
    assert status in (200, 401, 403), status
    return status == 200


def _token_ids(api: Api, customer_id: str) -> list[str]:
    return sorted(t["id"] for t in ok(api.get(f"/customers/{customer_id}/tokens")))


# -- happy paths ----------------------------------------------------------------------------------


def test_create_token_with_every_setting(api: Api) -> None:
    customer = api.create_customer("Acme")
    expires = _future()
    created = ok(
        api.post(
            f"/customers/{customer['id']}/tokens",
            json={
                "name": "CI Deploy Token",
                "scope": "download",
                "package_scopes": ["acme/*", "Acme/Specific-Package", "acme/*"],
                "expires_at": expires,
            },
        ),
        201,
    )
    assert set(created) == {"token", "plain_token", "composer_auth"}
    token, plain = created["token"], created["plain_token"]
    assert set(token) == TOKEN_FIELDS
    assert token["id"].startswith("tok_")
    assert token["customer_id"] == customer["id"]
    assert token["name"] == "CI Deploy Token"
    assert token["scope"] == "download"
    # Lowercased and de-duplicated, order kept.
    assert token["package_scopes"] == ["acme/*", "acme/specific-package"]
    assert datetime.fromisoformat(token["expires_at"]) == datetime.fromisoformat(expires)
    assert token["last_used_at"] is None
    assert plain.startswith("tok_") and plain != customer["token"]
    assert token["token_hint"] == f"{plain[:4]}…{plain[-4:]}"
    assert created["composer_auth"] == {
        "username": "token",
        "password": plain,
        "repository_url": "http://testserver",
    }
    assert _works(api, plain)


def test_create_token_defaults(api: Api) -> None:
    customer = api.create_customer("Acme")
    token = ok(api.post(f"/customers/{customer['id']}/tokens", json={}), 201)["token"]
    assert token["name"] == "API token"
    assert token["scope"] == "admin"
    assert token["package_scopes"] == []
    assert token["expires_at"] is None


def test_list_and_get_tokens(api: Api) -> None:
    customer = api.create_customer("Acme")
    other = api.create_customer("Other")
    api.post(f"/customers/{other['id']}/tokens", json={"name": "not mine"})
    extra = [
        ok(api.post(f"/customers/{customer['id']}/tokens", json={"name": f"t{i}", "scope": scope}), 201)
        for i, scope in enumerate(("developer", "download", "webhook"))
    ]

    listed = ok(api.get(f"/customers/{customer['id']}/tokens"))
    assert sorted(t["id"] for t in listed) == sorted(
        [customer["token_id"], *(e["token"]["id"] for e in extra)]
    )
    assert all(set(t) == TOKEN_FIELDS for t in listed)
    assert {t["customer_id"] for t in listed} == {customer["id"]}
    assert "plain_token" not in str(listed)
    for secret in [customer["token"], *(e["plain_token"] for e in extra)]:
        assert secret not in str(listed)

    for created in extra:
        fetched = ok(api.get(f"/customers/{customer['id']}/tokens/{created['token']['id']}"))
        assert fetched == created["token"]

    # Webhook tokens exist but cannot download.
    assert api.composer("/packages.json", extra[2]["plain_token"]).status_code == 403


def test_revoke_token(api: Api) -> None:
    customer = api.create_customer("Acme")
    created = ok(api.post(f"/customers/{customer['id']}/tokens", json={"name": "short-lived"}), 201)
    token_id, plain = created["token"]["id"], created["plain_token"]
    assert _works(api, plain)

    revoked = ok(api.delete(f"/customers/{customer['id']}/tokens/{token_id}"))
    assert revoked["id"] == token_id

    assert _token_ids(api, customer["id"]) == [customer["token_id"]]
    err(api.get(f"/customers/{customer['id']}/tokens/{token_id}"), 404, "NOT_FOUND")
    err(api.delete(f"/customers/{customer['id']}/tokens/{token_id}"), 404, "NOT_FOUND")
    err(api.post(f"/customers/{customer['id']}/tokens/{token_id}/rotate"), 404, "NOT_FOUND")
    assert not _works(api, plain)
    assert _works(api, customer["token"]), "revoking one token must leave the others working"


def test_rotate_token_replaces_the_secret_and_keeps_the_settings(api: Api) -> None:
    customer = api.create_customer("Acme")
    created = ok(
        api.post(
            f"/customers/{customer['id']}/tokens",
            json={"name": "CI", "scope": "developer", "package_scopes": ["acme/*"], "expires_at": _future()},
        ),
        201,
    )
    old = created["plain_token"]
    assert _works(api, old)

    rotated = ok(api.post(f"/customers/{customer['id']}/tokens/{created['token']['id']}/rotate"))
    new = rotated["plain_token"]
    assert new != old and new.startswith("tok_")
    assert rotated["composer_auth"]["password"] == new
    same = {"id", "customer_id", "name", "scope", "package_scopes", "expires_at", "created_at"}
    assert {k: rotated["token"][k] for k in same} == {k: created["token"][k] for k in same}
    assert rotated["token"]["token_hint"] == f"{new[:4]}…{new[-4:]}"

    assert not _works(api, old), "the old secret must stop working at once"
    assert _works(api, new)
    assert _token_ids(api, customer["id"]) == sorted([customer["token_id"], created["token"]["id"]])

    # Rotating again retires the second secret too.
    newer = ok(api.post(f"/customers/{customer['id']}/tokens/{created['token']['id']}/rotate"))["plain_token"]
    assert not _works(api, new)
    assert _works(api, newer)


def test_legacy_regenerate_replaces_every_token(api: Api) -> None:
    customer = api.create_customer("Acme")
    scoped = ok(api.post(f"/customers/{customer['id']}/tokens", json={"scope": "download"}), 201)
    bystander = api.create_customer("Bystander")

    regenerated = ok(api.post(f"/customers/{customer['id']}/token/regenerate"))
    assert set(regenerated) == {"token", "plain_token", "composer_auth"}
    assert regenerated["token"]["scope"] == "admin"
    assert regenerated["token"]["name"] == "Default token"
    assert regenerated["token"]["customer_id"] == customer["id"]
    assert regenerated["composer_auth"]["password"] == regenerated["plain_token"]

    assert _token_ids(api, customer["id"]) == [regenerated["token"]["id"]]
    assert not _works(api, customer["token"])
    assert not _works(api, scoped["plain_token"])
    assert _works(api, regenerated["plain_token"])
    assert _works(api, bystander["token"])


def test_legacy_delete_revokes_every_token(api: Api) -> None:
    customer = api.create_customer("Acme")
    scoped = ok(api.post(f"/customers/{customer['id']}/tokens", json={"scope": "download"}), 201)
    bystander = api.create_customer("Bystander")

    assert ok(api.delete(f"/customers/{customer['id']}/token")) == {"revoked": 2}
    assert ok(api.get(f"/customers/{customer['id']}/tokens")) == []
    assert not _works(api, customer["token"])
    assert not _works(api, scoped["plain_token"])
    assert _works(api, bystander["token"])
    assert ok(api.delete(f"/customers/{customer['id']}/token")) == {"revoked": 0}
    # The customer itself stays.
    assert ok(api.get(f"/customers/{customer['id']}"))["status"] == "active"


# -- bad input ------------------------------------------------------------------------------------


def test_create_token_rejects_bad_input_and_writes_nothing(api: Api) -> None:
    customer = api.create_customer("Acme")
    path = f"/customers/{customer['id']}/tokens"
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    cases: list[tuple[Any, str]] = [
        ({"scope": "root"}, "scope"),
        ({"scope": 1}, "scope"),
        ({"scope": None}, "scope"),
        ({"package_scopes": "x"}, "package_scopes"),
        ({"package_scopes": "acme/*"}, "package_scopes"),
        ({"package_scopes": [123]}, "package_scopes[0]"),
        ({"package_scopes": ["acme/*", "no-slash"]}, "package_scopes[1]"),
        ({"package_scopes": ["acme/* evil"]}, "package_scopes[0]"),
        ({"package_scopes": [""]}, "package_scopes[0]"),
        ({"package_scopes": [f"acme/p{i}" for i in range(101)]}, "package_scopes"),
        ({"expires_at": "yesterday"}, "expires_at"),
        ({"expires_at": 12.5e20}, "expires_at"),
        ({"expires_at": past}, "expires_at"),
        ({"name": 123}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"token": "tok_chosen_by_me"}, "token"),
        ([], "body"),
    ]
    for body, field in cases:
        err(api.post(path, json=body), 400, "VALIDATION_ERROR", field)
    err(
        api.post(path, content=b"scope=download", headers={"Content-Type": "application/json"}),
        400,
        "VALIDATION_ERROR",
    )
    assert _token_ids(api, customer["id"]) == [customer["token_id"]]


def test_token_limit_per_customer(api: Api) -> None:
    customer = api.create_customer("Acme")
    path = f"/customers/{customer['id']}/tokens"
    for i in range(49):
        ok(api.post(path, json={"name": f"t{i}"}), 201)
    err(api.post(path, json={"name": "one too many"}), 400, "VALIDATION_ERROR", "customer")
    assert len(_token_ids(api, customer["id"])) == 50


def test_unknown_customer_or_token_is_not_found(api: Api) -> None:
    customer = api.create_customer("Acme")
    other = api.create_customer("Other")
    missing_customer = "cust_missing"
    for method, path, body in (
        ("POST", f"/customers/{missing_customer}/tokens", {"name": "x"}),
        ("GET", f"/customers/{missing_customer}/tokens", None),
        ("POST", f"/customers/{missing_customer}/token/regenerate", None),
        ("DELETE", f"/customers/{missing_customer}/token", None),
        ("GET", f"/customers/{customer['id']}/tokens/tok_missing", None),
        ("DELETE", f"/customers/{customer['id']}/tokens/tok_missing", None),
        ("POST", f"/customers/{customer['id']}/tokens/tok_missing/rotate", None),
        # A real token, but of another customer.
        ("GET", f"/customers/{customer['id']}/tokens/{other['token_id']}", None),
        ("DELETE", f"/customers/{customer['id']}/tokens/{other['token_id']}", None),
        ("POST", f"/customers/{customer['id']}/tokens/{other['token_id']}/rotate", None),
        ("GET", f"/customers/{missing_customer}/tokens/{other['token_id']}", None),
    ):
        err(api.request(method, path, json=body), 404, "NOT_FOUND")
    # Nothing happened to the other customer's token.
    assert _works(api, other["token"])
    assert _token_ids(api, other["id"]) == [other["token_id"]]
