"""Statistics queries over download/install events, always filtered by tenant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cargoman.db.models import Customer, DownloadEvent, Package, Version

# (kind, count) rows become {"download": n, "install": m}
KindCounts = dict[str, int]


def version_names(
    session: Session, tenant_id: str, package_name: str, versions: Iterable[str]
) -> list[tuple[str, str]]:
    """(pretty, normalized) of the package's versions named (either way) in ``versions``."""
    names = list(versions)
    rows = session.execute(
        select(Version.version, Version.version_normalized)
        .join(Package, Package.id == Version.package_id)
        .where(
            Version.tenant_id == tenant_id,
            Package.tenant_id == tenant_id,
            Package.name == package_name,
            or_(Version.version.in_(names), Version.version_normalized.in_(names)),
        )
    )
    return [(pretty, normalized) for pretty, normalized in rows]


def _filters(
    tenant_id: str,
    package_name: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [DownloadEvent.tenant_id == tenant_id]
    if package_name is not None:
        conditions.append(DownloadEvent.package_name == package_name)
    if version is not None:
        conditions.append(DownloadEvent.version == version)
    if since is not None:
        conditions.append(DownloadEvent.created_at >= since)
    return conditions


def counts_by_kind(
    session: Session,
    tenant_id: str,
    package_name: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
) -> KindCounts:
    rows = session.execute(
        select(DownloadEvent.kind, func.count())
        .where(*_filters(tenant_id, package_name, version, since))
        .group_by(DownloadEvent.kind)
    )
    return {kind: count for kind, count in rows}


def counts_by_version(session: Session, tenant_id: str, package_name: str) -> dict[str, KindCounts]:
    rows = session.execute(
        select(DownloadEvent.version, DownloadEvent.kind, func.count())
        .where(*_filters(tenant_id, package_name))
        .group_by(DownloadEvent.version, DownloadEvent.kind)
    )
    result: dict[str, KindCounts] = {}
    for version, kind, count in rows:
        result.setdefault(version, {})[kind] = count
    return result


def counts_by_customer(
    session: Session, tenant_id: str, package_name: str, version: str | None = None
) -> dict[str | None, KindCounts]:
    """Keyed by customer id; None collects installs reported with an admin credential."""
    rows = session.execute(
        select(DownloadEvent.customer_id, DownloadEvent.kind, func.count())
        .where(*_filters(tenant_id, package_name, version))
        .group_by(DownloadEvent.customer_id, DownloadEvent.kind)
    )
    result: dict[str | None, KindCounts] = {}
    for customer_id, kind, count in rows:
        result.setdefault(customer_id, {})[kind] = count
    return result


def _utc_day(session: Session) -> ColumnElement[Any]:
    """The UTC calendar day of an event as 'YYYY-MM-DD' (timestamps are stored in UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", DownloadEvent.created_at), "YYYY-MM-DD")
    return func.date(DownloadEvent.created_at)


def counts_by_day(
    session: Session,
    tenant_id: str,
    since: datetime,
    package_name: str | None = None,
    version: str | None = None,
) -> dict[str, KindCounts]:
    day = _utc_day(session).label("day")
    rows = session.execute(
        select(day, DownloadEvent.kind, func.count())
        .where(*_filters(tenant_id, package_name, version, since))
        .group_by(day, DownloadEvent.kind)
    )
    result: dict[str, KindCounts] = {}
    for day_value, kind, count in rows:
        result.setdefault(str(day_value), {})[kind] = count
    return result


def customer_names(session: Session, tenant_id: str, customer_ids: Iterable[str]) -> dict[str, str]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.name).where(Customer.tenant_id == tenant_id, Customer.id.in_(ids))
    )
    return {customer_id: name for customer_id, name in rows}


def customer_counts(session: Session, tenant_id: str, now: datetime) -> dict[str, int]:
    """Customers by effective status: an active customer whose expires_at has passed is expired."""
    lapsed = (Customer.expires_at.is_not(None)) & (Customer.expires_at <= now)
    rows = session.execute(
        select(Customer.status, lapsed.label("lapsed"), func.count())
        .where(Customer.tenant_id == tenant_id)
        .group_by(Customer.status, "lapsed")
    )
    counts: dict[str, int] = {}
    for status, is_lapsed, count in rows:
        effective = "expired" if status == "active" and is_lapsed else status
        counts[effective] = counts.get(effective, 0) + count
    return counts


def package_count(session: Session, tenant_id: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(Package).where(Package.tenant_id == tenant_id)) or 0
    )


def version_count(session: Session, tenant_id: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(Version).where(Version.tenant_id == tenant_id)) or 0
    )


def counts_by_package(
    session: Session, tenant_id: str, since: datetime | None = None, package_name: str | None = None
) -> dict[str, KindCounts]:
    rows = session.execute(
        select(DownloadEvent.package_name, DownloadEvent.kind, func.count())
        .where(*_filters(tenant_id, package_name, since=since))
        .group_by(DownloadEvent.package_name, DownloadEvent.kind)
    )
    result: dict[str, KindCounts] = {}
    for name, kind, count in rows:
        result.setdefault(name, {})[kind] = count
    return result


def first_event_at(session: Session, tenant_id: str, package_name: str | None = None) -> datetime | None:
    first = select(func.min(DownloadEvent.created_at)).where(*_filters(tenant_id, package_name))
    return session.scalar(first)


def downloads_by_version(
    session: Session, tenant_id: str, package_names: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Dist downloads per package and (pretty) version, for several packages in one query."""
    names = list(package_names)
    result: dict[str, dict[str, int]] = {name: {} for name in names}
    if not names:
        return result
    rows = session.execute(
        select(DownloadEvent.package_name, DownloadEvent.version, func.count())
        .where(
            DownloadEvent.tenant_id == tenant_id,
            DownloadEvent.kind == "download",
            DownloadEvent.package_name.in_(names),
        )
        .group_by(DownloadEvent.package_name, DownloadEvent.version)
    )
    for name, version, count in rows:
        result[name][version] = count
    return result
