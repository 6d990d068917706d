"""Team: CMA credentials (per-person management tokens). Owners (and the root token) only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cargoman.admins import service as team
from cargoman.pagination import PageRequest
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1 import team_schemas as ts
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request

router = APIRouter(prefix="/team/credentials", tags=["team"], responses=ERRORS)

Env = schemas.Envelope


@router.post("", status_code=201, response_model=Env[ts.CredentialCreated], summary="Create team credential")
def create_credential(body: ts.CredentialCreate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = team.create_credential(ctx, body.name, body.level, body.email, body.expires_at)
        return envelope(ts.credential_created(issued.credential, issued.plain))


@router.get("", response_model=schemas.ListEnvelope[ts.CredentialOut], summary="List team credentials")
def list_credentials(
    admin: Admin, runtime: RuntimeDep, page: Annotated[PageRequest, Depends(page_request)]
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = team.list_credentials(ctx, page)
        return list_envelope([ts.credential(c) for c in result.items], result)


@router.get("/{credential_id}", response_model=Env[ts.CredentialOut], summary="Get team credential")
def get_credential(credential_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(ts.credential(team.get_credential(ctx, credential_id)))


@router.delete("/{credential_id}", response_model=Env[ts.CredentialOut], summary="Revoke team credential")
def revoke_credential(credential_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(ts.credential(team.revoke_credential(ctx, credential_id)))


@router.post(
    "/{credential_id}/rotate", response_model=Env[ts.CredentialCreated], summary="Rotate team credential"
)
def rotate_credential(credential_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = team.rotate_credential(ctx, credential_id)
        return envelope(ts.credential_created(issued.credential, issued.plain))
