"""GraphQL mutations end to end: the same services, rows and audit entries as REST; bad input and
unknown ids answer with their codes and write nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, err, ok
from tests.functional.test_graphql_queries import (
    CUSTOMER_FIELDS,
    PACKAGE_FIELDS,
    assert_customer_matches,
    gql,
    graphql_response,
)
from tests.support.gitrepo import GitRepo

from cargoman.app import CargomanApp, create_app
from cargoman.customers import service as customers
from cargoman.db.models import DEFAULT_TENANT_ID, AuditEntry, Base, GitHubAppInstallation
from cargoman.packages import service as packages_service
from cargoman.security import new_id
from cargoman.web.graphql.mutations import mutation_scope
from cargoman.web.graphql.schema import build_schema

TOKEN_FIELDS = (
    "token { id customerId name scope packageScopes tokenHint expiresAt lastUsedAt lastUsedIp createdAt } "
    "plainToken composerAuth { username password repositoryUrl }"
)


@pytest.fixture(scope="module")
def _enterprise_app(backend: Backend) -> Iterator[CargomanApp]:
    """A second server of the same deployment (database and data directory) in the enterprise
    edition, as GraphQL is Pro+. Its changes reach `backend`'s Composer caches; tasks run in `backend`."""
    settings = backend.settings.model_copy(update={"edition": "enterprise", "task_enabled": False})
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture
def gapi(api: Api, _enterprise_app: CargomanApp) -> Api:
    return Api(TestClient(_enterprise_app, raise_server_exceptions=False))


# -- helpers ---------------------------------------------------------------------------------------


