"""Background tasks: follow the task a sync request queued."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cargoman.tasks import service as tasks
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas, serializers
from cargoman.web.api.v1.common import ERRORS, envelope

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=ERRORS)


@router.get("/{task_id}", response_model=schemas.Envelope[schemas.TaskOut], summary="Get task")
def get_task(task_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(tasks.get_task(ctx, task_id)))
