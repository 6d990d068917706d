"""Packages: add from Git, list, inspect (versions and sync warnings), delete, sync, reverse lookup."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cargoman.grants import service as grants
from cargoman.packages import service as packages
from cargoman.pagination import PageRequest
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas, serializers
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request

router = APIRouter(prefix="/packages", tags=["packages"], responses=ERRORS)

Env = schemas.Envelope


@router.post("", status_code=201, response_model=Env[schemas.PackageCreated], summary="Add package")
def add_package(body: schemas.PackageCreate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        added = packages.add_package(ctx, body.repository_url, body.type, body.name)
        data = schemas.PackageCreated(
            **serializers.package(added.package).model_dump(), sync_task=serializers.task(added.sync_task)
        )
    return envelope(data)


@router.get("", response_model=schemas.ListEnvelope[schemas.PackageOut], summary="List packages")
def list_packages(
    admin: Admin, runtime: RuntimeDep, page: Annotated[PageRequest, Depends(page_request)]
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = packages.list_packages(ctx, page)
        return list_envelope([serializers.package(p) for p in result.items], result)


@router.get("/{vendor}/{name}", response_model=Env[schemas.PackageDetail], summary="Get package")
def get_package(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        package = packages.get_package(ctx, f"{vendor}/{name}", with_versions=True)
        versions = packages.sorted_versions(package)
        return envelope(serializers.package_detail(package, versions, runtime.settings.base_url))


@router.delete("/{vendor}/{name}", response_model=Env[schemas.Deleted], summary="Delete package")
def delete_package(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        packages.delete_package(ctx, f"{vendor}/{name}", runtime.storage)
    return envelope(schemas.Deleted())


@router.post(
    "/{vendor}/{name}/sync", status_code=202, response_model=Env[schemas.TaskOut], summary="Sync package"
)
def sync_package(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(packages.request_sync(ctx, f"{vendor}/{name}")))


@router.get(
    "/{vendor}/{name}/customers",
    response_model=Env[list[schemas.PackageCustomerOut]],
    summary="Customers with access to a package",
)
def package_customers(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        rows = grants.customers_of_package(ctx, f"{vendor}/{name}")
        return envelope(
            [
                schemas.PackageCustomerOut(
                    customer=serializers.customer(customer),
                    constraint=grant.version_constraint,
                    granted_at=grant.created_at,
                )
                for customer, grant in rows
            ]
        )


@router.post(
    "/{vendor}/{name}/yank/{version:path}", response_model=Env[schemas.VersionOut], summary="Yank version"
)
def yank_version(vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        row = packages.set_yanked(ctx, f"{vendor}/{name}", version, True)
        return envelope(serializers.version(row, f"{vendor}/{name}".lower(), runtime.settings.base_url))


@router.post(
    "/{vendor}/{name}/unyank/{version:path}", response_model=Env[schemas.VersionOut], summary="Unyank version"
)
def unyank_version(vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        row = packages.set_yanked(ctx, f"{vendor}/{name}", version, False)
        return envelope(serializers.version(row, f"{vendor}/{name}".lower(), runtime.settings.base_url))