def mutation_error(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a mutation expected to fail on its own: data null, one error; return that error."""
    body = graphql_response(api, query, variables)
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def assert_invalid(error: dict[str, Any], field: str) -> None:
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["extensions"]["field"] == field, error
    assert field in error["message"], error


def assert_not_found(error: dict[str, Any]) -> None:
    assert error["extensions"]["code"] == "NOT_FOUND", error


def row_counts(backend: Backend) -> dict[str, int]:
    with backend.runtime.session_factory() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def audit_log(backend: Backend) -> list[tuple[str, str | None, str]]:
    """(action, resource id, actor kind) of every audit entry, oldest first."""
    with backend.runtime.session_factory() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.resource_id, row.actor_kind) for row in rows]


def audit_entry(backend: Backend, action: str) -> AuditEntry:
    with backend.runtime.session_factory() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
    assert len(rows) == 1, [(row.action, row.resource_id) for row in rows]
    return rows[0]


@pytest.fixture
def synced(api: Api, make_library_repo: Callable[..., GitRepo]) -> Api:
    """acme/core (1.0.0, 1.1.0, 2.0.0) and acme/addon (1.0.0) synced through REST."""
    added = [
        api.add_package(make_library_repo("acme/core", tags=("1.0.0", "1.1.0", "2.0.0")).url, wait=False),
        api.add_package(make_library_repo("acme/addon", tags=("1.0.0",)).url, wait=False),
    ]
    for package in added:
        assert api.wait_for_task(package["sync_task"]["id"])["status"] == "completed"
    return api


CREATE_CUSTOMER = (
    f"mutation($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ {CUSTOMER_FIELDS} }} }}"
)
UPDATE_CUSTOMER = (
    f"mutation($id: ID!, $input: UpdateCustomerInput!) "
    f"{{ updateCustomer(id: $id, input: $input) {{ {CUSTOMER_FIELDS} }} }}"
)


# -- customers -------------------------------------------------------------------------------------


def test_create_update_and_delete_a_customer(api: Api, gapi: Api, backend: Backend) -> None:
    created = gql(
        gapi,
        CREATE_CUSTOMER,
        {
            "input": {
                "name": "Acme Corp",
                "email": "ops@acme.test",
                "externalId": "crm-1",
                "expiresAt": "2999-01-01T00:00:00Z",
            }
        },
    )["createCustomer"]
    assert (created["name"], created["email"], created["externalId"], created["status"]) == (
        "Acme Corp",
        "ops@acme.test",
        "crm-1",
        "ACTIVE",
    )
    assert_customer_matches(created, ok(api.get(f"/customers/{created['id']}")))
    entry = audit_entry(backend, "customer.create")
    assert (entry.resource_id, entry.actor, entry.actor_kind) == (created["id"], "root", "root")
    assert entry.after is not None and entry.after["name"] == "Acme Corp"
    # The same first token as REST creates (its secret is not part of a Customer).
    assert [t["name"] for t in ok(api.get(f"/customers/{created['id']}/tokens"))] == ["Default token"]

    # Omitted fields stay; null clears.
    updated = gql(
        gapi, UPDATE_CUSTOMER, {"id": created["id"], "input": {"email": "new@acme.test", "externalId": None}}
    )
    node = updated["updateCustomer"]
    assert (node["name"], node["email"], node["externalId"]) == ("Acme Corp", "new@acme.test", None)
    assert node["expiresAt"] == created["expiresAt"]
    assert_customer_matches(node, ok(api.get(f"/customers/{created['id']}")))
    update = audit_entry(backend, "customer.update")
    assert update.before == {"email": "ops@acme.test", "external_id": "crm-1"}
    assert update.after == {"email": "new@acme.test", "external_id": None}

    deleted = gql(gapi, "mutation($id: ID!) { deleteCustomer(id: $id) }", {"id": created["id"]})
    assert deleted == {"deleteCustomer": True}
    err(api.get(f"/customers/{created['id']}"), 404, "NOT_FOUND")
    assert audit_entry(backend, "customer.delete").resource_id == created["id"]


def test_customer_input_is_checked_like_rest_and_nothing_is_written(
    api: Api, gapi: Api, backend: Backend
) -> None:
    existing = api.create_customer("Existing", external_id="crm-1")
    before = row_counts(backend)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "email": "not-an-email"}, "email"),
        ({"name": "Acme", "externalId": "y" * 201}, "externalId"),
        ({"name": "Nul\x00byte"}, "name"),
    ]
    for customer_input, field in cases:
        assert_invalid(mutation_error(gapi, CREATE_CUSTOMER, {"input": customer_input}), field)
        # REST refuses the same body.
        rest_body = {"external_id" if k == "externalId" else k: v for k, v in customer_input.items()}
        assert api.post("/customers", json=rest_body).status_code == 400
    taken = mutation_error(gapi, CREATE_CUSTOMER, {"input": {"name": "Other", "externalId": "crm-1"}})
    assert taken["extensions"]["code"] == "CONFLICT"
    assert_invalid(
        mutation_error(gapi, UPDATE_CUSTOMER, {"id": existing["id"], "input": {"name": None}}), "name"
    )
    assert_not_found(mutation_error(gapi, UPDATE_CUSTOMER, {"id": "cust_missing", "input": {"name": "X"}}))
    assert row_counts(backend) == before
    assert ok(api.get(f"/customers/{existing['id']}"))["name"] == "Existing"


def test_suspend_reactivate_and_freeze_take_effect_for_composer(
    synced: Api, gapi: Api, backend: Backend
) -> None:
    api = synced
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/core"}), 201)
    assert api.composer("/packages.json", customer["token"]).status_code == 200

    suspended = gql(
        gapi,
        f'mutation($id: ID!) {{ suspendCustomer(id: $id, reason: "unpaid") {{ {CUSTOMER_FIELDS} }} }}',
        {"id": customer["id"]},
    )["suspendCustomer"]
    assert (suspended["status"], suspended["statusReason"]) == ("SUSPENDED", "unpaid")
    assert_customer_matches(suspended, ok(api.get(f"/customers/{customer['id']}")))
    assert api.composer("/packages.json", customer["token"]).status_code == 403
    assert audit_entry(backend, "customer.suspend").after == {
        "status": "suspended",
        "status_reason": "unpaid",
        "expires_at": None,
    }

    reactivated = gql(
        gapi,
        "mutation($id: ID!) { reactivateCustomer(id: $id) { status statusReason } }",
        {"id": customer["id"]},
    )
    assert reactivated["reactivateCustomer"] == {"status": "ACTIVE", "statusReason": None}
    assert api.composer("/packages.json", customer["token"]).status_code == 200

    freeze = (
        "mutation($id: ID!, $versions: [VersionFreeze!]) "
        "{ freezeCustomer(id: $id, versions: $versions) { status frozenVersions { package version } } }"
    )
    frozen = gql(
        gapi, freeze, {"id": customer["id"], "versions": [{"package": "acme/core", "version": "1.1.0"}]}
    )
    assert frozen["freezeCustomer"]["status"] == "FROZEN"
    rest = ok(api.get(f"/customers/{customer['id']}"))
    assert rest["frozen_versions"] == [{"package": "acme/core", "version": "1.1.0"}]
    assert frozen["freezeCustomer"]["frozenVersions"] == rest["frozen_versions"]
    p2 = api.composer("/p2/acme/core.json", customer["token"])
    assert p2.status_code == 200 and [v["version"] for v in p2.json()["packages"]["acme/core"]] == ["1.1.0"]

    # Without versions: each granted package at its newest visible version.
    refrozen = gql(gapi, freeze, {"id": customer["id"], "versions": None})
    assert ok(api.get(f"/customers/{customer['id']}"))["frozen_versions"] == [
        {"package": "acme/core", "version": "2.0.0"}
    ]
    assert refrozen["freezeCustomer"]["frozenVersions"] == [{"package": "acme/core", "version": "2.0.0"}]
    audits_before = len(audit_log(backend))
    for versions, field in (
        ([{"package": "acme/core", "version": "9.9.9"}], "versions[0].version"),
        ([{"package": "acme/addon", "version": "1.0.0"}], "versions[0].package"),
        ([{"package": "acme/core", "version": ""}], "versions[0].version"),
    ):
        assert_invalid(mutation_error(gapi, freeze, {"id": customer["id"], "versions": versions}), field)
    assert ok(api.get(f"/customers/{customer['id']}"))["frozen_versions"] == [
        {"package": "acme/core", "version": "2.0.0"}
    ]
    for mutation in ("suspendCustomer", "reactivateCustomer", "freezeCustomer", "deleteCustomer"):
        selection = "" if mutation == "deleteCustomer" else " { id }"
        assert_not_found(mutation_error(gapi, f'mutation {{ {mutation}(id: "cust_missing"){selection} }}'))
    assert len(audit_log(backend)) == audits_before


# -- tokens ----------------------------------------------------------------------------------------

CREATE_TOKEN = (
    f"mutation($customer: ID!, $input: CreateTokenInput!) "
    f"{{ createToken(customerId: $customer, input: $input) {{ {TOKEN_FIELDS} }} }}"
)


def test_scoped_tokens_are_created_rotated_and_revoked(synced: Api, gapi: Api, backend: Backend) -> None:
    api = synced
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/core"}), 201)
    created = gql(
        gapi,
        CREATE_TOKEN,
        {
            "customer": customer["id"],
            "input": {"name": "CI", "scope": "DOWNLOAD", "packageScopes": ["acme/*"], "expiresAt": None},
        },
    )["createToken"]
    token = created["token"]
    assert (token["name"], token["scope"], token["packageScopes"]) == ("CI", "DOWNLOAD", ["acme/*"])
    assert created["composerAuth"] == {
        "username": "token",
        "password": created["plainToken"],
        "repositoryUrl": "http://testserver",
    }
    rest = ok(api.get(f"/customers/{customer['id']}/tokens/{token['id']}"))
    assert (rest["scope"], rest["package_scopes"], rest["token_hint"]) == (
        "download",
        ["acme/*"],
        token["tokenHint"],
    )
    assert created["plainToken"] not in str(rest)
    assert api.composer("/p2/acme/core.json", created["plainToken"]).status_code == 200
    with backend.runtime.session_factory() as session:
        created_entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "token.create", AuditEntry.resource_id == token["id"]
            )
        ).one()
    assert created_entry.after is not None and created_entry.after["scope"] == "download"
    assert created["plainToken"] not in str(audit_log(backend))

    rotate = f"mutation($c: ID!, $t: ID!) {{ rotateToken(customerId: $c, tokenId: $t) {{ {TOKEN_FIELDS} }} }}"
    rotated = gql(gapi, rotate, {"c": customer["id"], "t": token["id"]})["rotateToken"]
    assert rotated["token"]["id"] == token["id"] and rotated["plainToken"] != created["plainToken"]
    assert api.composer("/p2/acme/core.json", created["plainToken"]).status_code == 401
    assert api.composer("/p2/acme/core.json", rotated["plainToken"]).status_code == 200
    assert audit_entry(backend, "token.rotate").resource_id == token["id"]

    other = api.create_customer("Other")
    revoke = "mutation($c: ID!, $t: ID!) { revokeToken(customerId: $c, tokenId: $t) }"
    # A token is only reachable through its own customer.
    assert_not_found(mutation_error(gapi, revoke, {"c": other["id"], "t": token["id"]}))
    assert gql(gapi, revoke, {"c": customer["id"], "t": token["id"]}) == {"revokeToken": True}
    err(api.get(f"/customers/{customer['id']}/tokens/{token['id']}"), 404, "NOT_FOUND")
    assert api.composer("/p2/acme/core.json", rotated["plainToken"]).status_code == 401
    assert_not_found(mutation_error(gapi, revoke, {"c": customer["id"], "t": token["id"]}))
    assert_not_found(mutation_error(gapi, rotate, {"c": customer["id"], "t": token["id"]}))


def test_token_input_is_checked_and_nothing_is_written(api: Api, gapi: Api, backend: Backend) -> None:
    customer = api.create_customer("Acme")
    before = row_counts(backend)
    for token_input, field in (
        ({"packageScopes": ["acme/*", "not a pattern"]}, "packageScopes[1]"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
    ):
        assert_invalid(
            mutation_error(gapi, CREATE_TOKEN, {"customer": customer["id"], "input": token_input}), field
        )
    assert_not_found(mutation_error(gapi, CREATE_TOKEN, {"customer": "cust_missing", "input": {}}))
    unknown_scope = graphql_response(
        gapi, CREATE_TOKEN, {"customer": customer["id"], "input": {"scope": "ROOT"}}
    )
    assert unknown_scope["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert row_counts(backend) == before


def test_legacy_token_operations_work_and_are_deprecated(api: Api, gapi: Api, backend: Backend) -> None:
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/tokens", json={"name": "second"}), 201)
    regenerated = gql(
        gapi,
        "mutation($c: ID!) { regenerateToken(customerId: $c) { token tokenId composerAuth { password } } }",
        {"c": customer["id"]},
    )["regenerateToken"]
    assert regenerated["composerAuth"]["password"] == regenerated["token"]
    tokens = ok(api.get(f"/customers/{customer['id']}/tokens"))
    assert [t["id"] for t in tokens] == [regenerated["tokenId"]]
    assert api.composer("/packages.json", regenerated["token"]).status_code == 200
    assert api.composer("/packages.json", customer["token"]).status_code == 401
    assert audit_entry(backend, "token.regenerate").resource_id == customer["id"]

    revoked = gql(gapi, "mutation($c: ID!) { revokeAllTokens(customerId: $c) }", {"c": customer["id"]})
    assert revoked == {"revokeAllTokens": True}
    assert ok(api.get(f"/customers/{customer['id']}/tokens")) == []
    assert audit_entry(backend, "token.revoke_all").after == {"revoked": 1}
    assert_not_found(mutation_error(gapi, 'mutation { revokeAllTokens(customerId: "cust_missing") }'))

    mutation = build_schema().get_type_by_name("Mutation")
    assert mutation is not None
    reasons = {field.python_name: field.deprecation_reason for field in mutation.fields}  # type: ignore[union-attr]
    assert "createToken" in (reasons["regenerate_token"] or "")
    assert "revokeToken" in (reasons["revoke_all_tokens"] or "")
    assert reasons["create_token"] is None


# -- package access --------------------------------------------------------------------------------

GRANT = (
    "mutation($c: ID!, $p: [PackageAccessInput!]!) { grantPackageAccess(customerId: $c, packages: $p) "
    "{ id packageAccess { name collection constraint grantedAt } } }"
)
REVOKE = (
    "mutation($c: ID!, $name: String!) { revokePackageAccess(customerId: $c, packageName: $name) "
    "{ packageAccess { name constraint } } }"
)


def test_grant_and_revoke_package_access(synced: Api, gapi: Api, backend: Backend) -> None:
    api = synced
    ok(api.post("/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/addon"]}), 201)
    customer = api.create_customer("Acme")
    granted = gql(
        gapi,
        GRANT,
        {"c": customer["id"], "p": [{"package": "acme/core", "constraint": "^1.0"}, {"collection": "suite"}]},
    )["grantPackageAccess"]
    rest = ok(api.get(f"/customers/{customer['id']}/packages"))
    assert [
        {
            "package": a["name"],
            "collection": a["collection"],
            "constraint": a["constraint"],
            "created_at": a["grantedAt"],
        }
        for a in granted["packageAccess"]
    ] == rest
    assert [(g["package"], g["collection"], g["constraint"]) for g in rest] == [
        ("acme/core", None, "^1.0"),
        (None, "suite", "*"),
    ]
    assert [a for a, _, _ in audit_log(backend)].count("customer.grant_add") == 2
    p2 = api.composer("/p2/acme/core.json", customer["token"])
    assert sorted(v["version"] for v in p2.json()["packages"]["acme/core"]) == ["1.0.0", "1.1.0"]

    revoked = gql(gapi, REVOKE, {"c": customer["id"], "name": "acme/core"})["revokePackageAccess"]
    assert revoked["packageAccess"] == [{"name": None, "constraint": "*"}]
    assert [g["collection"] for g in ok(api.get(f"/customers/{customer['id']}/packages"))] == ["suite"]
    assert api.composer("/p2/acme/core.json", customer["token"]).status_code == 403
    assert audit_entry(backend, "customer.grant_remove").before == {
        "package": "acme/core",
        "collection": None,
        "constraint": "^1.0",
    }
    assert_not_found(mutation_error(gapi, REVOKE, {"c": customer["id"], "name": "acme/core"}))


def test_a_grant_list_is_written_whole_or_not_at_all(synced: Api, gapi: Api, backend: Backend) -> None:
    api = synced
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/addon"}), 201)
    before = row_counts(backend)
    first = {"package": "acme/core"}
    cases: list[tuple[list[dict[str, Any]], str | None]] = [
        ([first, {"package": "acme/core", "constraint": ">= nonsense"}], "packages[1].constraint"),
        ([first, {"package": "not a name"}], "packages[1].package"),
        ([first, {"package": "acme/core", "collection": "suite"}], "packages[1].package"),
        ([first, {}], "packages[1].package"),
        ([], "packages"),
    ]
    for entries, field in cases:
        error = mutation_error(gapi, GRANT, {"c": customer["id"], "p": entries})
        assert_invalid(error, field or "")
    assert_not_found(
        mutation_error(gapi, GRANT, {"c": customer["id"], "p": [first, {"package": "acme/ghost"}]})
    )
    assert_not_found(mutation_error(gapi, GRANT, {"c": "cust_missing", "p": [first]}))
    duplicate = mutation_error(gapi, GRANT, {"c": customer["id"], "p": [first, {"package": "acme/addon"}]})
    assert duplicate["extensions"]["code"] == "CONFLICT"
    assert row_counts(backend) == before
    assert [g["package"] for g in ok(api.get(f"/customers/{customer['id']}/packages"))] == ["acme/addon"]


def test_mutations_of_one_operation_run_in_order_and_each_is_atomic(
    synced: Api, gapi: Api, backend: Backend
) -> None:
    """Each mutation sees the ones before it; a failing one writes nothing and ends the operation
    (its result type is non-null), while the mutations before it stay done."""
    api = synced
    customer = api.create_customer("Acme")
    access = "{ packageAccess { name } }"
    grant_core = f'grantPackageAccess(customerId: $c, packages: [{{package: "acme/core"}}]) {access}'
    grant_addon = f'grantPackageAccess(customerId: $c, packages: [{{package: "acme/addon"}}]) {access}'
    revoke_core = f'revokePackageAccess(customerId: $c, packageName: "acme/core") {access}'
    done = gql(
        gapi,
        f"mutation($c: ID!) {{ one: {grant_core} two: {revoke_core} three: {grant_addon} }}",
        {"c": customer["id"]},
    )
    assert done == {
        "one": {"packageAccess": [{"name": "acme/core"}]},
        "two": {"packageAccess": []},
        "three": {"packageAccess": [{"name": "acme/addon"}]},
    }

    ok(api.post("/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/core"]}), 201)
    suite_then_addon = (
        "grantPackageAccess(customerId: $c, "
        f'packages: [{{collection: "suite"}}, {{package: "acme/addon"}}]) {access}'
    )
    failed = graphql_response(
        gapi,
        f"mutation($c: ID!) {{ one: {grant_core} two: {suite_then_addon} three: {revoke_core} }}",
        {"c": customer["id"]},
    )
    assert failed["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in failed["errors"]] == [(["two"], "CONFLICT")]
    # `one` stays; `two` took its collection grant back with it; `three` never ran.
    granted = ok(api.get(f"/customers/{customer['id']}/packages"))
    assert sorted((g["package"], g["collection"]) for g in granted) == [
        ("acme/addon", None),
        ("acme/core", None),
    ]
    actions = [a for a, _, _ in audit_log(backend) if a.startswith("customer.grant")]
    assert actions == [
        "customer.grant_add",
        "customer.grant_remove",
        "customer.grant_add",
        "customer.grant_add",
    ]


# -- packages --------------------------------------------------------------------------------------


def test_add_sync_and_delete_a_package(
    api: Api, gapi: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/widget", tags=("1.0.0",))
    added = gql(
        gapi,
        f"mutation($input: AddPackageInput!) {{ addPackage(input: $input) {{ {PACKAGE_FIELDS} }} }}",
        {"input": {"repositoryUrl": repo.url}},
    )["addPackage"]
    assert (added["name"], added["type"], added["syncStatus"]) == ("acme/widget", "GIT", "PENDING")
    rest = ok(api.get("/packages/acme/widget"))  # the worker may have started the sync by now
    assert (added["id"], added["repositoryUrl"], added["createdAt"]) == (
        rest["id"],
        rest["repository_url"],
        rest["created_at"],
    )
    assert audit_entry(backend, "package.create").resource_id == "acme/widget"
    first_sync = ok(api.get("/tasks", params={"kind": "sync_package"}))
    assert [t["payload"]["package"] for t in first_sync] == ["acme/widget"]
    assert api.wait_for_task(first_sync[0]["id"])["status"] == "completed"

    repo.write({"src/New.php": "<?php\n"})
    repo.commit("2.0.0")
    repo.tag("2.0.0")
    synced = gql(gapi, 'mutation { syncPackage(name: "acme/widget") { name syncStatus latestVersion } }')
    assert synced["syncPackage"] == {"name": "acme/widget", "syncStatus": "READY", "latestVersion": "1.0.0"}
    queued = [
        t for t in ok(api.get("/tasks", params={"kind": "sync_package"})) if t["id"] != first_sync[0]["id"]
    ]
    assert len(queued) == 1 and queued[0]["payload"]["package"] == "acme/widget"
    assert audit_entry(backend, "package.sync_request").after == {"task": queued[0]["id"]}
    assert api.wait_for_task(queued[0]["id"])["status"] == "completed"
    versions = [v["version"] for v in ok(api.get("/packages/acme/widget"))["versions"] if v["kind"] == "tag"]
    assert versions == ["2.0.0", "1.0.0"]

    assert gql(gapi, 'mutation { deletePackage(name: "acme/widget") }') == {"deletePackage": True}
    err(api.get("/packages/acme/widget"), 404, "NOT_FOUND")
    assert audit_entry(backend, "package.delete").resource_id == "acme/widget"
    assert not list(backend.settings.storage_path.glob("dist/*/acme/widget/*"))


def test_package_mutations_refuse_bad_input_and_unknown_names(
    api: Api, gapi: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/widget", tags=("1.0.0",))
    add = "mutation($input: AddPackageInput!) { addPackage(input: $input) { name } }"
    api.add_package(repo.url)
    before = row_counts(backend)
    for package_input, field in (
        ({"repositoryUrl": "ftp://example.test/repo.git"}, "repositoryUrl"),
        ({"repositoryUrl": ""}, "repositoryUrl"),
        ({"repositoryUrl": repo.url, "name": "Not A Name"}, "name"),
        ({"repositoryUrl": repo.url, "monorepo": "packages/*/composer.json"}, "name"),
    ):
        assert_invalid(mutation_error(gapi, add, {"input": package_input}), field)
    duplicate = mutation_error(gapi, add, {"input": {"repositoryUrl": repo.url, "name": "acme/widget"}})
    assert duplicate["extensions"]["code"] == "CONFLICT"
    for mutation in ('syncPackage(name: "acme/ghost") { name }', 'deletePackage(name: "acme/ghost")'):
        assert_not_found(mutation_error(gapi, f"mutation {{ {mutation} }}"))
    assert row_counts(backend) == before


# -- collections -----------------------------------------------------------------------------------

COLLECTION_FIELDS = "slug name description createdAt updatedAt packages { name }"


def test_create_update_and_delete_a_collection(synced: Api, gapi: Api, backend: Backend) -> None:
    api = synced
    created = gql(
        gapi,
        "mutation($input: CreateCollectionInput!) "
        f"{{ createCollection(input: $input) {{ {COLLECTION_FIELDS} }} }}",
        {"input": {"name": "Suite", "slug": "suite", "description": "All of it", "packages": ["acme/core"]}},
    )["createCollection"]
    rest = ok(api.get("/collections/suite"))
    assert (created["slug"], created["name"], created["description"]) == ("suite", "Suite", "All of it")
    assert [p["name"] for p in created["packages"]] == rest["packages"] == ["acme/core"]
    assert created["createdAt"] == rest["created_at"]
    assert audit_entry(backend, "collection.create").resource_id == "suite"

    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"collection": "suite"}), 201)
    assert api.composer("/p2/acme/addon.json", customer["token"]).status_code == 403
    update = (
        f"mutation($slug: String!, $input: UpdateCollectionInput!) "
        f"{{ updateCollection(slug: $slug, input: $input) {{ {COLLECTION_FIELDS} }} }}"
    )
    updated = gql(gapi, update, {"slug": "suite", "input": {"packages": ["acme/core", "acme/addon"]}})
    node = updated["updateCollection"]
    assert (node["name"], node["description"]) == ("Suite", "All of it")  # omitted: unchanged
    assert [p["name"] for p in node["packages"]] == ["acme/addon", "acme/core"]
    assert ok(api.get("/collections/suite"))["packages"] == ["acme/addon", "acme/core"]
    assert api.composer("/p2/acme/addon.json", customer["token"]).status_code == 200
    assert audit_entry(backend, "collection.update").after is not None

    cleared = gql(gapi, update, {"slug": "suite", "input": {"description": None}})
    assert cleared["updateCollection"]["description"] is None

    assert gql(gapi, 'mutation { deleteCollection(slug: "suite") }') == {"deleteCollection": True}
    err(api.get("/collections/suite"), 404, "NOT_FOUND")
    assert api.composer("/p2/acme/addon.json", customer["token"]).status_code == 403
    assert audit_entry(backend, "collection.delete").resource_id == "suite"


def test_collection_input_is_checked_and_nothing_is_written(synced: Api, gapi: Api, backend: Backend) -> None:
    api = synced
    ok(api.post("/collections", json={"name": "Suite", "slug": "suite", "packages": []}), 201)
    before = row_counts(backend)
    create = "mutation($input: CreateCollectionInput!) { createCollection(input: $input) { slug } }"
    for collection_input, field in (
        ({"name": "Bad", "slug": "Not A Slug"}, "slug"),
        ({"name": "", "slug": "ok"}, "name"),
        ({"name": "Ok", "slug": "ok", "packages": ["acme/core", "acme/ghost"]}, "packages[1]"),
        ({"name": "Ok", "slug": "ok", "packages": ["acme/core", "acme/core"]}, "packages[1]"),
    ):
        assert_invalid(mutation_error(gapi, create, {"input": collection_input}), field)
    conflict = mutation_error(gapi, create, {"input": {"name": "Again", "slug": "suite"}})
    assert conflict["extensions"]["code"] == "CONFLICT"
    update = (
        'mutation($input: UpdateCollectionInput!) { updateCollection(slug: "suite", input: $input) { slug } }'
    )
    assert_invalid(mutation_error(gapi, update, {"input": {"packages": None}}), "packages")
    assert_invalid(mutation_error(gapi, update, {"input": {"packages": ["nope"]}}), "packages[0]")
    assert_not_found(
        mutation_error(gapi, 'mutation { updateCollection(slug: "ghost", input: {name: "X"}) { slug } }')
    )
    assert_not_found(mutation_error(gapi, 'mutation { deleteCollection(slug: "ghost") }'))
    assert row_counts(backend) == before


# -- GitHub App ------------------------------------------------------------------------------------


def add_installation(backend: Backend, login: str = "acme-org") -> str:
    installation_id = new_id("ghi")
    with backend.runtime.session_factory() as session:
        session.add(
            GitHubAppInstallation(
                id=installation_id,
                tenant_id=DEFAULT_TENANT_ID,
                github_installation_id=abs(hash(login)) % 10**9,
                account_login=login,
                account_type="Organization",
                repository_selection="all",
                status="active",
            )
        )
        session.commit()
    return installation_id


def test_remove_a_github_app_installation(api: Api, gapi: Api, backend: Backend) -> None:
    installation_id = add_installation(backend)
    other_id = add_installation(backend, "someone-else")
    remove = "mutation($id: ID!) { removeGitHubAppInstallation(id: $id) }"
    assert gql(gapi, remove, {"id": installation_id}) == {"removeGitHubAppInstallation": True}
    with backend.runtime.session_factory() as session:
        statuses = {row.id: row.status for row in session.scalars(select(GitHubAppInstallation))}
    assert statuses == {installation_id: "deleted", other_id: "active"}
    entry = audit_entry(backend, "github_app_installation.remove")
    assert entry.resource_id == installation_id
    assert (entry.before or {})["status"] == "active" and (entry.after or {})["status"] == "deleted"
    before = row_counts(backend)
    assert_not_found(mutation_error(gapi, remove, {"id": installation_id}))
    assert_not_found(mutation_error(gapi, remove, {"id": "ghi_missing"}))
    assert row_counts(backend) == before


def test_cma_admin_credentials_may_mutate_and_are_named_in_the_audit(
    api: Api, gapi: Api, backend: Backend
) -> None:
    ok(api.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    admin = ok(api.post("/team/credentials", json={"name": "Ada", "level": "admin"}), 201)
    body = graphql_response(
        gapi, 'mutation { createCustomer(input: {name: "By Ada"}) { id } }', token=admin["plain_token"]
    )
    assert "errors" not in body, body
    entry = audit_entry(backend, "customer.create")
    assert (entry.actor, entry.actor_kind) == (admin["credential"]["id"], "cma")
    assert ADMIN_TOKEN not in str(body)


def test_a_rolled_back_request_takes_its_finished_mutations_with_it(api: Api, backend: Backend) -> None:
    """A mutation's savepoint ends inside the request's transaction (SQLite included): when the
    request is rolled back as a whole (e.g. stopped at the execution deadline), nothing stays."""

    class Aborted(Exception):
        pass

    with pytest.raises(Aborted), backend.runtime.unit_of_work("root", actor_kind="root") as ctx:
        info = SimpleNamespace(context=SimpleNamespace(ctx=ctx, loaders=None))
        with mutation_scope(cast(Any, info)) as scoped:
            customers.create_customer(scoped, "Rolled back")
        raise Aborted
    assert ok(api.get("/customers")) == []
    assert audit_log(backend) == []


@pytest.mark.sqlite_only
def test_add_package_reads_the_name_before_taking_the_write_lock(
    gapi: Api, backend: Backend, make_library_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow fetch of composer.json must not hold SQLite's database-wide write lock."""
    repo = make_library_repo("acme/lockfree", tags=("1.0.0",))
    database = backend.database_url.removeprefix("sqlite:///")
    real_discover = packages_service.discover_package_name
    writer_got_the_lock: list[bool] = []

    def discover_while_another_writer_writes(*args: Any, **kwargs: Any) -> str:
        other = sqlite3.connect(database, timeout=5)
        try:
            other.execute("BEGIN IMMEDIATE")  # waits for (and fails on) a write lock held by the mutation
            other.rollback()
            writer_got_the_lock.append(True)
        except sqlite3.OperationalError:
            writer_got_the_lock.append(False)
        finally:
            other.close()
        return real_discover(*args, **kwargs)

    monkeypatch.setattr(packages_service, "discover_package_name", discover_while_another_writer_writes)
    added = gql(
        gapi,
        "mutation($input: AddPackageInput!) { addPackage(input: $input) { name } }",
        {"input": {"repositoryUrl": repo.url}},
    )
    assert added["addPackage"]["name"] == "acme/lockfree"
    assert writer_got_the_lock == [True]
