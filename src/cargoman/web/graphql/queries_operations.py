"""Query fields for operating the registry: analytics, audit log, advisories, proxy, integrations.

Thin resolvers over the same services and repositories the REST API reads; each one stays inside
the caller's tenant and applies the edition gate REST applies to the same data.
"""

from __future__ import annotations

import strawberry

from cargoman import validation
from cargoman.advisories import repository as advisories
from cargoman.audit import service as audit
from cargoman.audit.repository import AuditFilter
from cargoman.editions import Feature, require_feature
from cargoman.github_app.listing import list_installations
from cargoman.oauth.listing import list_connections
from cargoman.proxy import repository as proxy
from cargoman.stats import service as stats
from cargoman.web.graphql.paging import Pagination, window
from cargoman.web.graphql.types import Connection, Ctx
from cargoman.web.graphql.types_operations import (
    AuditLog,
    AuditLogFilter,
    DownloadStats,
    GitHubAppInstallation,
    GitHubAppStatus,
    OAuthConnection,
    Period,
    ProxyStatus,
    Vulnerability,
)

DEFAULT_PERIOD = Period.LAST_30_DAYS


def _audit_filter(given: AuditLogFilter | None) -> AuditFilter:
    if given is None:
        return AuditFilter()
    return AuditFilter(
        actor=given.actor,
        action=given.action,
        resource_type=given.resource_type,
        resource_id=given.resource_id,
        since=given.since,
        until=given.until,
    )


@strawberry.type
class OperationsQuery:
    @strawberry.field(description="Downloads and installs over a period, per package and per day (Pro+)")
    def download_stats(
        self, info: Ctx, package_name: str | None = None, period: Period | None = None
    ) -> DownloadStats:
        chosen = period or DEFAULT_PERIOD
        if package_name is not None:
            package_name = validation.package_name(package_name, field="packageName")
        figures = stats.period_stats(info.context.ctx, chosen.days, package_name)
        return DownloadStats.from_stats(chosen, figures)

    @strawberry.field(description="The audit log, newest first (Pro+)")
    def audit_logs(
        self,
        info: Ctx,
        filter: AuditLogFilter | None = None,
        pagination: Pagination | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditLog]:
        page_window = window(pagination, first, after)
        page = audit.list_entries(info.context.ctx, _audit_filter(filter), page_window)
        return Connection.build([AuditLog.from_row(row) for row in page.items], page_window.start, page.total)

    @strawberry.field(description="Known vulnerabilities, of one package or of all (Pro+)")
    def vulnerabilities(self, info: Ctx, package_name: str | None = None) -> list[Vulnerability]:
        ctx = info.context.ctx
        require_feature(ctx.settings.edition, Feature.VULNERABILITY_SCANNING)
        name = None if package_name is None else validation.package_name(package_name, field="packageName")
        rows = advisories.list_advisories(ctx.session, ctx.tenant_id, name)
        return [Vulnerability.from_row(row) for row in rows]

    @strawberry.field(description="The Packagist proxy: settings, cache contents, open alerts (Pro+)")
    def proxy_status(self, info: Ctx) -> ProxyStatus:
        ctx = info.context.ctx
        require_feature(ctx.settings.edition, Feature.PACKAGIST_PROXY)
        counts = proxy.cache_counts(ctx.session, ctx.tenant_id)
        return ProxyStatus.build(ctx.settings, counts, proxy.open_alert_count(ctx.session, ctx.tenant_id))

    @strawberry.field(description="Whether the GitHub App is configured")
    def github_app_status(self, info: Ctx) -> GitHubAppStatus:
        return GitHubAppStatus.from_settings(info.context.ctx.settings)

    @strawberry.field(description="GitHub App installations, oldest first")
    def github_app_installations(self, info: Ctx) -> list[GitHubAppInstallation]:
        ctx = info.context.ctx
        return [GitHubAppInstallation.from_row(row) for row in list_installations(ctx.session, ctx.tenant_id)]

    @strawberry.field(description="Connected GitLab and Bitbucket accounts")
    def oauth_connections(self, info: Ctx) -> list[OAuthConnection]:
        ctx = info.context.ctx
        return [OAuthConnection.from_row(row) for row in list_connections(ctx.session, ctx.tenant_id)]
