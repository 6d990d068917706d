"""GraphQL read side: the queries answer what REST answers for the same objects, and connections page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok
from tests.support.gitrepo import GitRepo

from cargoman.app import create_app

CUSTOMER_FIELDS = "id name email externalId status statusReason expiresAt createdAt updatedAt"
PACKAGE_FIELDS = "id name description repositoryUrl type syncStatus syncError syncedAt createdAt updatedAt"
VERSION_FIELDS = (
    "version versionNormalized kind refName reference releasedAt yanked deprecated deprecatedAt "
    "dist { url sha1 sha256 md5 size }"
)


@pytest.fixture(scope="module")
def _enterprise_client(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A second app on the same database in the enterprise edition (GraphQL is Pro+; no cap)."""
    root = tmp_path_factory.mktemp(f"graphql-{backend.kind}")
    settings = backend.settings.model_copy(
        update={
            "edition": "enterprise",
            "data_dir": root / "data",
            "storage_path": backend.settings.storage_path,
            "task_enabled": False,
        }
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def enterprise(api: Api, _enterprise_client: TestClient) -> Api:
    return Api(_enterprise_client)


def gql(api: Api, query: str, variables: dict[str, Any] | None = None, token: str = ADMIN_TOKEN) -> Any:
    """POST /graphql; assert HTTP 200 and no errors; return ``data``."""
    body = graphql_response(api, query, variables, token)
    assert "errors" not in body, body
    return body["data"]


def graphql_response(
    api: Api, query: str, variables: dict[str, Any] | None = None, token: str | None = ADMIN_TOKEN
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = api.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def _same_time(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def assert_customer_matches(node: dict[str, Any], rest: dict[str, Any]) -> None:
    assert node["id"] == rest["id"]
    assert node["name"] == rest["name"]
    assert node["email"] == rest["email"]
    assert node["externalId"] == rest["external_id"]
    assert node["status"] == rest["status"].upper()
    assert node["statusReason"] == rest["status_reason"]
    for gql_field, rest_field in (
        ("expiresAt", "expires_at"),
        ("createdAt", "created_at"),
        ("updatedAt", "updated_at"),
    ):
        assert _same_time(node[gql_field], rest[rest_field]), (gql_field, node, rest)
    # Same text as REST, not just the same instant.
    assert node["createdAt"] == rest["created_at"]


def assert_package_matches(node: dict[str, Any], rest: dict[str, Any]) -> None:
    assert node["id"] == rest["id"]
    assert node["name"] == rest["name"]
    assert node["description"] == rest["description"]
    assert node["repositoryUrl"] == rest["repository_url"]
    assert node["type"] == rest["type"].upper()
    assert node["syncStatus"] == rest["sync_status"].upper()
    assert node["syncError"] == rest["sync_error"]
    assert node["syncedAt"] == rest["last_synced_at"]
    assert node["createdAt"] == rest["created_at"]
    assert node["updatedAt"] == rest["updated_at"]


def assert_version_matches(node: dict[str, Any], rest: dict[str, Any]) -> None:
    assert node["version"] == rest["version"]
    assert node["versionNormalized"] == rest["version_normalized"]
    assert node["kind"] == rest["kind"].upper()
    assert node["refName"] == rest["ref_name"]
    assert node["reference"] == rest["reference"]
    assert node["releasedAt"] == rest["released_at"]
    assert (node["yanked"], node["deprecated"], node["deprecatedAt"]) == (
        rest["yanked"],
        rest["deprecated"],
        rest["deprecated_at"],
    )
    assert node["dist"] == rest["dist"]


@pytest.fixture
def catalog(api: Api, make_library_repo: Callable[..., GitRepo]) -> Api:
    """acme/core and acme/addon synced (tags 1.0.0, 1.1.0, 2.0.0-beta1, 1.2.0)."""
    tasks = [
        api.add_package(
            make_library_repo(name, tags=("1.0.0", "1.1.0", "2.0.0-beta1", "1.2.0")).url, wait=False
        )
        for name in ("acme/core", "acme/addon")
    ]
    for added in tasks:
        assert api.wait_for_task(added["sync_task"]["id"])["status"] == "completed"
    return api


# -- single objects --------------------------------------------------------------------------------


def test_customer_and_its_package_access_match_rest(catalog: Api, enterprise: Api) -> None:
    api = catalog
    ok(api.post("/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/addon"]}), 201)
    created = api.create_customer("Acme Corp", email="ops@acme.test", external_id="crm-42")
    ok(
        api.post(f"/customers/{created['id']}/packages", json={"package": "acme/core", "constraint": "^1.0"}),
        201,
    )
    ok(api.post(f"/customers/{created['id']}/packages", json={"collection": "suite"}), 201)
    ok(api.post(f"/customers/{created['id']}/suspend", json={"reason": "unpaid"}))
    rest = ok(api.get(f"/customers/{created['id']}"))
    rest_access = ok(api.get(f"/customers/{created['id']}/packages"))

    access = "packageAccess { name collection constraint grantedAt } packages { name constraint grantedAt }"
    data = gql(
        enterprise,
        f"query($id: ID!, $ext: String!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} {access} }} "
        f"byExt: customerByExternalId(externalId: $ext) {{ {CUSTOMER_FIELDS} }} }}",
        {"id": created["id"], "ext": "crm-42"},
    )
    customer = data["customer"]
    assert_customer_matches(customer, rest)
    assert_customer_matches(data["byExt"], rest)
    assert customer["status"] == "SUSPENDED" and customer["statusReason"] == "unpaid"
    assert [
        {
            "package": a["name"],
            "collection": a["collection"],
            "constraint": a["constraint"],
            "created_at": a["grantedAt"],
        }
        for a in customer["packageAccess"]
    ] == rest_access
    assert [a["name"] for a in customer["packages"]] == ["acme/core", None]


def test_package_with_versions_matches_rest(catalog: Api, enterprise: Api) -> None:
    rest = ok(catalog.get("/packages/acme/core"))
    data = gql(
        enterprise,
        f'{{ package(name: "acme/core") {{ {PACKAGE_FIELDS} latestVersion '
        f"versions {{ {VERSION_FIELDS} }} }} }}",
    )
    package = data["package"]
    assert_package_matches(package, rest)
    assert len(package["versions"]) == len(rest["versions"]) > 0
    for node, rest_version in zip(package["versions"], rest["versions"], strict=True):
        assert_version_matches(node, rest_version)
    # The newest stable release, not the newer beta.
    assert package["latestVersion"] == "1.2.0"


def test_collections_match_rest(catalog: Api, enterprise: Api) -> None:
    ok(
        catalog.post(
            "/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/core", "acme/addon"]}
        ),
        201,
    )
    ok(catalog.post("/collections", json={"name": "Basic", "slug": "basic", "packages": ["acme/core"]}), 201)
    rest = ok(catalog.get("/collections"))
    fields = "slug name description createdAt updatedAt packages { name latestVersion }"
    data = gql(enterprise, f'{{ collections {{ {fields} }} collection(slug: "suite") {{ {fields} }} }}')
    assert [c["slug"] for c in data["collections"]] == [c["slug"] for c in rest] == ["basic", "suite"]
    for node, rest_collection in zip(data["collections"], rest, strict=True):
        assert node["name"] == rest_collection["name"]
        assert node["description"] == rest_collection["description"]
        assert [p["name"] for p in node["packages"]] == rest_collection["packages"]
        assert node["createdAt"] == rest_collection["created_at"]
    assert data["collection"] == data["collections"][1]
    assert {p["latestVersion"] for p in data["collection"]["packages"]} == {"1.2.0"}


