"""GraphQL operational queries: download statistics, audit log, vulnerabilities, proxy status,
GitHub App status and installations, OAuth connections -- the same figures REST gives, one tenant's
rows only, and never a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from starlette.testclient import TestClient
from tests.functional.conftest import Api, Backend, basic, ok
from tests.functional.test_graphql_access_and_limits import StatementCounter
from tests.functional.test_graphql_queries import error_codes, gql, graphql_response
from tests.support.fake_github import generate_app_keys
from tests.support.gitrepo import GitRepo

from cargoman.advisories import repository as advisories
from cargoman.app import CargomanApp, create_app
from cargoman.db.models import (
    DEFAULT_TENANT_ID,
    DownloadEvent,
    GitHubAppInstallation,
    OAuthConnection,
    ProxyAlert,
    ProxyPackage,
    SecurityAdvisory,
    Tenant,
)
from cargoman.secretbox import SecretBox
from cargoman.web.graphql.schema import build_schema

OTHER_TENANT = "graphql-ops-other"
GB = 1024**3


def _app(backend: Backend, root: Any, **settings: Any) -> Iterator[CargomanApp]:
    update = {"data_dir": root / "data", "task_enabled": False, "edition": "pro", **settings}
    app = create_app(backend.settings.model_copy(update=update))
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture(scope="module")
def _plain_pro_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    """Pro with the defaults: no GitHub App, proxy switched off."""
    yield from _app(backend, tmp_path_factory.mktemp(f"gql-ops-plain-{backend.kind}"))


@pytest.fixture(scope="module")
def _integrated_pro_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    """Pro with a GitHub App (on a GitHub Enterprise Server URL) and the proxy switched on."""
    yield from _app(
        backend,
        tmp_path_factory.mktemp(f"gql-ops-integrated-{backend.kind}"),
        github_app_id="424242",
        github_app_private_key=generate_app_keys().private_pem,
        github_app_slug="acme-registry",
        github_url="https://github.acme.test",
        proxy_enabled=True,
        proxy_packagist_url="https://packagist.acme.test",
        proxy_max_cache_size=4 * GB,
        proxy_metadata_ttl=600,
        proxy_archive_ttl=7200,
    )


@pytest.fixture
def pro(api: Api, _plain_pro_app: CargomanApp) -> Api:
    return Api(TestClient(_plain_pro_app, raise_server_exceptions=False))


@pytest.fixture
def integrated(api: Api, _integrated_pro_app: CargomanApp) -> Api:
    return Api(TestClient(_integrated_pro_app, raise_server_exceptions=False))


@pytest.fixture
def other_tenant(backend: Backend) -> Iterator[str]:
    """A second tenant whose rows must never show (the per-test reset keeps tenants, so drop it)."""
    with backend.runtime.session_factory.begin() as session:
        if session.get(Tenant, OTHER_TENANT) is None:
            session.add(Tenant(id=OTHER_TENANT, slug=OTHER_TENANT, name="Other"))
    yield OTHER_TENANT
    with backend.runtime.session_factory.begin() as session:
        for model in (
            DownloadEvent,
            SecurityAdvisory,
            ProxyPackage,
            ProxyAlert,
            GitHubAppInstallation,
            OAuthConnection,
        ):
            session.execute(delete(model).where(model.tenant_id == OTHER_TENANT))
        session.execute(delete(Tenant).where(Tenant.id == OTHER_TENANT))


def _add(backend: Backend, *rows: Any) -> None:
    with backend.runtime.session_factory.begin() as session:
        for row in rows:
            session.add(row)


def _today() -> date:
    return datetime.now(UTC).date()


# -- download statistics ----------------------------------------------------------------------------

STATS = """
query($period: Period, $packageName: String) {
  downloadStats(period: $period, packageName: $packageName) {
    period packageName since totalDownloads totalInstalls
    byPackage { name downloads installs }
    byDay { date downloads installs }
  }
}
"""


@pytest.fixture
def downloads(
    api: Api, backend: Backend, other_tenant: str, make_library_repo: Callable[..., GitRepo]
) -> Api:
    """Served today: acme/library 1.0.0 twice and 2.0.0 once, acme/other 1.0.0 once; one install of
    acme/other reported. Older: acme/library 40 and 200 days ago. Another tenant's download today."""
    for name, tags in (("acme/library", ("1.0.0", "2.0.0")), ("acme/other", ("1.0.0",))):
        api.add_package(make_library_repo(name, tags=tags).url)
    customer = api.create_customer("Alice")
    ok(
        api.put(
            f"/customers/{customer['id']}/packages",
            json={
                "packages": [
                    {"package": "acme/library", "constraint": "*"},
                    {"package": "acme/other", "constraint": "*"},
                ]
            },
        )
    )
    for package, version in (
        ("acme/library", "1.0.0"),
        ("acme/library", "1.0.0"),
        ("acme/library", "2.0.0"),
        ("acme/other", "1.0.0"),
    ):
        assert api.composer(f"/dist/{package}/{version}.zip", customer["token"]).status_code == 200
    body = {"downloads": [{"name": "acme/other", "version": "1.0.0.0"}]}
    assert api.client.post("/downloads", json=body, headers=basic(customer["token"])).status_code == 200
    backend.app.api.state.recorder.flush()
    now = datetime.now(UTC)
    _add(
        backend,
        DownloadEvent(
            kind="download", package_name="acme/library", version="1.0.0", created_at=now - timedelta(days=40)
        ),
        DownloadEvent(
            kind="download",
            package_name="acme/library",
            version="2.0.0",
            created_at=now - timedelta(days=200),
        ),
        DownloadEvent(
            tenant_id=other_tenant,
            kind="download",
            package_name="acme/library",
            version="1.0.0",
            created_at=now,
        ),
    )
    return api


