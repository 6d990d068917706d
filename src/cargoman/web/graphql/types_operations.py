"""GraphQL types of the operational queries: analytics, audit log, advisories, proxy, integrations."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cargoman.config import Settings
from cargoman.db import models
from cargoman.github_app.config import app_config
from cargoman.proxy.repository import CacheCounts
from cargoman.stats.service import PeriodStats


@strawberry.enum(description="A time window of the download statistics, ending today (UTC)")
class Period(Enum):
    LAST_7_DAYS = 7
    LAST_30_DAYS = 30
    LAST_90_DAYS = 90
    LAST_365_DAYS = 365
    ALL_TIME = 0

    @property
    def days(self) -> int | None:
        """Whole UTC days covered, today included; None for all time."""
        return None if self is Period.ALL_TIME else self.value


# -- download statistics ----------------------------------------------------------------------------


@strawberry.type(description="Downloads and installs of one package in the period")
class PackageDownloads:
    name: str
    downloads: int
    installs: int


@strawberry.type(description="Downloads and installs of one UTC day")
class DayDownloads:
    date: date
    downloads: int
    installs: int


@strawberry.type(description="Dist downloads (and Composer-reported installs) over a period")
class DownloadStats:
    period: Period
    package_name: str | None = strawberry.field(description="The package the figures are limited to")
    since: date | None = strawberry.field(
        description="The first day counted; null for ALL_TIME before anything was downloaded"
    )
    total_downloads: int
    total_installs: int
    by_package: list[PackageDownloads] = strawberry.field(description="Most downloaded first")
    by_day: list[DayDownloads] = strawberry.field(description="Every day of the period, oldest first")

    @classmethod
    def from_stats(cls, period: Period, stats: PeriodStats) -> DownloadStats:
        return cls(
            period=period,
            package_name=stats.package,
            since=stats.first_day,
            total_downloads=stats.downloads,
            total_installs=stats.installs,
            by_package=[
                PackageDownloads(name=row.package, downloads=row.downloads, installs=row.installs)
                for row in stats.packages
            ],
            by_day=[
                DayDownloads(date=day.date, downloads=day.downloads, installs=day.installs)
                for day in stats.daily
            ],
        )


# -- audit log --------------------------------------------------------------------------------------


@strawberry.input(description="Every set field narrows the result; `since` is inclusive, `until` exclusive")
class AuditLogFilter:
    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="One audit log entry: who changed what, when, from where")
class AuditLog:
    id: strawberry.ID
    actor: str
    actor_kind: str
    action: str
    resource_type: str
    resource_id: str | None
    before: JSON | None
    after: JSON | None
    ip: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.AuditEntry) -> AuditLog:
        return cls(
            id=strawberry.ID(str(row.id)),
            actor=row.actor,
            actor_kind=row.actor_kind,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            before=_json(row.before),
            after=_json(row.after),
            ip=row.ip,
            created_at=row.created_at,
        )


def _json(value: dict[str, Any] | None) -> JSON | None:
    return None if value is None else JSON(value)


# -- vulnerabilities --------------------------------------------------------------------------------


@strawberry.type(description="A known vulnerability of a package")
class Vulnerability:
    id: strawberry.ID
    advisory: str = strawberry.field(description="The advisory's identifier: GHSA-..., CVE-..., PKSA-...")
    source: str = strawberry.field(description="osv, github, friendsofphp or manual")
    package_name: str
    title: str
    severity: str | None = strawberry.field(description="low, medium, high or critical, as reported")
    cve: str | None
    link: str | None
    affected_versions: str = strawberry.field(description="A Composer constraint")
    patched_versions: str | None
    description: str | None
    reported_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.SecurityAdvisory) -> Vulnerability:
        return cls(
            id=strawberry.ID(row.id),
            advisory=row.advisory_id,
            source=row.source,
            package_name=row.package_name,
            title=row.title,
            severity=row.severity,
            cve=row.cve,
            link=row.link,
            affected_versions=row.affected_versions,
            patched_versions=row.patched_versions,
            description=row.description,
            reported_at=row.reported_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


# -- Packagist proxy --------------------------------------------------------------------------------


@strawberry.type(description="The Packagist proxy: its settings and what its cache holds")
class ProxyStatus:
    enabled: bool
    upstream_url: str
    metadata_ttl_seconds: int
    archive_ttl_seconds: int
    cached_packages: int
    frozen_packages: int
    cached_archives: int
    cache_size_bytes: float = strawberry.field(description="Bytes (a float: it may outgrow a 32-bit Int)")
    max_cache_size_bytes: float = strawberry.field(description="PROXY_MAX_CACHE_SIZE")
    cache_usage_percent: float
    open_alerts: int
    last_metadata_fetch_at: datetime | None

    @classmethod
    def build(cls, settings: Settings, counts: CacheCounts, open_alerts: int) -> ProxyStatus:
        limit = settings.proxy_max_cache_size
        usage = round(100 * counts.archive_bytes / limit, 2) if limit > 0 else 0.0
        return cls(
            enabled=settings.proxy_enabled,
            upstream_url=settings.proxy_packagist_url,
            metadata_ttl_seconds=settings.proxy_metadata_ttl,
            archive_ttl_seconds=settings.proxy_archive_ttl,
            cached_packages=counts.packages,
            frozen_packages=counts.frozen_packages,
            cached_archives=counts.archives,
            cache_size_bytes=float(counts.archive_bytes),
            max_cache_size_bytes=float(limit),
            cache_usage_percent=usage,
            open_alerts=open_alerts,
            last_metadata_fetch_at=counts.last_metadata_fetch_at,
        )


# -- GitHub App and OAuth ---------------------------------------------------------------------------


@strawberry.type(description="Whether the registry's GitHub App is configured (GITHUB_APP_* settings)")
class GitHubAppStatus:
    configured: bool = strawberry.field(description="GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are both set")
    app_id: str | None
    app_slug: str | None
    install_url: str | None = strawberry.field(description="Where to install the app; needs GITHUB_APP_SLUG")

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubAppStatus:
        config = app_config(settings)
        if config is None:
            return cls(configured=False, app_id=None, app_slug=None, install_url=None)
        install_url = f"{config.web_url}/apps/{config.slug}/installations/new" if config.slug else None
        return cls(configured=True, app_id=config.app_id, app_slug=config.slug, install_url=install_url)


@strawberry.type(description="An installation of the registry's GitHub App on a GitHub account")
class GitHubAppInstallation:
    id: strawberry.ID
    github_installation_id: str = strawberry.field(
        description="GitHub's numeric installation id, as text (it may outgrow a 32-bit Int)"
    )
    account_login: str
    account_type: str = strawberry.field(description="User or Organization")
    repository_selection: str = strawberry.field(description="all or selected")
    status: str = strawberry.field(description="active or suspended")
    claimed: bool = strawberry.field(description="False until an administrator claims it for this registry")
    installed_at: datetime
    claimed_at: datetime | None
    suspended_at: datetime | None

    @classmethod
    def from_row(cls, row: models.GitHubAppInstallation) -> GitHubAppInstallation:
        return cls(
            id=strawberry.ID(row.id),
            github_installation_id=str(row.github_installation_id),
            account_login=row.account_login,
            account_type=row.account_type,
            repository_selection=row.repository_selection,
            status=row.status,
            claimed=row.claimed_at is not None,
            installed_at=row.installed_at,
            claimed_at=row.claimed_at,
            suspended_at=row.suspended_at,
        )


@strawberry.type(description="A GitLab or Bitbucket account connected by OAuth (its tokens are never shown)")
class OAuthConnection:
    id: strawberry.ID
    provider: str = strawberry.field(description="gitlab or bitbucket")
    base_url: str
    account_id: str | None
    account_login: str | None
    scopes: list[str]
    connected_by: str | None
    connected_at: datetime
    updated_at: datetime
    expires_at: datetime | None = strawberry.field(description="When the access token expires, if it does")

    @classmethod
    def from_row(cls, row: models.OAuthConnection) -> OAuthConnection:
        return cls(
            id=strawberry.ID(row.id),
            provider=row.provider,
            base_url=row.base_url,
            account_id=row.account_id,
            account_login=row.account_login,
            scopes=(row.scopes or "").replace(",", " ").split(),
            connected_by=row.connected_by,
            connected_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.token_expires_at,
        )
