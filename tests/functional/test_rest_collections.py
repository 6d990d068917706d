"""REST: collections (CRUD, errors) and grants on collections as Composer clients see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from tests.functional.conftest import Api, Backend, basic, err, ok, p2_versions
from tests.support.gitrepo import GitRepo

from cargoman.db.models import AuditEntry

PACKAGES = ("acme/core", "acme/addon", "acme/extra")


@pytest.fixture
def catalog(api: Api, make_library_repo: Callable[..., GitRepo]) -> Api:
    """Three synced packages, each with tags 1.0.0 and 2.0.0.

    The syncs are awaited before the test: a sync committing while the test writes grants can
    deadlock on PostgreSQL (see test_concurrent_change_stamps.py).
    """
    repos = {name: make_library_repo(name, tags=("1.0.0", "2.0.0")) for name in PACKAGES}
    tasks = [api.add_package(repo.url, wait=False)["sync_task"]["id"] for repo in repos.values()]
    for task_id in tasks:
        assert api.wait_for_task(task_id)["status"] == "completed"
    return api


def _create(api: Api, slug: str, packages: list[str], **fields: Any) -> dict[str, Any]:
    body = {"name": slug.title(), "slug": slug, "packages": packages, **fields}
    data: dict[str, Any] = ok(api.post("/collections", json=body), 201)
    return data


def _grant_collection(api: Api, customer_id: str, slug: str, constraint: str = "*") -> dict[str, Any]:
    body = {"collection": slug, "constraint": constraint}
    data: dict[str, Any] = ok(api.post(f"/customers/{customer_id}/packages", json=body), 201)
    return data


def _visible(api: Api, secret: str) -> list[str]:
    response = api.composer("/packages.json", secret)
    assert response.status_code == 200, response.text
    names: list[str] = response.json()["available-packages"]
    return names


def _audit_actions(backend: Backend, resource_type: str) -> list[str]:
    with backend.runtime.session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.resource_type == resource_type)
                .order_by(AuditEntry.id)
            )
        )


# -- CRUD -------------------------------------------------------------------------------------------


def test_create_get_list_update_delete(catalog: Api, backend: Backend) -> None:
    api = catalog
    created = _create(api, "enterprise", ["acme/core", "ACME/Addon"], description="Everything")
    assert set(created) == {"slug", "name", "description", "packages", "created_at", "updated_at"}
    assert created["slug"] == "enterprise"
    assert created["name"] == "Enterprise"
    assert created["description"] == "Everything"
    assert created["packages"] == ["acme/addon", "acme/core"]
    assert ok(api.get("/collections/enterprise")) == created

    _create(api, "basic", [])
    page = api.get("/collections", params={"per_page": 1})
    assert page.status_code == 200
    assert [c["slug"] for c in page.json()["data"]] == ["basic"]
    assert page.json()["pagination"] == {"page": 1, "per_page": 1, "total": 2, "total_pages": 2}
    assert [c["slug"] for c in ok(api.get("/collections"))] == ["basic", "enterprise"]

    renamed = ok(api.patch("/collections/enterprise", json={"name": "Enterprise Suite"}))
    assert renamed["name"] == "Enterprise Suite"
    assert renamed["packages"] == ["acme/addon", "acme/core"]  # untouched when not given
    assert renamed["description"] == "Everything"
    change = {"packages": ["acme/extra"], "description": None}
    replaced = ok(api.patch("/collections/enterprise", json=change))
    assert replaced["packages"] == ["acme/extra"]
    assert replaced["description"] is None
    assert ok(api.get("/collections/enterprise"))["packages"] == ["acme/extra"]

    assert ok(api.delete("/collections/enterprise")) == {"deleted": True}
    err(api.get("/collections/enterprise"), 404, "NOT_FOUND")
    err(api.delete("/collections/enterprise"), 404, "NOT_FOUND")
    assert [c["slug"] for c in ok(api.get("/collections"))] == ["basic"]
    assert _audit_actions(backend, "collection") == [
        "collection.create",
        "collection.create",
        "collection.update",
        "collection.update",
        "collection.delete",
    ]


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(catalog: Api, backend: Backend) -> None:
    api = catalog
    base = {"name": "Suite", "slug": "suite", "packages": ["acme/core"]}
    for slug in ("Suite", "-suite", "su_ite", "suite!", "x" * 101):
        err(api.post("/collections", json={**base, "slug": slug}), 400, "VALIDATION_ERROR", "slug")
    err(api.post("/collections", json={**base, "name": "  "}), 400, "VALIDATION_ERROR", "name")
    missing_name = {k: v for k, v in base.items() if k != "name"}
    err(api.post("/collections", json=missing_name), 400, "VALIDATION_ERROR", "name")
    unknown = {**base, "packages": ["acme/core", "acme/nope"]}
    error = err(api.post("/collections", json=unknown), 400, "VALIDATION_ERROR", "packages[1]")
    assert "acme/nope" in error["message"]
    invalid = {**base, "packages": ["not a name"]}
    err(api.post("/collections", json=invalid), 400, "VALIDATION_ERROR", "packages[0]")
    twice = {**base, "packages": ["acme/core", "Acme/Core"]}
    err(api.post("/collections", json=twice), 400, "VALIDATION_ERROR", "packages[1]")
    err(api.post("/collections", json={**base, "owner": "me"}), 400, "VALIDATION_ERROR", "owner")
    assert ok(api.get("/collections")) == []
    assert _audit_actions(backend, "collection") == []

    _create(api, "suite", ["acme/core"])
    err(api.post("/collections", json={**base, "packages": []}), 409, "CONFLICT")
    err(api.patch("/collections/suite", json={"slug": "other"}), 400, "VALIDATION_ERROR", "slug")
    err(api.patch("/collections/suite", json={"packages": None}), 400, "VALIDATION_ERROR", "packages")
    err(api.patch("/collections/suite", json={"name": None}), 400, "VALIDATION_ERROR", "name")
    # A bad package list changes nothing, not even the name given with it.
    bad = {"name": "Renamed", "packages": ["acme/addon", "acme/missing"]}
    err(api.patch("/collections/suite", json=bad), 400, "VALIDATION_ERROR", "packages[1]")
    unchanged = ok(api.get("/collections/suite"))
    assert (unchanged["name"], unchanged["packages"]) == ("Suite", ["acme/core"])
    err(api.patch("/collections/missing", json={"name": "X"}), 404, "NOT_FOUND")
    assert _audit_actions(backend, "collection") == ["collection.create"]


# -- collection grants on the Composer endpoints --------------------------------------------------


def test_a_collection_grant_reaches_current_and_future_packages_at_once(catalog: Api) -> None:
    api = catalog
    _create(api, "suite", ["acme/core"])
    customer = api.create_customer("Holder")
    secret = customer["token"]
    grant = _grant_collection(api, customer["id"], "suite", "^1.0")
    assert grant["collection"] == "suite"
    assert grant["package"] is None
    assert grant["constraint"] == "^1.0"
    assert ok(api.get(f"/customers/{customer['id']}/packages")) == [grant]

    assert _visible(api, secret) == ["acme/core"]
    assert p2_versions(api, "acme/core", secret) == ["1.0.0"]  # the grant's constraint applies
    assert api.composer("/p2/acme/addon.json", secret).status_code == 403

    # Added to the collection after the grant: visible on the next request.
    ok(api.patch("/collections/suite", json={"packages": ["acme/core", "acme/addon"]}))
    assert _visible(api, secret) == ["acme/addon", "acme/core"]
    assert p2_versions(api, "acme/addon", secret) == ["1.0.0"]
    assert api.composer("/dist/acme/addon/1.0.0.zip", secret).status_code == 200
    assert api.composer("/dist/acme/addon/2.0.0.zip", secret).status_code == 404

    # Taken out of the collection: hidden on the next request.
    ok(api.patch("/collections/suite", json={"packages": ["acme/addon"]}))
    assert _visible(api, secret) == ["acme/addon"]
    assert api.composer("/p2/acme/core.json", secret).status_code == 403

    # A customer without the grant sees none of it.
    other = api.create_customer("Other")
    assert _visible(api, other["token"]) == []


def test_removing_the_grant_or_deleting_the_collection_hides_its_packages(catalog: Api) -> None:
    api = catalog
    _create(api, "suite", ["acme/core", "acme/addon"])
    first = api.create_customer("First")
    second = api.create_customer("Second")
    _grant_collection(api, first["id"], "suite")
    _grant_collection(api, second["id"], "suite")
    assert _visible(api, first["token"]) == ["acme/addon", "acme/core"]

    assert ok(api.delete(f"/customers/{first['id']}/collections/suite")) == {"deleted": True}
    assert _visible(api, first["token"]) == []
    assert ok(api.get(f"/customers/{first['id']}/packages")) == []
    err(api.delete(f"/customers/{first['id']}/collections/suite"), 404, "NOT_FOUND")
    err(api.delete(f"/customers/{first['id']}/collections/missing"), 404, "NOT_FOUND")

    assert _visible(api, second["token"]) == ["acme/addon", "acme/core"]
    ok(api.delete("/collections/suite"))
    assert _visible(api, second["token"]) == []
    assert api.composer("/p2/acme/core.json", second["token"]).status_code == 403
    assert ok(api.get(f"/customers/{second['id']}/packages")) == []


def test_direct_and_collection_grants_add_up(catalog: Api) -> None:
    api = catalog
    _create(api, "suite", ["acme/addon"])
    customer = api.create_customer("Both")
    secret = customer["token"]
    direct = {"package": "acme/core", "constraint": "^1.0"}
    ok(api.post(f"/customers/{customer['id']}/packages", json=direct), 201)
    _grant_collection(api, customer["id"], "suite", "^2.0")
    assert p2_versions(api, "acme/core", secret) == ["1.0.0"]
    first = api.composer("/p2/acme/core.json", secret)
    last_modified = first.headers["last-modified"]

    # acme/core joins the collection: now granted ^1.0 directly and ^2.0 through it -> both.
    ok(api.patch("/collections/suite", json={"packages": ["acme/addon", "acme/core"]}))
    revalidated = api.client.get(
        "/p2/acme/core.json",
        headers={**basic(secret), "If-Modified-Since": last_modified},
    )
    assert revalidated.status_code == 200, "a changed collection must not be answered 304"
    assert p2_versions(api, "acme/core", secret) == ["2.0.0", "1.0.0"]
    assert api.composer("/dist/acme/core/2.0.0.zip", secret).status_code == 200

    # Freezing without a list uses the union too: acme/core at its newest visible version.
    ok(api.post(f"/customers/{customer['id']}/freeze"))
    frozen = ok(api.get(f"/customers/{customer['id']}"))["frozen_versions"]
    assert {(f["package"], f["version"]) for f in frozen} == {
        ("acme/core", "2.0.0"),
        ("acme/addon", "2.0.0"),
    }
    ok(api.post(f"/customers/{customer['id']}/reactivate"))

    ok(api.delete(f"/customers/{customer['id']}/collections/suite"))
    assert p2_versions(api, "acme/core", secret) == ["1.0.0"]
    assert api.composer("/p2/acme/addon.json", secret).status_code == 403


def test_grant_entries_name_exactly_one_package_or_collection(catalog: Api, backend: Backend) -> None:
    api = catalog
    _create(api, "suite", ["acme/core"])
    customer = api.create_customer("Acme")
    path = f"/customers/{customer['id']}/packages"
    both = {"package": "acme/core", "collection": "suite"}
    err(api.post(path, json=both), 400, "VALIDATION_ERROR", "package")
    err(api.post(path, json={"constraint": "^1.0"}), 400, "VALIDATION_ERROR", "package")
    err(api.post(path, json={"collection": "missing"}), 404, "NOT_FOUND")
    bad_constraint = {"collection": "suite", "constraint": "not a constraint"}
    err(api.post(path, json=bad_constraint), 400, "VALIDATION_ERROR", "constraint")
    _grant_collection(api, customer["id"], "suite")
    err(api.post(path, json={"collection": "suite"}), 409, "CONFLICT")

    replaced = ok(
        api.put(
            path,
            json={
                "packages": [
                    {"collection": "suite", "constraint": "^2.0"},
                    {"package": "acme/extra"},
                ]
            },
        )
    )
    assert [(g["package"], g["collection"], g["constraint"]) for g in replaced] == [
        (None, "suite", "^2.0"),
        ("acme/extra", None, "*"),
    ]
    # Every entry is checked before anything changes.
    twice = {"packages": [{"collection": "suite"}, {"collection": "suite"}]}
    err(api.put(path, json=twice), 400, "VALIDATION_ERROR", "packages[1].collection")
    neither = {"packages": [{"package": "acme/core"}, {"constraint": "*"}]}
    err(api.put(path, json=neither), 400, "VALIDATION_ERROR", "packages[1].package")
    assert ok(api.get(path)) == replaced
    assert _visible(api, customer["token"]) == ["acme/core", "acme/extra"]

    with backend.runtime.session_factory() as session:
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "customer", AuditEntry.action.like("customer.grant%"))
                .order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == ["customer.grant_add", "customer.grants_replace"]
    assert entries[0].after == {"package": None, "collection": "suite", "constraint": "*"}
    assert entries[1].before == {"grants": [{"package": None, "collection": "suite", "constraint": "*"}]}
    assert entries[0].actor == "root"


def test_reverse_lookup_includes_customers_holding_a_collection(catalog: Api) -> None:
    api = catalog
    _create(api, "suite", ["acme/core"])
    direct = api.create_customer("Direct")
    through = api.create_customer("Through collection")
    api.create_customer("Nothing")
    grant = {"package": "acme/core", "constraint": "~1.0"}
    ok(api.post(f"/customers/{direct['id']}/packages", json=grant), 201)
    _grant_collection(api, through["id"], "suite", "^2.0")
    rows = ok(api.get("/packages/acme/core/customers"))
    holders = {row["customer"]["id"]: row["constraint"] for row in rows}
    assert holders == {direct["id"]: "~1.0", through["id"]: "^2.0"}
    assert {row["customer"]["id"]: row["collection"] for row in rows} == {
        direct["id"]: None,
        through["id"]: "suite",
    }
    assert ok(api.get("/packages/acme/addon/customers")) == []

    ok(api.patch("/collections/suite", json={"packages": ["acme/addon"]}))
    assert [row["customer"]["id"] for row in ok(api.get("/packages/acme/core/customers"))] == [direct["id"]]
    assert [row["customer"]["id"] for row in ok(api.get("/packages/acme/addon/customers"))] == [through["id"]]