def test_stats_match_rest(catalog: Api, enterprise: Api) -> None:
    catalog.create_customer("A")
    suspended = catalog.create_customer("B")
    ok(catalog.post(f"/customers/{suspended['id']}/suspend"))
    rest = ok(enterprise.get("/stats"))
    data = gql(
        enterprise,
        "{ stats { packages versions customers { total active suspended frozen expired } "
        "downloads { total last30Days } installs { total last30Days } } }",
    )["stats"]
    assert data["packages"] == rest["packages"] == 2
    assert data["versions"] == rest["versions"]
    assert data["customers"] == rest["customers"]
    assert data["downloads"] == {
        "total": rest["downloads"]["total"],
        "last30Days": rest["downloads"]["last_30_days"],
    }
    assert data["installs"] == {
        "total": rest["installs"]["total"],
        "last30Days": rest["installs"]["last_30_days"],
    }


def test_missing_objects_are_null_with_not_found(api: Api, enterprise: Api) -> None:
    body = graphql_response(
        enterprise,
        '{ customer(id: "cust_missing") { id } package(name: "acme/none") { name } '
        'collection(slug: "none") { slug } customerByExternalId(externalId: "x") { id } }',
    )
    assert body["data"] == {
        "customer": None,
        "package": None,
        "collection": None,
        "customerByExternalId": None,
    }
    assert error_codes(body) == ["NOT_FOUND"] * 4
    assert sorted(e["path"][0] for e in body["errors"]) == [
        "collection",
        "customer",
        "customerByExternalId",
        "package",
    ]


