"""Customer JWTs: issuing them (REST) and using them as download credentials (Composer endpoints)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from sqlalchemy import select
from tests.functional.conftest import Api, Backend, basic, err, ok, p2_versions
from tests.support.gitrepo import GitRepo

from cargoman.db.models import DEFAULT_TENANT_ID as TENANT
from cargoman.db.models import AuditEntry, CustomerToken

SECRET = "functional-jwt-secret-with-enough-entropy-0123456789"


@pytest.fixture
def jwt_api(api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The registry with JWT_SECRET set (the server reads it per request), one hour of validity."""
    monkeypatch.setattr(backend.settings, "jwt_secret", SECRET)
    monkeypatch.setattr(backend.settings, "jwt_expiry", 3600)
    return api


@pytest.fixture
def granted(jwt_api: Api, make_library_repo: Callable[..., GitRepo]) -> tuple[Api, dict[str, Any]]:
    """acme/core (1.0.0, 2.0.0) granted ^1.0 to a customer; acme/other exists but is not granted."""
    api = jwt_api
    for name in ("acme/core", "acme/other"):
        api.add_package(make_library_repo(name, tags=("1.0.0", "2.0.0")).url)
    customer = api.create_customer("JWT user")
    grant = {"package": "acme/core", "constraint": "^1.0"}
    ok(api.post(f"/customers/{customer['id']}/packages", json=grant), 201)
    return api, customer


def _issue(api: Api, customer_id: str) -> dict[str, Any]:
    data: dict[str, Any] = ok(api.post(f"/customers/{customer_id}/jwt"))
    return data


