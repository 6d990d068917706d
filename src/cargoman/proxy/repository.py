"""Packagist proxy cache queries, always filtered by tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from cargoman.db.models import ProxyAlert, ProxyPackage


@dataclass(frozen=True)
class CacheCounts:
    packages: int
    frozen_packages: int
    archives: int
    archive_bytes: int
    last_metadata_fetch_at: datetime | None


def cache_counts(session: Session, tenant_id: str) -> CacheCounts:
    """Cached packages (frozen ones too), archives and their size, in one query."""
    row = session.execute(
        select(
            func.count(ProxyPackage.id),
            func.coalesce(func.sum(ProxyPackage.frozen.cast(Integer)), 0),
            func.coalesce(func.sum(ProxyPackage.archive_count), 0),
            func.coalesce(func.sum(ProxyPackage.archive_bytes), 0),
            func.max(ProxyPackage.metadata_fetched_at),
        ).where(ProxyPackage.tenant_id == tenant_id)
    ).one()
    packages, frozen, archives, size, last_fetch = row
    return CacheCounts(int(packages), int(frozen), int(archives), int(size), last_fetch)


def open_alert_count(session: Session, tenant_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ProxyAlert)
            .where(ProxyAlert.tenant_id == tenant_id, ProxyAlert.resolved_at.is_(None))
        )
        or 0
    )
