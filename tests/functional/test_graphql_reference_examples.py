"""Every example query of the GraphQL reference, verbatim, on a Pro registry (complexity cap 500),
answers what the REST API answers for the same objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import parse
from starlette.testclient import TestClient
from tests.functional.conftest import Api, Backend, ok
from tests.functional.test_graphql_queries import gql
from tests.support.fake_github import generate_app_keys
from tests.support.gitrepo import GitRepo

from cargoman.advisories import repository as advisories
from cargoman.app import CargomanApp, create_app
from cargoman.db.models import DEFAULT_TENANT_ID, GitHubAppInstallation, SecurityAdvisory
from cargoman.graphql_limits import edition_complexity_limit, query_complexity
from cargoman.web.graphql.schema import build_schema

# api/graphql.md, "Example Queries", copied as printed.
GET_CUSTOMER = """
query GetCustomer($id: ID!) {
  customer(id: $id) {
    id
    name
    email
    status
    packages {
      name
      constraint
      grantedAt
    }
  }
}
"""

LIST_PACKAGES = """
query ListPackages($filter: PackageFilter) {
  packages(filter: $filter) {
    edges {
      node {
        name
        description
        versions {
          version
          releasedAt
          downloads
        }
        latestVersion
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

STATS = """
query Stats {
  downloadStats(period: LAST_30_DAYS) {
    totalDownloads
    byPackage {
      name
      downloads
    }
    byDay {
      date
      downloads
    }
  }
}
"""

VULNERABILITIES = """
query Vulnerabilities($packageName: String!) {
  vulnerabilities(packageName: $packageName) {
    id
    advisory
    severity
    affectedVersions
    patchedVersions
    description
  }
}
"""

COLLECTIONS = """
query {
  collections {
    slug
    name
    packages {
      name
      latestVersion
    }
  }
}
"""

GITHUB_APP_STATUS = """
query {
  githubAppStatus {
    configured
    appId
    appSlug
  }

  githubAppInstallations {
    id
    accountLogin
    accountType
    repositorySelection
    status
  }
}
"""

# guides/vulnerability-scanning.md, "Via GraphQL".
VULNERABILITIES_GUIDE = """
query {
  vulnerabilities(packageName: "vendor/package") {
    id
    advisory
    severity
    affectedVersions
    patchedVersions
    description
  }
}
"""

# api/authentication.md and guides/admin-credentials.md (the query strings of their curl examples).
AUTHENTICATION_PACKAGES = (
    "query { packages(first: 10) { edges { node { id name repositoryUrl } } totalCount } }"
)
AUTHENTICATION_CUSTOMERS = (
    "query($filter: CustomerFilter) "
    "{ customers(first: 20, filter: $filter) { edges { node { id email status } } } }"
)
ADMIN_CREDENTIALS_PACKAGES = "{ packages { edges { node { name } } } }"


def _pro_app(backend: Backend, root: Any, **settings: Any) -> Iterator[CargomanApp]:
    update = {"data_dir": root / "data", "task_enabled": False, "edition": "pro", **settings}
    app = create_app(backend.settings.model_copy(update=update))
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture(scope="module")
def _github_pro_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    yield from _pro_app(
        backend,
        tmp_path_factory.mktemp(f"gql-examples-{backend.kind}"),
        github_app_id="123456",
        github_app_private_key=generate_app_keys().private_pem,
        github_app_slug="cargoman-registry",
    )


@pytest.fixture(scope="module")
def _bare_pro_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    yield from _pro_app(backend, tmp_path_factory.mktemp(f"gql-examples-bare-{backend.kind}"))


@pytest.fixture
def pro(api: Api, _github_pro_app: CargomanApp) -> Api:
    """Pro with a GitHub App configured."""
    return Api(TestClient(_github_pro_app, raise_server_exceptions=False))


@pytest.fixture
def bare_pro(api: Api, _bare_pro_app: CargomanApp) -> Api:
    """Pro without any integration configured."""
    return Api(TestClient(_bare_pro_app, raise_server_exceptions=False))


@pytest.fixture
def registry(api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]) -> dict[str, Any]:
    """Two synced packages, two collections, a customer with a package and a collection grant who
    downloaded four dists, two advisories of acme/core, one GitHub App installation."""
    added = [
        api.add_package(
            make_library_repo("acme/core", tags=("1.0.0", "1.1.0", "2.0.0-beta1", "1.2.0")).url, wait=False
        ),
        api.add_package(make_library_repo("acme/addon", tags=("1.0.0", "1.1.0")).url, wait=False),
    ]
    for package in added:
        assert api.wait_for_task(package["sync_task"]["id"])["status"] == "completed"
    ok(
        api.post(
            "/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/core", "acme/addon"]}
        ),
        201,
    )
    ok(api.post("/collections", json={"name": "Basic", "slug": "basic", "packages": ["acme/core"]}), 201)
    customer = api.create_customer("Acme Corp", email="ops@acme.test")
    grants = [{"package": "acme/core", "constraint": "^1.0"}, {"collection": "suite", "constraint": "^1.1"}]
    for grant in grants:
        ok(api.post(f"/customers/{customer['id']}/packages", json=grant), 201)
    for package, version in (
        ("acme/core", "1.0.0"),
        ("acme/core", "1.0.0"),
        ("acme/core", "1.2.0"),
        ("acme/addon", "1.1.0"),
    ):
        assert api.composer(f"/dist/{package}/{version}.zip", customer["token"]).status_code == 200
    backend.app.api.state.recorder.flush()

    with backend.runtime.session_factory.begin() as session:
        for advisory in (
            SecurityAdvisory(
                advisory_id="GHSA-xxxx-yyyy-zzzz",
                source="github",
                package_name="acme/core",
                title="Unsafe deserialization",
                severity="high",
                affected_versions=">=1.0.0,<1.2.0",
                patched_versions=">=1.2.0",
                description="Untrusted input reaches unserialize()",
                reported_at=datetime.now(UTC) - timedelta(days=3),
            ),
            SecurityAdvisory(
                advisory_id="CVE-2025-1234",
                source="osv",
                package_name="acme/core",
                title="Open redirect",
                severity="medium",
                affected_versions="<1.1.0",
                reported_at=datetime.now(UTC) - timedelta(days=10),
            ),
        ):
            advisories.add(session, DEFAULT_TENANT_ID, advisory)
        session.add(
            GitHubAppInstallation(
                id="inst_acme",
                github_installation_id=12345678,
                account_login="my-org",
                account_type="Organization",
                repository_selection="all",
                status="active",
                claimed_at=datetime.now(UTC),
            )
        )
    return customer


def test_every_reference_example_matches_rest(registry: dict[str, Any], pro: Api) -> None:
    _get_customer(pro, registry["id"])
    _list_packages(pro)
    _download_statistics(pro)
    _vulnerabilities(pro)
    _collections(pro)
    _github_app(pro)
    _authentication_examples(pro, registry)


def _get_customer(pro: Api, customer_id: str) -> None:
    customer = gql(pro, GET_CUSTOMER, {"id": customer_id})["customer"]
    rest = ok(pro.get(f"/customers/{customer_id}"))
    rest_grants = ok(pro.get(f"/customers/{customer_id}/packages"))
    assert (customer["id"], customer["name"], customer["email"]) == (rest["id"], rest["name"], rest["email"])
    assert customer["status"] == rest["status"].upper() == "ACTIVE"
    assert customer["packages"] == [
        {"name": grant["package"], "constraint": grant["constraint"], "grantedAt": grant["created_at"]}
        for grant in rest_grants
    ]
    assert [(g["name"], g["constraint"]) for g in customer["packages"]] == [
        ("acme/core", "^1.0"),
        (None, "^1.1"),
    ]


def _list_packages(pro: Api) -> None:
    for name_filter, expected in ((None, ["acme/addon", "acme/core"]), ("CORE", ["acme/core"])):
        variables = {} if name_filter is None else {"filter": {"name": name_filter}}
        packages = gql(pro, LIST_PACKAGES, variables)["packages"]
        rest = ok(pro.get("/packages", params={} if name_filter is None else {"package_name": name_filter}))
        nodes = [edge["node"] for edge in packages["edges"]]
        assert [node["name"] for node in nodes] == [package["name"] for package in rest] == expected
        assert [node["description"] for node in nodes] == [package["description"] for package in rest]
        assert packages["pageInfo"]["hasNextPage"] is False
        following = gql(pro, NEXT_PAGE, {**variables, "after": packages["pageInfo"]["endCursor"]})["packages"]
        assert following == {"totalCount": len(expected), "edges": []}
        for node in nodes:
            detail = ok(pro.get(f"/packages/{node['name']}"))
            usage = {
                row["version"]: row["downloads"]
                for row in ok(pro.get(f"/stats/packages/{node['name']}"))["versions"]
            }
            assert node["versions"] == [
                {"version": v["version"], "releasedAt": v["released_at"], "downloads": usage[v["version"]]}
                for v in detail["versions"]
            ]
            stable_tags = [
                v["version"] for v in detail["versions"] if v["kind"] == "tag" and "-" not in v["version"]
            ]
            assert node["latestVersion"] == stable_tags[0]
    core = gql(pro, LIST_PACKAGES, {"filter": {"name": "acme/core"}})["packages"]["edges"][0]["node"]
    assert core["latestVersion"] == "1.2.0"  # the newest stable tag, not the newer 2.0.0-beta1
    assert {v["version"]: v["downloads"] for v in core["versions"]}["1.0.0"] == 2


NEXT_PAGE = """
query($filter: PackageFilter, $after: String) {
  packages(filter: $filter, after: $after) { totalCount edges { node { name } } }
}
"""


def _download_statistics(pro: Api) -> None:
    stats = gql(pro, STATS)["downloadStats"]
    rest = ok(pro.get("/stats/daily", params={"days": 30}))
    assert stats["totalDownloads"] == rest["downloads"] == 4
    assert stats["byDay"] == [{"date": day["date"], "downloads": day["downloads"]} for day in rest["daily"]]
    # Everything was downloaded today, so the 30 days hold each package's whole total.
    assert stats["byPackage"] == [
        {"name": name, "downloads": ok(pro.get(f"/stats/packages/{name}"))["downloads"]}
        for name in ("acme/core", "acme/addon")
    ]
    assert [row["downloads"] for row in stats["byPackage"]] == [3, 1]


def _vulnerabilities(pro: Api) -> None:
    found = gql(pro, VULNERABILITIES, {"packageName": "acme/core"})["vulnerabilities"]
    assert [{key: value for key, value in v.items() if key != "id"} for v in found] == [
        {
            "advisory": "GHSA-xxxx-yyyy-zzzz",
            "severity": "high",
            "affectedVersions": ">=1.0.0,<1.2.0",
            "patchedVersions": ">=1.2.0",
            "description": "Untrusted input reaches unserialize()",
        },
        {
            "advisory": "CVE-2025-1234",
            "severity": "medium",
            "affectedVersions": "<1.1.0",
            "patchedVersions": None,
            "description": None,
        },
    ]
    assert all(v["id"].startswith("adv_") for v in found)
    assert gql(pro, VULNERABILITIES, {"packageName": "acme/addon"})["vulnerabilities"] == []
    assert gql(pro, VULNERABILITIES_GUIDE)["vulnerabilities"] == []


def _collections(pro: Api) -> None:
    collections = gql(pro, COLLECTIONS)["collections"]
    rest = ok(pro.get("/collections"))
    assert [(c["slug"], c["name"]) for c in collections] == [(c["slug"], c["name"]) for c in rest]
    for node, rest_collection in zip(collections, rest, strict=True):
        assert [p["name"] for p in node["packages"]] == rest_collection["packages"]
    latest = {p["name"]: p["latestVersion"] for c in collections for p in c["packages"]}
    assert latest == {"acme/core": "1.2.0", "acme/addon": "1.1.0"}


def _github_app(pro: Api) -> None:
    data = gql(pro, GITHUB_APP_STATUS)
    rest_status = ok(pro.get("/github-app/status"))
    assert data["githubAppStatus"] == {
        "configured": rest_status["configured"],
        "appId": str(rest_status["app_id"]),
        "appSlug": rest_status["app_slug"],
    }
    assert data["githubAppStatus"] == {"configured": True, "appId": "123456", "appSlug": "cargoman-registry"}
    rest_installations = ok(pro.get("/github-app/installations"))["installations"]
    assert data["githubAppInstallations"] == [
        {
            "id": row["id"],
            "accountLogin": row["account_login"],
            "accountType": row["account_type"],
            "repositorySelection": row["repository_selection"],
            "status": row["status"],
        }
        for row in rest_installations
    ]
    assert [row["accountLogin"] for row in data["githubAppInstallations"]] == ["my-org"]


def _authentication_examples(pro: Api, customer: dict[str, Any]) -> None:
    packages = gql(pro, AUTHENTICATION_PACKAGES)["packages"]
    rest = ok(pro.get("/packages"))
    assert packages["totalCount"] == len(rest) == 2
    assert [edge["node"] for edge in packages["edges"]] == [
        {"id": p["id"], "name": p["name"], "repositoryUrl": p["repository_url"]} for p in rest
    ]
    customers = gql(pro, AUTHENTICATION_CUSTOMERS, {"filter": {"status": "ACTIVE"}})["customers"]
    assert [edge["node"] for edge in customers["edges"]] == [
        {"id": customer["id"], "email": "ops@acme.test", "status": "ACTIVE"}
    ]
    names = gql(pro, ADMIN_CREDENTIALS_PACKAGES)["packages"]["edges"]
    assert [edge["node"]["name"] for edge in names] == [p["name"] for p in rest]


EXAMPLES = (
    GET_CUSTOMER,
    LIST_PACKAGES,
    STATS,
    VULNERABILITIES,
    COLLECTIONS,
    GITHUB_APP_STATUS,
    VULNERABILITIES_GUIDE,
    AUTHENTICATION_PACKAGES,
    AUTHENTICATION_CUSTOMERS,
    ADMIN_CREDENTIALS_PACKAGES,
)


def test_every_example_fits_the_pro_cap() -> None:
    schema = build_schema()._schema
    scores = [query_complexity(parse(example), schema) for example in EXAMPLES]
    assert max(scores) <= edition_complexity_limit("pro", None) == 500
    # The largest: 25 packages (default page), each with its versions (a plain list, counted 3 times).
    assert scores[1] == max(scores) == 451


def test_examples_on_an_empty_registry_without_integrations(api: Api, bare_pro: Api) -> None:
    assert gql(bare_pro, GITHUB_APP_STATUS) == {
        "githubAppStatus": {"configured": False, "appId": None, "appSlug": None},
        "githubAppInstallations": [],
    }
    assert ok(bare_pro.get("/github-app/status"))["configured"] is False
    assert gql(bare_pro, VULNERABILITIES, {"packageName": "acme/core"}) == {"vulnerabilities": []}
    assert gql(bare_pro, "{ oauthConnections { id provider accountLogin connectedAt expiresAt } }") == {
        "oauthConnections": []
    }
    assert ok(bare_pro.get("/oauth/connections")) == []
    stats = gql(bare_pro, STATS)["downloadStats"]
    assert stats["totalDownloads"] == 0 and stats["byPackage"] == []
    assert stats["byDay"] == [
        {"date": day["date"], "downloads": 0} for day in ok(bare_pro.get("/stats/daily"))["daily"]
    ]
    assert gql(bare_pro, COLLECTIONS) == {"collections": []}
    assert gql(bare_pro, LIST_PACKAGES) == {
        "packages": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    }
