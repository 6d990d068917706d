"""Package files (GitLab-style): the stored archive of each version, listed and deleted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cargoman.pagination import PageRequest
from cargoman.uploads import service as uploads
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request
from cargoman.web.api.v1.uploads_schemas import PackageFileOut, package_file

router = APIRouter(prefix="/packages", tags=["packages"], responses=ERRORS)


@router.get(
    "/{vendor}/{name}/files",
    response_model=schemas.ListEnvelope[PackageFileOut],
    summary="List package files",
)
def list_package_files(
    vendor: str,
    name: str,
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        package, files = uploads.list_files(ctx, f"{vendor}/{name}", page)
        return list_envelope([package_file(row, package.name) for row in files.items], files)


@router.delete(
    "/{vendor}/{name}/files/{version:path}",
    response_model=schemas.Envelope[schemas.Deleted],
    summary="Delete a package file",
    description="Removes the stored archive of one version. A Git version gets it back on the next "
    "sync; an uploaded version when it is uploaded again.",
)
def delete_package_file(
    vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        uploads.delete_file(ctx, runtime.storage, f"{vendor}/{name}", version)
    return envelope(schemas.Deleted())
