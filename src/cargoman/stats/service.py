"""Download analytics: totals, per package, per version, per customer and per day.

Recording always happens (see recorder.py); reading the figures is the Download analytics feature
of the Pro and higher editions. Downloads are dists served to customer tokens; installs are what
Composer reports through notify-batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from cargoman import validation
from cargoman.composer.versions import sort_versions
from cargoman.editions import Feature, require_feature
from cargoman.errors import NotFound, ValidationFailed
from cargoman.packages import repository as packages_repository
from cargoman.runtime import ServiceContext
from cargoman.stats import repository
from cargoman.stats.repository import KindCounts
from cargoman.timeutil import utcnow

MAX_DAYS = 365
RECENT_DAYS = 30
CUSTOMER_STATUSES = ("active", "suspended", "frozen", "expired")


@dataclass(frozen=True)
class Usage:
    total: int
    last_30_days: int


@dataclass(frozen=True)
class Overview:
    packages: int
    versions: int
    customers: dict[str, int]  # total and one entry per status
    downloads: Usage
    installs: Usage


@dataclass(frozen=True)
class VersionUsage:
    version: str
    downloads: int
    installs: int


@dataclass(frozen=True)
class CustomerUsage:
    customer_id: str | None  # None: installs reported with an admin credential
    customer_name: str | None
    downloads: int
    installs: int


@dataclass(frozen=True)
class DayUsage:
    date: date
    downloads: int
    installs: int


@dataclass(frozen=True)
class PackageStats:
    package: str
    downloads: int
    installs: int
    versions: list[VersionUsage]
    customers: list[CustomerUsage]


@dataclass(frozen=True)
class VersionStats:
    package: str
    version: str
    downloads: int
    installs: int
    customers: list[CustomerUsage]
    daily: list[DayUsage]


@dataclass(frozen=True)
class DailyStats:
    days: int
    package: str | None
    downloads: int
    installs: int
    daily: list[DayUsage]


def _require_analytics(ctx: ServiceContext) -> None:
    require_feature(ctx.settings.edition, Feature.DOWNLOAD_ANALYTICS)


def _downloads(counts: KindCounts) -> int:
    return counts.get("download", 0)


def _installs(counts: KindCounts) -> int:
    return counts.get("install", 0)


def _validate_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed("days", f"must be between 1 and {MAX_DAYS}")
    return days


def _first_day(days: int) -> date:
    return utcnow().date() - timedelta(days=days - 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def overview(ctx: ServiceContext) -> Overview:
    _require_analytics(ctx)
    now = utcnow()
    session, tenant_id = ctx.session, ctx.tenant_id
    by_status = repository.customer_counts(session, tenant_id, now)
    customers = {"total": sum(by_status.values())}
    customers.update({status: by_status.get(status, 0) for status in CUSTOMER_STATUSES})
    total = repository.counts_by_kind(session, tenant_id)
    recent = repository.counts_by_kind(
        session, tenant_id, since=_midnight(now.date() - timedelta(days=RECENT_DAYS - 1))
    )
    return Overview(
        packages=repository.package_count(session, tenant_id),
        versions=repository.version_count(session, tenant_id),
        customers=customers,
        downloads=Usage(_downloads(total), _downloads(recent)),
        installs=Usage(_installs(total), _installs(recent)),
    )


def _package_name(ctx: ServiceContext, name: str) -> tuple[str, str]:
    """(package id, canonical name) of an existing package; NotFound otherwise."""
    package = packages_repository.get_by_name(ctx.session, ctx.tenant_id, name)
    if package is None:
        raise NotFound(f"Package {name} not found")
    return package.id, package.name


def _customers(ctx: ServiceContext, by_customer: dict[str | None, KindCounts]) -> list[CustomerUsage]:
    names = repository.customer_names(ctx.session, ctx.tenant_id, [c for c in by_customer if c is not None])
    rows = [
        CustomerUsage(
            customer_id, names.get(customer_id) if customer_id else None, _downloads(c), _installs(c)
        )
        for customer_id, c in by_customer.items()
    ]
    return sorted(rows, key=lambda row: (-(row.downloads + row.installs), row.customer_id or ""))


def package_stats(ctx: ServiceContext, name: str) -> PackageStats:
    _require_analytics(ctx)
    package_id, package_name = _package_name(ctx, name)
    session, tenant_id = ctx.session, ctx.tenant_id
    by_version = repository.counts_by_version(session, tenant_id, package_name)
    # Every current version (newest first, zeros included), then versions only the events remember.
    current = {
        v.version_normalized: v.version
        for v in packages_repository.versions_of(session, tenant_id, package_id)
    }
    ordered = [current[n] for n in sort_versions(list(current), reverse=True)]
    ordered += sorted(set(by_version) - set(ordered))
    versions = [
        VersionUsage(v, _downloads(by_version.get(v, {})), _installs(by_version.get(v, {}))) for v in ordered
    ]
    total = repository.counts_by_kind(session, tenant_id, package_name)
    return PackageStats(
        package=package_name,
        downloads=_downloads(total),
        installs=_installs(total),
        versions=versions,
        customers=_customers(ctx, repository.counts_by_customer(session, tenant_id, package_name)),
    )


def _daily(
    ctx: ServiceContext, days: int, package_name: str | None = None, version: str | None = None
) -> list[DayUsage]:
    first = _first_day(days)
    by_day = repository.counts_by_day(ctx.session, ctx.tenant_id, _midnight(first), package_name, version)
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        counts = by_day.get(day.isoformat(), {})
        result.append(DayUsage(day, _downloads(counts), _installs(counts)))
    return result


def version_stats(ctx: ServiceContext, name: str, version: str, days: int = RECENT_DAYS) -> VersionStats:
    _require_analytics(ctx)
    _validate_days(days)
    package_id, package_name = _package_name(ctx, name)
    session, tenant_id = ctx.session, ctx.tenant_id
    row = packages_repository.find_version(session, tenant_id, package_id, version)
    pretty = row.version if row is not None else version
    total = repository.counts_by_kind(session, tenant_id, package_name, pretty)
    if row is None and not total:
        raise NotFound(f"Version {version} of {package_name} not found")
    return VersionStats(
        package=package_name,
        version=pretty,
        downloads=_downloads(total),
        installs=_installs(total),
        customers=_customers(ctx, repository.counts_by_customer(session, tenant_id, package_name, pretty)),
        daily=_daily(ctx, days, package_name, pretty),
    )


def daily_stats(ctx: ServiceContext, days: int = RECENT_DAYS, package: str | None = None) -> DailyStats:
    _require_analytics(ctx)
    _validate_days(days)
    package_name = None
    if package is not None:
        _, package_name = _package_name(ctx, validation.package_name(package, field="package"))
    daily = _daily(ctx, days, package_name)
    return DailyStats(
        days=days,
        package=package_name,
        downloads=sum(day.downloads for day in daily),
        installs=sum(day.installs for day in daily),
        daily=daily,
    )


@dataclass(frozen=True)
class PackageUsage:
    package: str
    downloads: int
    installs: int


@dataclass(frozen=True)
class PeriodStats:
    days: int | None  # None: all time
    package: str | None
    first_day: date | None  # None: all time and nothing recorded yet
    downloads: int
    installs: int
    packages: list[PackageUsage]  # most downloaded first
    daily: list[DayUsage]


def period_stats(
    ctx: ServiceContext, days: int | None = RECENT_DAYS, package: str | None = None
) -> PeriodStats:
    """Totals, per package and per day over the last ``days`` days, or since the first event (None)."""
    _require_analytics(ctx)
    package_name = None
    if package is not None:
        _, package_name = _package_name(ctx, validation.package_name(package, field="package"))
    if days is None:
        first_event = repository.first_event_at(ctx.session, ctx.tenant_id, package_name)
        span = (utcnow().date() - first_event.date()).days + 1 if first_event is not None else 0
        since = None
    else:
        span = _validate_days(days)
        since = _midnight(_first_day(span))
    by_package = repository.counts_by_package(ctx.session, ctx.tenant_id, since, package_name)
    packages = sorted(
        (PackageUsage(name, _downloads(counts), _installs(counts)) for name, counts in by_package.items()),
        key=lambda row: (-row.downloads, -row.installs, row.package),
    )
    return PeriodStats(
        days=days,
        package=package_name,
        first_day=_first_day(span) if span else None,
        downloads=sum(row.downloads for row in packages),
        installs=sum(row.installs for row in packages),
        packages=packages,
        daily=_daily(ctx, span, package_name) if span else [],
    )


def downloads_by_version(ctx: ServiceContext, package_names: list[str]) -> dict[str, dict[str, int]]:
    """Dist downloads of each named package, per (pretty) version."""
    _require_analytics(ctx)
    return repository.downloads_by_version(ctx.session, ctx.tenant_id, package_names)
