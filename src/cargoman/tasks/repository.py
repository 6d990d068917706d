"""Task queue queries. Claiming is a conditional UPDATE, so several workers never run one task twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from cargoman.db.models import Package, Task, Tenant


def get(session: Session, tenant_id: str, task_id: str) -> Task | None:
    return session.scalar(select(Task).where(Task.tenant_id == tenant_id, Task.id == task_id))


def next_due_ids(session: Session, now: datetime, limit: int = 5) -> list[str]:
    return list(
        session.scalars(
            select(Task.id)
            .where(Task.status == "pending", Task.run_after <= now)
            .order_by(Task.run_after, Task.created_at)
            .limit(limit)
        )
    )


def try_claim(session: Session, task_id: str, worker_id: str, now: datetime) -> bool:
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status == "pending")
        .values(
            status="running",
            locked_by=worker_id,
            attempts=Task.attempts + 1,
            started_at=now,
            heartbeat_at=now,
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def heartbeat(session: Session, task_id: str, worker_id: str, now: datetime) -> None:
    session.execute(
        update(Task).where(Task.id == task_id, Task.locked_by == worker_id).values(heartbeat_at=now)
    )


def release_stale(session: Session, stale_before: datetime) -> int:
    """Tasks left `running` by a process that died go back to the queue."""
    result = session.execute(
        update(Task)
        .where(Task.status == "running", Task.heartbeat_at < stale_before)
        .values(status="pending", locked_by=None)
    )
    return result.rowcount  # type: ignore[attr-defined]


def active_for_package(session: Session, tenant_id: str, kind: str, package_id: str) -> Task | None:
    """A queued (not yet running) task of this kind for this package, to avoid queueing duplicates."""
    rows = session.scalars(
        select(Task).where(Task.tenant_id == tenant_id, Task.kind == kind, Task.status == "pending")
    )
    for task in rows:
        if task.payload.get("package_id") == package_id:
            return task
    return None


def list_query(tenant_id: str, status: str | None = None, kind: str | None = None) -> Select[Any]:
    query = select(Task).where(Task.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Task.status == status)
    if kind is not None:
        query = query.where(Task.kind == kind)
    return query.order_by(Task.created_at.desc(), Task.id)


def due_of_kind(session: Session, tenant_id: str, kind: str, now: datetime) -> Task | None:
    """A queued task of this kind that is due now (one waiting out a retry backoff does not count)."""
    return session.scalar(
        select(Task)
        .where(
            Task.tenant_id == tenant_id, Task.kind == kind, Task.status == "pending", Task.run_after <= now
        )
        .order_by(Task.created_at)
        .limit(1)
    )


def delete_finished_before(session: Session, tenant_id: str, before: datetime) -> int:
    result = session.execute(
        delete(Task).where(
            Task.tenant_id == tenant_id,
            Task.status.in_(("completed", "failed")),
            Task.finished_at < before,
        )
    )
    return result.rowcount  # type: ignore[attr-defined]


def syncable_packages(session: Session, tenant_id: str) -> list[tuple[str, str]]:
    """(id, name) of the packages a sync-all fetches: those with a repository, roots of monorepos only."""
    rows = session.execute(
        select(Package.id, Package.name)
        .where(
            Package.tenant_id == tenant_id,
            Package.repository_url.is_not(None),
            Package.parent_id.is_(None),
        )
        .order_by(Package.name)
    )
    return [(package_id, name) for package_id, name in rows]


def active_tenant_ids(session: Session) -> list[str]:
    """Tenants the scheduler queues periodic work for (the scheduler acts for all of them)."""
    return list(session.scalars(select(Tenant.id).where(Tenant.status == "active").order_by(Tenant.id)))
