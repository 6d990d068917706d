"""Enqueue and follow background tasks."""

from __future__ import annotations

from typing import Any

from cargoman.db.models import Task
from cargoman.errors import NotFound
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.tasks import repository

SYNC_PACKAGE = "sync_package"


def enqueue(ctx: ServiceContext, kind: str, payload: dict[str, Any]) -> Task:
    task = Task(
        id=new_id("task"),
        tenant_id=ctx.tenant_id,
        kind=kind,
        payload=payload,
        status="pending",
        max_attempts=ctx.settings.task_max_attempts,
    )
    ctx.session.add(task)
    ctx.session.flush()
    ctx.task_queued()
    return task


def enqueue_package_sync(ctx: ServiceContext, package_id: str, package_name: str) -> Task:
    existing = repository.active_for_package(ctx.session, ctx.tenant_id, SYNC_PACKAGE, package_id)
    if existing is not None:
        return existing
    return enqueue(ctx, SYNC_PACKAGE, {"package_id": package_id, "package": package_name})


def get_task(ctx: ServiceContext, task_id: str) -> Task:
    task = repository.get(ctx.session, ctx.tenant_id, task_id)
    if task is None:
        raise NotFound(f"Task {task_id} not found")
    return task
