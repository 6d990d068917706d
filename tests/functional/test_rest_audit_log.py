"""The audit log: one entry per write (customers, tokens, team), the gated endpoint, filters, retention."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from starlette.testclient import TestClient
from tests.functional.conftest import Api, Backend, err, ok

from cargoman.app import create_app
from cargoman.audit import service as audit_service
from cargoman.db.models import AuditEntry, Tenant
from cargoman.errors import ValidationFailed


@pytest.fixture(scope="module")
def _enterprise_client(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A second app on the same database in the enterprise edition (audit logs are Pro+)."""
    root = tmp_path_factory.mktemp(f"enterprise-{backend.kind}")
    settings = backend.settings.model_copy(
        update={
            "edition": "enterprise",
            "data_dir": root / "data",
            "storage_path": root / "data" / "packages",
            "task_enabled": False,
        }
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def enterprise(api: Api, _enterprise_client: TestClient) -> Api:
    """An enterprise-edition client over the emptied registry of ``api``."""
    return Api(_enterprise_client)


def _entries(api: Api, **params: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = ok(api.get("/audit", params={"per_page": 100, **params}))
    return data


def _one(entries: list[dict[str, Any]], action: str, resource_id: str | None = None) -> dict[str, Any]:
    matching = [e for e in entries if e["action"] == action and resource_id in (None, e["resource_id"])]
    assert len(matching) == 1, (action, resource_id, matching)
    return matching[0]


def test_reading_the_audit_log_needs_pro_but_recording_always_happens(api: Api, backend: Backend) -> None:
    customer = api.create_customer("Acme")
    err(api.get("/audit"), 403, "FEATURE_NOT_AVAILABLE")
    with backend.runtime.session_factory() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.resource_id == customer["id"]))
        )
    assert actions == ["customer.create"]


def test_every_write_leaves_exactly_one_entry(enterprise: Api) -> None:
    api = enterprise
    customer = api.create_customer("Acme", email="ops@acme.test")
    cid = customer["id"]
    ok(api.patch(f"/customers/{cid}", json={"name": "Acme Corp"}))
    ok(api.post(f"/customers/{cid}/suspend", json={"reason": "unpaid"}))
    ok(api.post(f"/customers/{cid}/reactivate"))
    ok(api.post(f"/customers/{cid}/freeze"))
    token = ok(api.post(f"/customers/{cid}/tokens", json={"name": "CI", "scope": "download"}), 201)
    tid = token["token"]["id"]
    rotated = ok(api.post(f"/customers/{cid}/tokens/{tid}/rotate"))
    ok(api.delete(f"/customers/{cid}/tokens/{tid}"))
    regenerated = ok(api.post(f"/customers/{cid}/token/regenerate"))
    ok(api.delete(f"/customers/{cid}/token"))
    credential = ok(api.post("/team/credentials", json={"name": "Ann", "level": "owner"}), 201)
    crid = credential["credential"]["id"]
    rotated_credential = ok(api.post(f"/team/credentials/{crid}/rotate"))
    ok(api.delete(f"/team/credentials/{crid}"))
    ok(api.delete(f"/customers/{cid}"))

    entries = _entries(api)
    assert Counter(e["action"] for e in entries) == {
        "customer.create": 1,
        "customer.update": 1,
        "customer.suspend": 1,
        "customer.reactivate": 1,
        "customer.freeze": 1,
        "customer.delete": 1,
        # The customer's first token, then the explicit one.
        "token.create": 2,
        "token.rotate": 1,
        "token.revoke": 1,
        "token.regenerate": 1,
        "token.revoke_all": 1,
        "credential.create": 1,
        "credential.rotate": 1,
        "credential.revoke": 1,
    }
    for entry in entries:
        assert (entry["actor"], entry["actor_kind"], entry["ip"]) == ("root", "root", "testclient")
    # Newest first.
    assert entries[0]["action"] == "customer.delete"
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)

    created = _one(entries, "customer.create", cid)
    assert created["resource_type"] == "customer"
    assert created["before"] is None
    assert created["after"]["name"] == "Acme" and created["after"]["email"] == "ops@acme.test"
    assert created["after"]["first_token_id"] == customer["token_id"]
    assert _one(entries, "token.create", customer["token_id"])["after"]["scope"] == "admin"

    updated = _one(entries, "customer.update", cid)
    assert (updated["before"], updated["after"]) == ({"name": "Acme"}, {"name": "Acme Corp"})
    suspended = _one(entries, "customer.suspend", cid)
    assert suspended["before"]["status"] == "active"
    assert (suspended["after"]["status"], suspended["after"]["status_reason"]) == ("suspended", "unpaid")
    reactivated = _one(entries, "customer.reactivate", cid)
    assert (reactivated["before"]["status"], reactivated["after"]["status"]) == ("suspended", "active")
    frozen = _one(entries, "customer.freeze", cid)
    assert frozen["after"] == {**frozen["after"], "status": "frozen", "frozen_versions": []}
    deleted = _one(entries, "customer.delete", cid)
    assert deleted["before"]["name"] == "Acme Corp" and deleted["after"] is None

    token_created = _one(entries, "token.create", tid)
    assert token_created["resource_type"] == "customer_token"
    assert token_created["after"]["scope"] == "download" and token_created["after"]["customer_id"] == cid
    token_rotated = _one(entries, "token.rotate", tid)
    assert token_rotated["before"] == {"token_hint": token["token"]["token_hint"]}
    assert token_rotated["after"] == {"token_hint": rotated["token"]["token_hint"]}
    token_revoked = _one(entries, "token.revoke", tid)
    assert token_revoked["before"]["name"] == "CI" and token_revoked["after"]["revoked_at"] is not None
    regenerate = _one(entries, "token.regenerate", cid)
    assert regenerate["before"] == {"token_ids": [customer["token_id"]]}
    assert regenerate["after"]["token_id"] == regenerated["token"]["id"]
    revoke_all = _one(entries, "token.revoke_all", cid)
    assert revoke_all["before"] == {"token_ids": [regenerated["token"]["id"]]}
    assert revoke_all["after"] == {"revoked": 1}

    credential_created = _one(entries, "credential.create", crid)
    assert credential_created["resource_type"] == "admin_credential"
    assert credential_created["after"]["level"] == "owner" and credential_created["after"]["name"] == "Ann"
    credential_rotated = _one(entries, "credential.rotate", crid)
    assert credential_rotated["after"] == {"token_hint": rotated_credential["credential"]["token_hint"]}
    assert _one(entries, "credential.revoke", crid)["after"]["revoked_at"] is not None

    # No secret reaches the log.
    dumped = json.dumps(entries)
    for secret in (
        customer["token"],
        token["plain_token"],
        rotated["plain_token"],
        regenerated["plain_token"],
        credential["plain_token"],
        rotated_credential["plain_token"],
    ):
        assert secret not in dumped
    assert "digest" not in dumped


