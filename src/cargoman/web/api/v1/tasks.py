"""Background tasks: list and follow them, queue syncs and cleanups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from cargoman.pagination import PageRequest
from cargoman.tasks import service as tasks
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas, serializers
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request
from cargoman.web.api.v1.tasks_schemas import TaskCreate

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=ERRORS)

Env = schemas.Envelope
TaskList = schemas.ListEnvelope[schemas.TaskOut]
Paging = Annotated[PageRequest, Depends(page_request)]


def _list(
    admin: Admin, runtime: RuntimeDep, page: PageRequest, status: str | None, kind: str | None
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = tasks.list_tasks(ctx, page, status=status, kind=kind)
        return list_envelope([serializers.task(t) for t in result.items], result)


@router.get("", response_model=TaskList, summary="List tasks")
def list_tasks(
    admin: Admin,
    runtime: RuntimeDep,
    page: Paging,
    status: Annotated[str | None, Query(description="pending, running, completed or failed")] = None,
    kind: Annotated[str | None, Query(description="sync_package or cleanup")] = None,
) -> dict[str, Any]:
    return _list(admin, runtime, page, status, kind)


@router.get("/pending", response_model=TaskList, summary="List pending tasks")
def list_pending(admin: Admin, runtime: RuntimeDep, page: Paging) -> dict[str, Any]:
    return _list(admin, runtime, page, "pending", None)


@router.get("/running", response_model=TaskList, summary="List running tasks")
def list_running(admin: Admin, runtime: RuntimeDep, page: Paging) -> dict[str, Any]:
    return _list(admin, runtime, page, "running", None)


@router.get("/failed", response_model=TaskList, summary="List failed tasks")
def list_failed(admin: Admin, runtime: RuntimeDep, page: Paging) -> dict[str, Any]:
    return _list(admin, runtime, page, "failed", None)


@router.post("", status_code=202, response_model=Env[schemas.TaskOut], summary="Queue a task")
def create_task(body: TaskCreate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(tasks.create_task(ctx, body.kind, body.package)))


@router.post(
    "/sync-all", status_code=202, response_model=Env[list[schemas.TaskOut]], summary="Sync every package"
)
def sync_all(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope([serializers.task(t) for t in tasks.queue_sync_all(ctx)])


@router.post("/cleanup", status_code=202, response_model=Env[schemas.TaskOut], summary="Queue a cleanup")
def cleanup(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(tasks.queue_cleanup(ctx)))


@router.get("/{task_id}", response_model=Env[schemas.TaskOut], summary="Get task")
def get_task(task_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(tasks.get_task(ctx, task_id)))
