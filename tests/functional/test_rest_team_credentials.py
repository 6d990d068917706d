"""REST: team credentials (CMA tokens) — lifecycle, bootstrap rule, levels, seats, storage."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.functional.conftest import Api, Backend, err, ok

from cargoman.db.models import AdminCredential, AuditEntry, Customer

CREDENTIAL_FIELDS = {
    "id",
    "name",
    "email",
    "level",
    "token_hint",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "last_used_ip",
    "created_by",
    "created_at",
}
CMA_TOKEN = re.compile(r"^cma_[A-Za-z0-9]{32}$")


def _future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _create(api: Api, level: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": name or f"{level} person", "level": level, **fields}
    data: dict[str, Any] = ok(api.post("/team/credentials", json=body), 201)
    return data


def _team(api: Api) -> dict[str, dict[str, Any]]:
    """An owner (the bootstrap credential), an admin and a viewer: name -> created response."""
    return {level: _create(api, level) for level in ("owner", "admin", "viewer")}


def _audit_rows(backend: Backend) -> list[AuditEntry]:
    with backend.runtime.session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# -- lifecycle ------------------------------------------------------------------------------------


def test_credential_lifecycle_create_use_rotate_revoke(api: Api) -> None:
    expires = _future()
    created = _create(api, "owner", "Alice", email="alice@example.com", expires_at=expires)
    credential, plain = created["credential"], created["plain_token"]
    assert set(created) == {"credential", "plain_token"}
    assert set(credential) == CREDENTIAL_FIELDS
    assert CMA_TOKEN.match(plain)
    assert credential["id"].startswith("cma_") and credential["id"] != plain
    assert credential["name"] == "Alice"
    assert credential["email"] == "alice@example.com"
    assert credential["level"] == "owner"
    assert credential["token_hint"] == f"{plain[:4]}…{plain[-4:]}"
    assert datetime.fromisoformat(credential["expires_at"]) == datetime.fromisoformat(expires)
    assert credential["created_by"] == "root"
    assert credential["last_used_at"] is None and credential["revoked_at"] is None

    listed = api.get("/team/credentials")
    assert ok(listed) == [credential]
    assert listed.json()["pagination"] == {"page": 1, "per_page": 20, "total": 1, "total_pages": 1}

    # The token works like the root token, and its use is recorded.
    assert ok(api.get("/customers", token=plain)) == []
    used = ok(api.get(f"/team/credentials/{credential['id']}"))
    assert used["last_used_at"] is not None
    assert used["last_used_ip"] == "testclient"
    # The plain token is never shown again.
    assert plain not in api.get(f"/team/credentials/{credential['id']}").text

    rotated = ok(api.post(f"/team/credentials/{credential['id']}/rotate"))
    new_plain = rotated["plain_token"]
    assert CMA_TOKEN.match(new_plain) and new_plain != plain
    assert rotated["credential"]["id"] == credential["id"]
    assert rotated["credential"]["level"] == "owner"
    assert rotated["credential"]["token_hint"] == f"{new_plain[:4]}…{new_plain[-4:]}"
    err(api.get("/customers", token=plain), 401, "UNAUTHORIZED")
    ok(api.get("/customers", token=new_plain))

    revoked = ok(api.delete(f"/team/credentials/{credential['id']}"))
    assert revoked["revoked_at"] is not None
    err(api.get("/customers", token=new_plain), 401, "UNAUTHORIZED")
    err(api.get(f"/team/credentials/{credential['id']}"), 404, "NOT_FOUND")
    err(api.delete(f"/team/credentials/{credential['id']}"), 404, "NOT_FOUND")
    err(api.post(f"/team/credentials/{credential['id']}/rotate"), 404, "NOT_FOUND")
    assert ok(api.get("/team/credentials")) == []


def test_an_owner_credential_manages_the_team(api: Api) -> None:
    owner = _create(api, "owner")["plain_token"]
    created = api.post("/team/credentials", json={"name": "Val", "level": "viewer"}, token=owner)
    viewer = ok(created, 201)["credential"]
    assert viewer["created_by"] == _credential_id(api, owner)
    assert {c["level"] for c in ok(api.get("/team/credentials", token=owner))} == {"owner", "viewer"}
    ok(api.delete(f"/team/credentials/{viewer['id']}", token=owner))


def _credential_id(api: Api, plain: str) -> str:
    hint = f"{plain[:4]}…{plain[-4:]}"
    return next(c["id"] for c in ok(api.get("/team/credentials")) if c["token_hint"] == hint)


def test_unknown_credential_is_404(api: Api) -> None:
    _create(api, "owner")
    for response in (
        api.get("/team/credentials/cma_missing"),
        api.delete("/team/credentials/cma_missing"),
        api.post("/team/credentials/cma_missing/rotate"),
    ):
        err(response, 404, "NOT_FOUND")


# -- input and bootstrap --------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["admin", "viewer"])
def test_first_credential_must_be_an_owner(api: Api, level: str) -> None:
    err(
        api.post("/team/credentials", json={"name": "First", "level": level}),
        400,
        "VALIDATION_ERROR",
        "level",
    )
    assert ok(api.get("/team/credentials")) == []
    _create(api, "owner")
    _create(api, level)


def test_bootstrap_again_once_every_credential_is_revoked(api: Api) -> None:
    owner = _create(api, "owner")["credential"]
    ok(api.delete(f"/team/credentials/{owner['id']}"))
    err(api.post("/team/credentials", json={"name": "x", "level": "admin"}), 400, "VALIDATION_ERROR", "level")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "level": "superuser"}, "level"),
        ({"name": "x"}, "level"),
        ({"name": "", "level": "owner"}, "name"),
        ({"name": "   ", "level": "owner"}, "name"),
        ({"name": "x", "level": "owner", "email": "not-an-email"}, "email"),
        ({"name": "x", "level": "owner", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "level": "owner", "expires_at": "soon"}, "expires_at"),
        ({"name": "x", "level": "owner", "token": "cma_mine"}, "token"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    api: Api, backend: Backend, body: dict[str, Any], field: str
) -> None:
    err(api.post("/team/credentials", json=body), 400, "VALIDATION_ERROR", field)
    assert ok(api.get("/team/credentials")) == []
    assert _audit_rows(backend) == []


def test_community_edition_has_three_team_seats(api: Api) -> None:
    assert api.client.get("/health").json()["edition"] == "community"
    team = _team(api)
    error = err(
        api.post("/team/credentials", json={"name": "4th", "level": "viewer"}), 403, "FEATURE_NOT_AVAILABLE"
    )
    assert "3 team seats" in error["message"]
    assert len(ok(api.get("/team/credentials"))) == 3
    # Revoking frees a seat.
    ok(api.delete(f"/team/credentials/{team['viewer']['credential']['id']}"))
    _create(api, "viewer", "replacement")


def test_an_expired_credential_frees_its_seat_and_is_refused(api: Api, backend: Backend) -> None:
    team = _team(api)
    viewer = team["viewer"]
    with backend.runtime.session_factory() as session:
        session.execute(
            update(AdminCredential)
            .where(AdminCredential.id == viewer["credential"]["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    err(api.get("/customers", token=viewer["plain_token"]), 401, "UNAUTHORIZED")
    _create(api, "viewer", "replacement")


# -- levels -----------------------------------------------------------------------------------------


TEAM_ROUTES = [
    ("GET", "/team/credentials", None),
    ("POST", "/team/credentials", {"name": "x", "level": "viewer"}),
    ("GET", "/team/credentials/{id}", None),
    ("DELETE", "/team/credentials/{id}", None),
    ("POST", "/team/credentials/{id}/rotate", None),
]


@pytest.mark.parametrize("level", ["admin", "viewer"])
def test_only_owners_manage_the_team(api: Api, level: str) -> None:
    team = _team(api)
    caller = team[level]["plain_token"]
    target = team["owner"]["credential"]["id"]
    for method, path, body in TEAM_ROUTES:
        response = api.request(method, path.format(id=target), token=caller, json=body)
        err(response, 403, "FORBIDDEN")
    # Nothing changed: still three credentials, the owner's token still works.
    assert len(ok(api.get("/team/credentials"))) == 3
    ok(api.get("/team/credentials", token=team["owner"]["plain_token"]))


def test_viewer_reads_but_every_write_is_refused_and_logged(
    api: Api, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    team = _team(api)
    viewer = team["viewer"]["plain_token"]
    customer = api.create_customer("Acme")
    audit_before = len(_audit_rows(backend))

    assert [c["id"] for c in ok(api.get("/customers", token=viewer))] == [customer["id"]]
    ok(api.get(f"/customers/{customer['id']}", token=viewer))
    ok(api.get("/packages", token=viewer))

    with caplog.at_level(logging.WARNING, logger="cargoman.auth"):
        err(api.post("/customers", json={"name": "Sneaky"}, token=viewer), 403, "FORBIDDEN")
        err(api.patch(f"/customers/{customer['id']}", json={"name": "x"}, token=viewer), 403, "FORBIDDEN")
        err(api.post(f"/customers/{customer['id']}/suspend", token=viewer), 403, "FORBIDDEN")
        err(api.delete(f"/customers/{customer['id']}", token=viewer), 403, "FORBIDDEN")
    refusals = [r for r in caplog.records if r.name == "cargoman.auth" and "refused" in r.getMessage()]
    assert len(refusals) == 4
    viewer_id = team["viewer"]["credential"]["id"]
    assert all(viewer_id in r.getMessage() for r in refusals)

    with backend.runtime.session_factory() as session:
        names = list(session.scalars(select(Customer.name)))
        status = session.scalar(select(Customer.status).where(Customer.id == customer["id"]))
    assert names == ["Acme"] and status == "active"
    assert len(_audit_rows(backend)) == audit_before


def test_an_admin_credential_writes_and_is_the_audited_actor(api: Api, backend: Backend) -> None:
    team = _team(api)
    admin = team["admin"]
    created = ok(api.post("/customers", json={"name": "Made by admin"}, token=admin["plain_token"]), 201)
    [entry] = [e for e in _audit_rows(backend) if e.action == "customer.create"]
    assert entry.resource_id == created["id"]
    assert entry.actor == admin["credential"]["id"]
    assert entry.actor_kind == "cma"
    assert entry.ip == "testclient"


# -- storage and usage tracking -------------------------------------------------------------------


def test_only_digests_are_stored(api: Api, backend: Backend) -> None:
    created = _create(api, "owner")
    plain = created["plain_token"]
    rotated = ok(api.post(f"/team/credentials/{created['credential']['id']}/rotate"))["plain_token"]
    with backend.runtime.session_factory() as session:
        [row] = session.scalars(select(AdminCredential))
        stored = [str(getattr(row, column.key)) for column in AdminCredential.__table__.columns]
    assert row.token_digest == hashlib.sha256(rotated.encode()).hexdigest()
    for secret in (plain, rotated):
        assert not any(secret in value for value in stored)
        assert not any(secret[4:] in value for value in stored)
    dumped = " ".join(f"{e.before} {e.after}" for e in _audit_rows(backend))
    for secret in (plain, rotated, row.token_digest, hashlib.sha256(plain.encode()).hexdigest()):
        assert secret not in dumped


def test_last_use_is_not_written_on_every_request(api: Api, backend: Backend) -> None:
    created = _create(api, "owner")

    def last_used() -> datetime | None:
        with backend.runtime.session_factory() as session:
            return session.scalar(
                select(AdminCredential.last_used_at).where(AdminCredential.id == created["credential"]["id"])
            )

    assert last_used() is None
    ok(api.get("/customers", token=created["plain_token"]))
    first = last_used()
    assert first is not None
    for _ in range(3):
        ok(api.get("/customers", token=created["plain_token"]))
    # Within the write interval, further uses do not touch the row.
    assert last_used() == first