def test_a_refused_or_invalid_write_leaves_no_entry(enterprise: Api) -> None:
    customer = enterprise.create_customer("Acme")
    before = _entries(enterprise)
    err(
        enterprise.patch(f"/customers/{customer['id']}", json={"email": "nope"}),
        400,
        "VALIDATION_ERROR",
        "email",
    )
    err(enterprise.post("/customers/cust_missing/suspend"), 404, "NOT_FOUND")
    err(
        enterprise.post(f"/customers/{customer['id']}/tokens", json={"scope": "root"}),
        400,
        "VALIDATION_ERROR",
    )
    assert _entries(enterprise) == before


def test_filters_and_pagination(enterprise: Api) -> None:
    api = enterprise
    owner = ok(api.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    admin = ok(
        api.post("/team/credentials", json={"name": "Adam", "level": "admin"}, token=owner["plain_token"]),
        201,
    )
    acme = api.create_customer("Acme")
    globex = ok(api.post("/customers", json={"name": "Globex"}, token=admin["plain_token"]), 201)
    ok(api.post(f"/customers/{acme['id']}/suspend"))

    everything = _entries(api)
    assert len(everything) == 7  # 2 credentials, 2 customers + their 2 first tokens, 1 suspend

    by_admin = _entries(api, actor=admin["credential"]["id"])
    assert {(e["action"], e["resource_id"]) for e in by_admin} == {
        ("customer.create", globex["id"]),
        ("token.create", globex["token_id"]),
    }
    assert all(e["actor_kind"] == "cma" for e in by_admin)
    by_owner = _entries(api, actor=owner["credential"]["id"])
    assert [e["action"] for e in by_owner] == ["credential.create"]
    assert by_owner[0]["resource_id"] == admin["credential"]["id"]

    assert [e["resource_id"] for e in _entries(api, action="customer.create")] == [globex["id"], acme["id"]]
    assert {e["action"] for e in _entries(api, resource_type="admin_credential")} == {"credential.create"}
    assert [e["action"] for e in _entries(api, resource_type="customer", resource_id=acme["id"])] == [
        "customer.suspend",
        "customer.create",
    ]
    assert _entries(api, action="customer.create", actor="nobody") == []

    newest = datetime.fromisoformat(everything[0]["created_at"])
    oldest = datetime.fromisoformat(everything[-1]["created_at"])
    assert len(_entries(api, since=oldest.isoformat())) == 7
    assert _entries(api, since=(newest + timedelta(seconds=1)).isoformat()) == []
    assert _entries(api, until=oldest.isoformat()) == []
    assert len(_entries(api, until=(newest + timedelta(seconds=1)).isoformat())) == 7
    err(
        api.get("/audit", params={"since": newest.isoformat(), "until": oldest.isoformat()}),
        400,
        "VALIDATION_ERROR",
        "until",
    )
    err(api.get("/audit", params={"since": "yesterday"}), 400, "VALIDATION_ERROR", "since")
    # A bare number is not read as a Unix timestamp.
    err(api.get("/audit", params={"until": "0.5"}), 400, "VALIDATION_ERROR", "until")

    first = api.get("/audit", params={"per_page": 3})
    assert first.json()["pagination"] == {"page": 1, "per_page": 3, "total": 7, "total_pages": 3}
    pages = [ok(api.get("/audit", params={"per_page": 3, "page": page})) for page in (1, 2, 3)]
    assert [e["id"] for page in pages for e in page] == [e["id"] for e in everything]
    err(api.get("/audit", params={"per_page": 101}), 400, "VALIDATION_ERROR", "per_page")


def test_a_viewer_may_read_the_audit_log(enterprise: Api) -> None:
    owner = ok(enterprise.post("/team/credentials", json={"name": "O", "level": "owner"}), 201)
    viewer = ok(enterprise.post("/team/credentials", json={"name": "V", "level": "viewer"}), 201)
    entries = ok(enterprise.get("/audit", token=viewer["plain_token"]))
    assert {e["resource_id"] for e in entries} == {owner["credential"]["id"], viewer["credential"]["id"]}


# -- retention ------------------------------------------------------------------------------------

OTHER_TENANT = "audit-other-tenant"


def _add_entry(backend: Backend, tenant_id: str, action: str, age: timedelta) -> None:
    with backend.runtime.session_factory() as session:
        if session.get(Tenant, tenant_id) is None:
            session.add(Tenant(id=tenant_id, slug=tenant_id, name=tenant_id))
            session.flush()  # no ORM relationship orders the tenant before its entry
        session.add(
            AuditEntry(
                tenant_id=tenant_id,
                actor="root",
                actor_kind="root",
                action=action,
                resource_type="customer",
                resource_id=action,
                created_at=datetime.now(UTC) - age,
            )
        )
        session.commit()


@pytest.fixture
def other_tenant(backend: Backend) -> Iterator[str]:
    """A second tenant for this test only (the per-test reset keeps tenants)."""
    yield OTHER_TENANT
    with backend.runtime.session_factory() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.tenant_id == OTHER_TENANT))
        session.execute(delete(Tenant).where(Tenant.id == OTHER_TENANT))
        session.commit()