def test_download_stats_per_period_match_rest(downloads: Api, pro: Api) -> None:
    rest = ok(pro.get("/stats/daily", params={"days": 7}))
    week = gql(pro, STATS, {"period": "LAST_7_DAYS"})["downloadStats"]
    assert week["period"] == "LAST_7_DAYS" and week["packageName"] is None
    assert week["since"] == (_today() - timedelta(days=6)).isoformat() == rest["daily"][0]["date"]
    assert (week["totalDownloads"], week["totalInstalls"]) == (rest["downloads"], rest["installs"]) == (4, 1)
    assert week["byDay"] == rest["daily"]
    assert week["byPackage"] == [
        {"name": "acme/library", "downloads": 3, "installs": 0},
        {"name": "acme/other", "downloads": 1, "installs": 1},
    ]

    # The default period is the last 30 days, like GET /stats/daily.
    month = gql(pro, STATS)["downloadStats"]
    assert month["period"] == "LAST_30_DAYS" and len(month["byDay"]) == 30
    assert month["byDay"] == ok(pro.get("/stats/daily"))["daily"]
    assert month["totalDownloads"] == 4

    year = gql(pro, STATS, {"period": "LAST_365_DAYS"})["downloadStats"]
    assert len(year["byDay"]) == 365 and year["totalDownloads"] == 6
    assert year["byDay"] == ok(pro.get("/stats/daily", params={"days": 365}))["daily"]

    # All time: every day since the first event, and the package totals of GET /stats/packages/...
    all_time = gql(pro, STATS, {"period": "ALL_TIME"})["downloadStats"]
    assert all_time["since"] == (_today() - timedelta(days=200)).isoformat()
    assert len(all_time["byDay"]) == 201
    assert all_time["totalDownloads"] == ok(pro.get("/stats"))["downloads"]["total"] == 6
    for row in all_time["byPackage"]:
        rest_package = ok(pro.get(f"/stats/packages/{row['name']}"))
        assert (row["downloads"], row["installs"]) == (rest_package["downloads"], rest_package["installs"])
    assert [row["name"] for row in all_time["byPackage"]] == ["acme/library", "acme/other"]