def _signed(claims: dict[str, Any], secret: str | None = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _claims(customer_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": customer_id,
        "tenant": TENANT,
        "iat": now,
        "exp": now + 600,
        "jti": "test-jti",
        "typ": "customer",
        **overrides,
    }


def test_issuing_needs_jwt_secret(api: Api, backend: Backend) -> None:
    assert backend.settings.jwt_secret is None
    customer = api.create_customer("Acme")
    error = err(api.post(f"/customers/{customer['id']}/jwt"), 400, "VALIDATION_ERROR", "jwt_secret")
    assert "JWT_SECRET" in error["message"]


def test_issue_returns_a_signed_token_with_the_documented_claims(jwt_api: Api, backend: Backend) -> None:
    api = jwt_api
    customer = api.create_customer("Acme")
    issued = _issue(api, customer["id"])
    assert set(issued) == {"token", "token_type", "expires_at", "expires_in", "composer_auth"}
    assert issued["expires_in"] == 3600
    assert issued["composer_auth"] == {
        "username": "token",
        "password": issued["token"],
        "repository_url": "http://testserver",
    }
    claims = jwt.decode(issued["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == customer["id"]
    assert claims["tenant"] == TENANT
    assert claims["typ"] == "customer"
    assert claims["exp"] - claims["iat"] == 3600
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert _issue(api, customer["id"])["token"] != issued["token"]  # a fresh jti each time

    err(api.post("/customers/cust_missing/jwt"), 404, "NOT_FOUND")
    with backend.runtime.session_factory() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.jwt_issue")))
        # Nothing is stored for a JWT: it is not a customer token row.
        stored_tokens = list(session.scalars(select(CustomerToken.id)))
    assert len(entries) == 2
    assert {e.resource_id for e in entries} == {customer["id"]}
    recorded = [e.after or {} for e in entries]
    assert claims["jti"] in {r["jti"] for r in recorded} and len({r["jti"] for r in recorded}) == 2
    assert all("token" not in r for r in recorded)  # the token itself is never written down
    assert len(stored_tokens) == 1  # the customer's first token only


def test_a_jwt_downloads_what_the_customer_is_granted(granted: tuple[Api, dict[str, Any]]) -> None:
    api, customer = granted
    token = _issue(api, customer["id"])["token"]

    root = api.composer("/packages.json", token)
    assert root.status_code == 200, root.text
    assert root.json()["available-packages"] == ["acme/core"]
    assert p2_versions(api, "acme/core", token) == ["1.0.0"]
    assert api.composer("/dist/acme/core/1.0.0.zip", token).status_code == 200
    assert api.composer("/dist/acme/core/2.0.0.zip", token).status_code == 404
    assert api.composer("/p2/acme/other.json", token).status_code == 403
    assert api.composer("/p2/acme/unknown.json", token).status_code == 404
    bearer = api.client.get("/p2/acme/core.json", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200

    # A grant added later is seen through the same JWT.
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/other"}), 201)
    assert api.composer("/packages.json", token).json()["available-packages"] == ["acme/core", "acme/other"]

    # Suspension applies to JWTs like to any credential of the customer.
    ok(api.post(f"/customers/{customer['id']}/suspend", json={"reason": "Unpaid"}))
    suspended = api.composer("/packages.json", token)
    assert suspended.status_code == 403
    assert suspended.json()["error"]["code"] == "CUSTOMER_SUSPENDED"
    ok(api.post(f"/customers/{customer['id']}/reactivate"))
    assert api.composer("/packages.json", token).status_code == 200

    # A JWT is no management credential.
    assert api.get("/customers", token=token).status_code == 401


def test_forged_foreign_or_malformed_jwts_are_refused(granted: tuple[Api, dict[str, Any]]) -> None:
    api, customer = granted
    good = _signed(_claims(customer["id"]))
    assert api.composer("/packages.json", good).status_code == 200

    # Re-pointing a genuine token at another (existing, granted) customer breaks its signature.
    other = api.create_customer("Other customer")
    ok(api.post(f"/customers/{other['id']}/packages", json={"package": "acme/other"}), 201)
    header, _payload, signature = good.split(".")
    elevated = dict(_claims(customer["id"]), sub=other["id"])
    forged_payload = base64.urlsafe_b64encode(json.dumps(elevated).encode()).rstrip(b"=").decode()
    refused = {
        "other secret": _signed(_claims(customer["id"]), secret="not-the-server-secret-0123456789abcdef"),
        "tampered payload": f"{header}.{forged_payload}.{signature}",
        "unsigned": _signed(_claims(customer["id"]), secret=None, algorithm="none"),
        "wrong type": _signed(_claims(customer["id"], typ="admin")),
        "other tenant": _signed(_claims(customer["id"], tenant="other-tenant")),
        "unknown customer": _signed(_claims("cust_missing")),
        "no expiry": _signed({k: v for k, v in _claims(customer["id"]).items() if k != "exp"}),
        "garbage": "not.a.jwt",
    }
    for label, token in refused.items():
        for headers in (basic(token), {"Authorization": f"Bearer {token}"}):
            response = api.client.get("/packages.json", headers=headers)
            assert response.status_code == 401, (label, response.text)
            assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_jwts_stop_working_when_the_secret_is_unset(
    granted: tuple[Api, dict[str, Any]], backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, customer = granted
    token = _issue(api, customer["id"])["token"]
    monkeypatch.setattr(backend.settings, "jwt_secret", None)
    backend.runtime.notify_changed()  # drop cached credentials, as a restart would
    assert api.composer("/packages.json", token).status_code == 401


def test_an_expired_jwt_is_refused_even_after_being_cached(
    granted: tuple[Api, dict[str, Any]], backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, customer = granted
    past = int(time.time()) - 120
    expired = _signed(_claims(customer["id"], iat=past - 60, exp=past))
    assert api.composer("/packages.json", expired).status_code == 401

    monkeypatch.setattr(backend.settings, "jwt_expiry", 3)
    issued = _issue(api, customer["id"])
    token = issued["token"]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3
    # Used (and so cached) while valid; then refused once `exp` passes, with no other change.
    assert api.composer("/packages.json", token).status_code == 200
    deadline = time.monotonic() + 15
    while (answer := api.composer("/packages.json", token)).status_code == 200:
        assert time.monotonic() < deadline, "the JWT never expired"
        time.sleep(0.1)
    assert answer.status_code == 401
    assert time.time() >= claims["exp"]
    assert api.composer("/p2/acme/core.json", token).status_code == 401
