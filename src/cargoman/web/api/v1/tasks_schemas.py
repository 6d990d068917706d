"""Request bodies of the tasks endpoints (responses reuse schemas.TaskOut)."""

from __future__ import annotations

from pydantic import Field

from cargoman.web.api.v1.schemas import StrictBody


class TaskCreate(StrictBody):
    # Plain strings: the service answers unknown kinds with a 400 naming the field and the choices.
    kind: str = Field(description="sync_package or cleanup", examples=["sync_package"])
    package: str | None = Field(
        default=None, description="vendor/name, for sync_package", examples=["acme/lib"]
    )
