"""Audit log queries, always filtered by tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from cargoman.db.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    """Every set field narrows the result; `since` is inclusive, `until` exclusive."""

    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_query(tenant_id: str, where: AuditFilter) -> Select[Any]:
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if where.actor is not None:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action is not None:
        query = query.where(AuditEntry.action == where.action)
    if where.resource_type is not None:
        query = query.where(AuditEntry.resource_type == where.resource_type)
    if where.resource_id is not None:
        query = query.where(AuditEntry.resource_id == where.resource_id)
    if where.since is not None:
        query = query.where(AuditEntry.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.created_at < where.until)
    # Newest first; the id breaks ties between entries of the same instant.
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def delete_older_than(session: Session, tenant_id: str, cutoff: datetime) -> int:
    result = session.execute(
        delete(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