def test_download_stats_of_one_package(downloads: Api, pro: Api) -> None:
    stats = gql(pro, STATS, {"period": "LAST_90_DAYS", "packageName": "ACME/Library"})["downloadStats"]
    assert stats["packageName"] == "acme/library"
    assert stats["byPackage"] == [{"name": "acme/library", "downloads": 4, "installs": 0}]
    rest = ok(pro.get("/stats/daily", params={"days": 90, "package": "acme/library"}))
    assert stats["byDay"] == rest["daily"] and stats["totalDownloads"] == rest["downloads"] == 4

    missing = graphql_response(pro, STATS, {"packageName": "acme/missing"})
    assert missing["data"] is None and error_codes(missing) == ["NOT_FOUND"]
    malformed = graphql_response(pro, STATS, {"packageName": "not a name"})
    assert error_codes(malformed) == ["VALIDATION_ERROR"]
    assert malformed["errors"][0]["extensions"]["field"] == "packageName"


def test_all_time_before_any_download_is_empty(api: Api, pro: Api) -> None:
    stats = gql(pro, STATS, {"period": "ALL_TIME"})["downloadStats"]
    assert stats == {
        "period": "ALL_TIME",
        "packageName": None,
        "since": None,
        "totalDownloads": 0,
        "totalInstalls": 0,
        "byPackage": [],
        "byDay": [],
    }


def test_version_downloads_match_package_stats(downloads: Api, pro: Api) -> None:
    query = '{ package(name: "acme/library") { versions { version downloads } } }'
    versions = gql(pro, query)["package"]["versions"]
    rest = ok(pro.get("/stats/packages/acme/library"))
    assert {v["version"]: v["downloads"] for v in versions} == {
        v["version"]: v["downloads"] for v in rest["versions"]
    }
    assert {v["version"]: v["downloads"] for v in versions} == {"2.0.0": 2, "1.0.0": 3, "dev-main": 0}


def test_version_downloads_of_every_package_take_one_query(
    downloads: Api, pro: Api, _plain_pro_app: CargomanApp
) -> None:
    query = "query($first: Int) { packages(first: $first) { edges { node { versions { downloads } } } } }"
    statements: dict[int, int] = {}
    for first in (1, 2):
        with StatementCounter(_plain_pro_app.runtime.engine) as counter:
            edges = gql(pro, query, {"first": first})["packages"]["edges"]
        assert len(edges) == first
        statements[first] = len(counter.statements)
    assert statements[1] == statements[2], statements


# -- audit log --------------------------------------------------------------------------------------

