"""Enqueue, list and follow background tasks."""

from __future__ import annotations

from typing import Any

from cargoman import validation
from cargoman.db.models import Task
from cargoman.errors import NotFound, ValidationFailed
from cargoman.packages import repository as packages_repository
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.tasks import repository
from cargoman.timeutil import utcnow

SYNC_PACKAGE = "sync_package"
CLEANUP = "cleanup"
TASK_KINDS = (SYNC_PACKAGE, CLEANUP)
TASK_STATUSES = ("pending", "running", "completed", "failed")


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


def list_tasks(
    ctx: ServiceContext, page: PageRequest, status: str | None = None, kind: str | None = None
) -> Page[Task]:
    if status is not None and status not in TASK_STATUSES:
        raise ValidationFailed("status", f"must be one of {', '.join(TASK_STATUSES)}")
    if kind is not None and kind not in TASK_KINDS:
        raise ValidationFailed("kind", f"must be one of {', '.join(TASK_KINDS)}")
    return paginate(ctx.session, repository.list_query(ctx.tenant_id, status, kind), page)


def _audit_queued(ctx: ServiceContext, task: Task) -> None:
    ctx.audit("task.create", "task", task.id, None, {"kind": task.kind, "payload": task.payload})


def create_task(ctx: ServiceContext, kind: str, package: str | None = None) -> Task:
    """Queue a task by kind, as an operator asks for it through the API."""
    if kind == SYNC_PACKAGE:
        return queue_package_sync(ctx, package)
    if kind == CLEANUP:
        if package is not None:
            raise ValidationFailed("package", "is only accepted for sync_package tasks")
        return queue_cleanup(ctx)
    raise ValidationFailed("kind", f"must be one of {', '.join(TASK_KINDS)}")


def queue_package_sync(ctx: ServiceContext, package: str | None) -> Task:
    if package is None or not package.strip():
        raise ValidationFailed("package", "is required for sync_package tasks (vendor/name)")
    name = validation.package_name(package, field="package")
    row = packages_repository.get_by_name(ctx.session, ctx.tenant_id, name)
    if row is None:
        raise NotFound(f"Package {name} not found")
    if row.repository_url is None:
        raise ValidationFailed("package", f"{name} has no repository to sync (published by upload)")
    task = enqueue_package_sync(ctx, row.id, row.name)
    _audit_queued(ctx, task)
    return task


def queue_sync_all(ctx: ServiceContext) -> list[Task]:
    """One sync per package that has a repository; monorepo children are synced with their root."""
    packages = repository.syncable_packages(ctx.session, ctx.tenant_id)
    tasks = [enqueue_package_sync(ctx, package_id, name) for package_id, name in packages]
    ctx.audit("task.sync_all", "task", None, None, {"tasks": [task.id for task in tasks]})
    return tasks


def queue_cleanup(ctx: ServiceContext) -> Task:
    """A cleanup already due in the queue does the job; a second one would only repeat it."""
    task = repository.due_of_kind(ctx.session, ctx.tenant_id, CLEANUP, utcnow())
    if task is None:
        task = enqueue(ctx, CLEANUP, {})
    _audit_queued(ctx, task)
    return task