def test_version_and_query_complexity(api: Api, enterprise: Api) -> None:
    data = gql(
        enterprise, "{ version { major minor patch deprecationDate } queryComplexity { score limit depth } }"
    )
    assert data["version"] == {"major": 1, "minor": 0, "patch": 0, "deprecationDate": None}
    # version 1 + 4 fields, queryComplexity 1 + 3 fields; enterprise has no cap.
    assert data["queryComplexity"] == {"score": 9, "limit": None, "depth": 2}


# -- connections -----------------------------------------------------------------------------------

PAGE = """
query($first: Int, $after: String, $filter: CustomerFilter) {
  customers(filter: $filter, pagination: {first: $first, after: $after}) {
    totalCount
    edges { cursor node { id name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def test_customer_connection_pages_like_rest_orders(api: Api, enterprise: Api) -> None:
    for index in range(7):
        api.create_customer(f"Customer {index}")
    rest_ids = [c["id"] for c in ok(api.get("/customers", params={"per_page": 100}))]

    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        connection = gql(enterprise, PAGE, {"first": 3, "after": after})["customers"]
        pages += 1
        assert connection["totalCount"] == 7
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        info = connection["pageInfo"]
        assert info["endCursor"] == connection["edges"][-1]["cursor"]
        assert info["startCursor"] == connection["edges"][0]["cursor"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert seen == rest_ids

    # Top-level first/after work too, and win over pagination.
    top = gql(enterprise, "{ customers(first: 2, pagination: {first: 5}) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in top["customers"]["edges"]] == rest_ids[:2]
    # Default page size 25, maximum 100.
    default = gql(enterprise, "{ customers { edges { node { id } } pageInfo { hasNextPage } } }")
    assert len(default["customers"]["edges"]) == 7
    # GitLab's `nodes` shortcut: the same page without cursors, scored like `edges { node }`.
    nodes = gql(enterprise, "{ customers(first: 4) { nodes { id name } } queryComplexity { score } }")
    assert [n["id"] for n in nodes["customers"]["nodes"]] == rest_ids[:4]
    assert nodes["queryComplexity"]["score"] == 1 + 4 * (1 + 1 + 1) + 2


def test_connection_filters_and_bad_arguments(api: Api, enterprise: Api) -> None:
    customers = [api.create_customer(f"C{index}") for index in range(3)]
    ok(api.post(f"/customers/{customers[1]['id']}/suspend"))
    suspended = gql(enterprise, PAGE, {"filter": {"status": "SUSPENDED"}})["customers"]
    assert [e["node"]["id"] for e in suspended["edges"]] == [customers[1]["id"]]
    assert suspended["totalCount"] == 1

    bad_cursor = graphql_response(enterprise, PAGE, {"after": "not-a-cursor"})
    assert bad_cursor["data"] is None
    assert error_codes(bad_cursor) == ["VALIDATION_ERROR"]
    assert bad_cursor["errors"][0]["extensions"]["field"] == "after"
    zero = graphql_response(enterprise, PAGE, {"first": 0})
    assert error_codes(zero) == ["VALIDATION_ERROR"]
    wrong_type = graphql_response(enterprise, PAGE, {"first": "ten"})
    assert wrong_type["data"] is None and error_codes(wrong_type) == ["GRAPHQL_VALIDATION_FAILED"]


def test_package_connection_pages_and_filters(catalog: Api, enterprise: Api) -> None:
    query = """
    query($first: Int, $after: String, $filter: PackageFilter) {
      packages(filter: $filter, first: $first, after: $after) {
        totalCount edges { node { name } } pageInfo { hasNextPage endCursor }
      }
    }
    """
    first = gql(enterprise, query, {"first": 1})["packages"]
    assert first["totalCount"] == 2 and first["pageInfo"]["hasNextPage"] is True
    second = gql(enterprise, query, {"first": 1, "after": first["pageInfo"]["endCursor"]})["packages"]
    assert second["pageInfo"]["hasNextPage"] is False
    names = [first["edges"][0]["node"]["name"], second["edges"][0]["node"]["name"]]
    assert names == [p["name"] for p in ok(catalog.get("/packages"))] == ["acme/addon", "acme/core"]
    filtered = gql(enterprise, query, {"filter": {"name": "CORE", "status": "READY"}})["packages"]
    assert [e["node"]["name"] for e in filtered["edges"]] == ["acme/core"]
