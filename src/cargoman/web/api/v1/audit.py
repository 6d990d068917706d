"""The audit log: who changed what, when, from where (reading it is a Pro+ feature)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator

from cargoman.audit import service as audit
from cargoman.audit.repository import AuditFilter
from cargoman.pagination import PageRequest
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1 import team_schemas as ts
from cargoman.web.api.v1.common import ERRORS, list_envelope, page_request
from cargoman.web.api.v1.schemas import _as_utc

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)

Text = Annotated[str | None, Query(min_length=1, max_length=255)]


def _iso_8601(value: object) -> object:
    # Lax pydantic would read "0.5" as a Unix timestamp; the documented format is an ISO 8601 date-time.
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("must be an ISO 8601 date-time such as 2025-01-31T12:00:00Z") from exc
    return value


Moment = Annotated[datetime | None, BeforeValidator(_iso_8601)]


@router.get("", response_model=schemas.ListEnvelope[ts.AuditEntryOut], summary="List audit log entries")
def list_audit_entries(
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
    actor: Text = None,
    action: Text = None,
    resource_type: Text = None,
    resource_id: Text = None,
    since: Annotated[Moment, Query(description="Entries at or after this time.")] = None,
    until: Annotated[Moment, Query(description="Entries before this time.")] = None,
) -> dict[str, Any]:
    where = AuditFilter(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=_as_utc(since),
        until=_as_utc(until),
    )
    with admin.unit_of_work(runtime) as ctx:
        result = audit.list_entries(ctx, where, page)
        return list_envelope([ts.audit_entry(e) for e in result.items], result)