def test_purge_keeps_the_retention_period_of_the_tenant_only(
    api: Api, backend: Backend, other_tenant: str
) -> None:
    retention = backend.settings.audit_log_retention_days
    _add_entry(backend, "default", "old", timedelta(days=retention, hours=1))
    _add_entry(backend, "default", "recent", timedelta(days=retention - 1))
    _add_entry(backend, other_tenant, "other-old", timedelta(days=retention + 5))

    with backend.runtime.unit_of_work("worker") as ctx:
        assert audit_service.purge_older_than(ctx) == 1
    with backend.runtime.unit_of_work("worker") as ctx:
        assert audit_service.purge_older_than(ctx) == 0
        with pytest.raises(ValidationFailed):
            audit_service.purge_older_than(ctx, 0)

    with backend.runtime.session_factory() as session:
        left = {(e.tenant_id, e.action) for e in session.scalars(select(AuditEntry))}
        purge = session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.purge"))
    assert left == {("default", "recent"), ("default", "audit.purge"), (other_tenant, "other-old")}
    assert purge is not None and purge.actor == "worker"
    assert purge.after is not None and purge.after["deleted"] == 1

    # A shorter explicit period.
    with backend.runtime.unit_of_work("worker") as ctx:
        assert audit_service.purge_older_than(ctx, days=retention - 2) == 1