AUDIT = """
query($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLogs(filter: $filter, pagination: {first: $first, after: $after}) {
    totalCount
    edges { node { id actor actorKind action resourceType resourceId before after ip createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _as_rest(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(node["id"]),
        "actor": node["actor"],
        "actor_kind": node["actorKind"],
        "action": node["action"],
        "resource_type": node["resourceType"],
        "resource_id": node["resourceId"],
        "before": node["before"],
        "after": node["after"],
        "ip": node["ip"],
        "created_at": node["createdAt"],
    }


def test_audit_logs_page_and_filter_like_rest(api: Api, pro: Api) -> None:
    customers = [api.create_customer(f"Customer {index}") for index in range(3)]
    ok(api.post(f"/customers/{customers[0]['id']}/suspend", json={"reason": "unpaid"}))
    rest = ok(pro.get("/audit", params={"per_page": 100}))
    assert len(rest) == 7  # a customer.create and a token.create per customer, and the suspension

    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        connection = gql(pro, AUDIT, {"first": 3, "after": after})["auditLogs"]
        assert connection["totalCount"] == 7
        pages += 1
        seen += [_as_rest(edge["node"]) for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == rest and pages == 3
    assert seen[0]["action"] == "customer.suspend" and seen[0]["after"]["status"] == "suspended"

    params = {"action": "customer.create", "resource_id": customers[1]["id"]}
    rest_filtered = ok(pro.get("/audit", params=params))
    graphql_filter = {"action": "customer.create", "resourceId": customers[1]["id"]}
    filtered = gql(pro, AUDIT, {"filter": graphql_filter})["auditLogs"]
    assert [_as_rest(edge["node"]) for edge in filtered["edges"]] == rest_filtered
    assert filtered["totalCount"] == 1

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert gql(pro, AUDIT, {"filter": {"since": future}})["auditLogs"]["totalCount"] == 0
    backwards = graphql_response(pro, AUDIT, {"filter": {"since": future, "until": "2020-01-01T00:00:00Z"}})
    assert error_codes(backwards) == ["VALIDATION_ERROR"]
    assert backwards["errors"][0]["extensions"]["field"] == "until"


# -- vulnerabilities --------------------------------------------------------------------------------

VULNERABILITIES = """
query($packageName: String) {
  vulnerabilities(packageName: $packageName) {
    id advisory source packageName title severity cve link affectedVersions patchedVersions description
    reportedAt
  }
}
"""


def _advisory(
    advisory_id: str, package: str, reported_days_ago: int | None, **fields: Any
) -> SecurityAdvisory:
    reported = None if reported_days_ago is None else datetime.now(UTC) - timedelta(days=reported_days_ago)
    return SecurityAdvisory(
        advisory_id=advisory_id,
        source=fields.pop("source", "github"),
        package_name=package,
        title=fields.pop("title", f"{advisory_id} in {package}"),
        affected_versions=fields.pop("affected_versions", "<1.2.0"),
        reported_at=reported,
        **fields,
    )


def test_vulnerabilities_by_package_of_this_tenant_only(
    api: Api, backend: Backend, pro: Api, other_tenant: str
) -> None:
    assert gql(pro, VULNERABILITIES)["vulnerabilities"] == []
    with backend.runtime.session_factory.begin() as session:
        older = advisories.add(
            session,
            DEFAULT_TENANT_ID,
            _advisory(
                "GHSA-aaaa-bbbb-cccc",
                "acme/library",
                30,
                severity="high",
                cve="CVE-2025-0001",
                link="https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
                patched_versions=">=1.2.0",
                description="Path traversal in the archive extractor",
            ),
        )
        newer = advisories.add(
            session, DEFAULT_TENANT_ID, _advisory("PKSA-1", "acme/library", 2, severity="critical")
        )
        undated = advisories.add(session, DEFAULT_TENANT_ID, _advisory("CVE-2024-9", "acme/library", None))
        public = advisories.add(
            session, DEFAULT_TENANT_ID, _advisory("GHSA-zzzz", "monolog/monolog", 1, source="osv")
        )
        advisories.add(session, other_tenant, _advisory("GHSA-hidden", "acme/library", 1))
        ids = {row.advisory_id: row.id for row in (older, newer, undated, public)}

    library = gql(pro, VULNERABILITIES, {"packageName": "acme/library"})["vulnerabilities"]
    # Newest report first, undated last.
    assert [v["advisory"] for v in library] == ["PKSA-1", "GHSA-aaaa-bbbb-cccc", "CVE-2024-9"]
    assert library[1] == {
        "id": ids["GHSA-aaaa-bbbb-cccc"],
        "advisory": "GHSA-aaaa-bbbb-cccc",
        "source": "github",
        "packageName": "acme/library",
        "title": "GHSA-aaaa-bbbb-cccc in acme/library",
        "severity": "high",
        "cve": "CVE-2025-0001",
        "link": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
        "affectedVersions": "<1.2.0",
        "patchedVersions": ">=1.2.0",
        "description": "Path traversal in the archive extractor",
        "reportedAt": library[1]["reportedAt"],
    }
    assert library[2]["reportedAt"] is None and library[2]["severity"] is None

    every = gql(pro, VULNERABILITIES)["vulnerabilities"]
    assert [v["packageName"] for v in every] == ["acme/library"] * 3 + ["monolog/monolog"]
    assert "GHSA-hidden" not in {v["advisory"] for v in every}
    # Proxied public packages are not in the registry's package list, yet have advisories.
    assert [
        v["id"] for v in gql(pro, VULNERABILITIES, {"packageName": "Monolog/Monolog"})["vulnerabilities"]
    ] == [ids["GHSA-zzzz"]]
    assert gql(pro, VULNERABILITIES, {"packageName": "acme/clean"})["vulnerabilities"] == []
    malformed = graphql_response(pro, VULNERABILITIES, {"packageName": "no slash"})
    assert error_codes(malformed) == ["VALIDATION_ERROR"]


# -- proxy ------------------------------------------------------------------------------------------

PROXY = """{ proxyStatus { enabled upstreamUrl metadataTtlSeconds archiveTtlSeconds cachedPackages
  frozenPackages cachedArchives cacheSizeBytes maxCacheSizeBytes cacheUsagePercent openAlerts
  lastMetadataFetchAt } }"""


def test_proxy_status_counts_this_tenants_cache(
    backend: Backend, pro: Api, integrated: Api, other_tenant: str
) -> None:
    assert gql(pro, PROXY)["proxyStatus"] == {
        "enabled": False,
        "upstreamUrl": "https://repo.packagist.org",
        "metadataTtlSeconds": 3600,
        "archiveTtlSeconds": 86400,
        "cachedPackages": 0,
        "frozenPackages": 0,
        "cachedArchives": 0,
        "cacheSizeBytes": 0,
        "maxCacheSizeBytes": 10 * GB,
        "cacheUsagePercent": 0,
        "openAlerts": 0,
        "lastMetadataFetchAt": None,
    }
    fetched = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    _add(
        backend,
        ProxyPackage(name="monolog/monolog", archive_count=3, archive_bytes=GB, metadata_fetched_at=fetched),
        ProxyPackage(name="psr/log", frozen=True, archive_count=2, archive_bytes=GB // 2),
        ProxyPackage(name="symfony/console", metadata_fetched_at=fetched - timedelta(days=1)),
        ProxyPackage(tenant_id=other_tenant, name="psr/log", frozen=True, archive_count=9, archive_bytes=GB),
        ProxyAlert(kind="upstream_error", message="502 from upstream", package_name="psr/log"),
        ProxyAlert(kind="cache_full", message="over the limit", resolved_at=fetched),
        ProxyAlert(tenant_id=other_tenant, kind="upstream_error", message="elsewhere"),
    )
    status = gql(integrated, PROXY)["proxyStatus"]
    assert status == {
        "enabled": True,
        "upstreamUrl": "https://packagist.acme.test",
        "metadataTtlSeconds": 600,
        "archiveTtlSeconds": 7200,
        "cachedPackages": 3,
        "frozenPackages": 1,
        "cachedArchives": 5,
        "cacheSizeBytes": GB + GB // 2,
        "maxCacheSizeBytes": 4 * GB,
        "cacheUsagePercent": 37.5,
        "openAlerts": 1,
        "lastMetadataFetchAt": "2025-03-01T12:00:00Z",
    }


# -- GitHub App and OAuth ---------------------------------------------------------------------------

INSTALLATIONS = """{ githubAppInstallations { id githubInstallationId accountLogin accountType
  repositorySelection status claimed installedAt claimedAt suspendedAt } }"""


def test_github_app_status_follows_the_settings(pro: Api, integrated: Api) -> None:
    query = "{ githubAppStatus { configured appId appSlug installUrl } }"
    assert gql(pro, query)["githubAppStatus"] == {
        "configured": False,
        "appId": None,
        "appSlug": None,
        "installUrl": None,
    }
    assert gql(integrated, query)["githubAppStatus"] == {
        "configured": True,
        "appId": "424242",
        "appSlug": "acme-registry",
        "installUrl": "https://github.acme.test/apps/acme-registry/installations/new",
    }


def test_github_app_installations_exclude_deleted_and_other_tenants(
    backend: Backend, pro: Api, other_tenant: str
) -> None:
    assert gql(pro, INSTALLATIONS)["githubAppInstallations"] == []
    start = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    _add(
        backend,
        GitHubAppInstallation(
            id="inst_org",
            github_installation_id=3_000_000_001,
            account_login="acme-org",
            account_type="Organization",
            installed_at=start,
            claimed_at=start + timedelta(hours=1),
        ),
        GitHubAppInstallation(
            id="inst_user",
            github_installation_id=12345,
            account_login="jane",
            account_type="User",
            repository_selection="selected",
            status="suspended",
            installed_at=start + timedelta(days=1),
            suspended_at=start + timedelta(days=2),
        ),
        GitHubAppInstallation(
            id="inst_gone",
            github_installation_id=777,
            account_login="old-org",
            account_type="Organization",
            status="deleted",
            installed_at=start - timedelta(days=1),
        ),
        GitHubAppInstallation(
            id="inst_other",
            tenant_id=other_tenant,
            github_installation_id=888,
            account_login="theirs",
            account_type="Organization",
            installed_at=start,
        ),
    )
    assert gql(pro, INSTALLATIONS)["githubAppInstallations"] == [
        {
            "id": "inst_org",
            "githubInstallationId": "3000000001",
            "accountLogin": "acme-org",
            "accountType": "Organization",
            "repositorySelection": "all",
            "status": "active",
            "claimed": True,
            "installedAt": "2025-01-15T10:30:00Z",
            "claimedAt": "2025-01-15T11:30:00Z",
            "suspendedAt": None,
        },
        {
            "id": "inst_user",
            "githubInstallationId": "12345",
            "accountLogin": "jane",
            "accountType": "User",
            "repositorySelection": "selected",
            "status": "suspended",
            "claimed": False,
            "installedAt": "2025-01-16T10:30:00Z",
            "claimedAt": None,
            "suspendedAt": "2025-01-17T10:30:00Z",
        },
    ]


def test_oauth_connections_never_show_tokens(backend: Backend, pro: Api, other_tenant: str) -> None:
    assert gql(pro, "{ oauthConnections { id } }")["oauthConnections"] == []
    box = SecretBox.from_settings(backend.settings)
    access, refresh = "glpat-secret-access-token", "glprt-secret-refresh-token"
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    _add(
        backend,
        OAuthConnection(
            id="oauth_gitlab",
            provider="gitlab",
            base_url="https://gitlab.acme.test",
            account_id="42",
            account_login="jane",
            access_token_encrypted=box.encrypt(access, "oauth:gitlab"),
            refresh_token_encrypted=box.encrypt(refresh, "oauth:gitlab"),
            token_expires_at=expires,
            scopes="read_api read_repository",
            connected_by="root",
        ),
        OAuthConnection(
            id="oauth_bitbucket",
            provider="bitbucket",
            base_url="https://bitbucket.org",
            account_login="acme",
            access_token_encrypted=box.encrypt("bb-access", "oauth:bitbucket"),
            scopes="repository",
        ),
        OAuthConnection(
            id="oauth_other",
            tenant_id=other_tenant,
            provider="gitlab",
            base_url="https://gitlab.com",
            access_token_encrypted="sealed",
        ),
    )
    fields = "id provider baseUrl accountId accountLogin scopes connectedBy connectedAt updatedAt expiresAt"
    body = graphql_response(pro, f"{{ oauthConnections {{ {fields} }} }}")
    connections = body["data"]["oauthConnections"]
    assert [c["id"] for c in connections] == ["oauth_bitbucket", "oauth_gitlab"]
    gitlab = connections[1]
    assert gitlab["provider"] == "gitlab" and gitlab["accountLogin"] == "jane" and gitlab["accountId"] == "42"
    assert gitlab["scopes"] == ["read_api", "read_repository"] and gitlab["connectedBy"] == "root"
    assert gitlab["expiresAt"] == "2030-01-01T00:00:00Z" and gitlab["baseUrl"] == "https://gitlab.acme.test"
    assert connections[0]["expiresAt"] is None and connections[0]["scopes"] == ["repository"]

    # No token in the answer, and no field that could carry one.
    with backend.runtime.session_factory() as session:
        sealed = [row.access_token_encrypted for row in session.query(OAuthConnection)]
    text = str(body)
    for secret in (access, refresh, "bb-access", *sealed):
        assert secret not in text
    oauth_type = build_schema()._schema.get_type("OAuthConnection")
    assert not [name for name in oauth_type.fields if "token" in name.lower() or "secret" in name.lower()]  # type: ignore[union-attr]
    unknown = graphql_response(pro, "{ oauthConnections { accessToken } }")
    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
