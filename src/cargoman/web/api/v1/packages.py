"""Packages: add from Git (plain or monorepo), list, inspect, delete, sync, reverse lookup, version
yank/deprecate, README, validation, admin download, webhook deliveries and monorepo children."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response

from cargoman.db.models import Version
from cargoman.errors import NotFound
from cargoman.grants import service as grants
from cargoman.packages import checks, listing, readme
from cargoman.packages import service as packages
from cargoman.pagination import PageRequest
from cargoman.runtime import Runtime, ServiceContext
from cargoman.storage.base import StorageKeyNotFound
from cargoman.web.api.auth import Admin, AdminPrincipal, RuntimeDep
from cargoman.web.api.v1 import package_schemas, schemas, serializers
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request

router = APIRouter(prefix="/packages", tags=["packages"], responses=ERRORS)

Env = schemas.Envelope


@router.post("", status_code=201, response_model=Env[schemas.PackageCreated], summary="Add package")
def add_package(body: package_schemas.PackageAdd, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        added = packages.add_package(ctx, body.repository_url, body.type, body.name, body.monorepo)
        data = schemas.PackageCreated(
            **serializers.package(added.package).model_dump(), sync_task=serializers.task(added.sync_task)
        )
    return envelope(data)


@router.get("", response_model=schemas.ListEnvelope[schemas.PackageOut], summary="List packages")
def list_packages(
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
    order_by: Annotated[Literal["created_at", "name", "version"], Query()] = "name",
    sort: Annotated[Literal["asc", "desc"], Query()] = "asc",
    package_name: Annotated[str | None, Query(max_length=214, description="Name contains (any case)")] = None,
    status: Annotated[Literal["pending", "syncing", "ready", "error"] | None, Query()] = None,
) -> dict[str, Any]:
    filters = listing.PackageFilters(order_by=order_by, sort=sort, package_name=package_name, status=status)
    with admin.unit_of_work(runtime) as ctx:
        result = listing.list_packages(ctx, page, filters)
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
                    collection=grant.collection.slug if grant.collection is not None else None,
                    granted_at=grant.created_at,
                )
                for customer, grant in rows
            ]
        )


def _set_version_flag(
    package: str,
    version: str,
    admin: AdminPrincipal,
    runtime: Runtime,
    setter: Callable[[ServiceContext, str, str, bool], Version],
    value: bool,
) -> dict[str, Any]:
    """Yank/unyank and deprecate/undeprecate share one shape: set a flag, answer the version."""
    with admin.unit_of_work(runtime) as ctx:
        row = setter(ctx, package, version, value)
        return envelope(serializers.version(row, package.lower(), runtime.settings.base_url))


@router.post(
    "/{vendor}/{name}/yank/{version:path}", response_model=Env[schemas.VersionOut], summary="Yank version"
)
def yank_version(vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    return _set_version_flag(f"{vendor}/{name}", version, admin, runtime, packages.set_yanked, True)


@router.post(
    "/{vendor}/{name}/unyank/{version:path}", response_model=Env[schemas.VersionOut], summary="Unyank version"
)
def unyank_version(vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    return _set_version_flag(f"{vendor}/{name}", version, admin, runtime, packages.set_yanked, False)


@router.post(
    "/{vendor}/{name}/deprecate/{version:path}",
    response_model=Env[schemas.VersionOut],
    summary="Deprecate version",
)
def deprecate_version(
    vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    return _set_version_flag(f"{vendor}/{name}", version, admin, runtime, packages.set_deprecated, True)


@router.delete(
    "/{vendor}/{name}/deprecate/{version:path}",
    response_model=Env[schemas.VersionOut],
    summary="Undo a version's deprecation",
)
def undeprecate_version(
    vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    return _set_version_flag(f"{vendor}/{name}", version, admin, runtime, packages.set_deprecated, False)


@router.get(
    "/{vendor}/{name}/readme", response_model=Env[package_schemas.ReadmeOut], summary="Package README"
)
def package_readme(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        found = readme.find_readme(ctx, f"{vendor}/{name}", runtime.storage)
    return envelope(package_schemas.readme(found))


@router.post(
    "/{vendor}/{name}/validate", response_model=Env[package_schemas.ValidationOut], summary="Validate package"
)
def validate_package(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        target = checks.check_target(ctx, f"{vendor}/{name}")
    # The fetch runs outside any transaction: it may take long and changes no row.
    report = checks.check_repository(runtime.settings, target)
    return envelope(package_schemas.validation_report(report))


@router.get(
    "/{vendor}/{name}/download/{version:path}",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The version's zip archive"}},
    summary="Download any version's archive (yanked included)",
)
def download_version(vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep) -> Response:
    with admin.unit_of_work(runtime) as ctx:
        key, filename = packages.archive_of(ctx, f"{vendor}/{name}", version)
    local = runtime.storage.local_path(key)
    if local is not None and local.is_file():
        return FileResponse(local, media_type="application/zip", filename=filename)
    try:
        data = runtime.storage.get_bytes(key)
    except StorageKeyNotFound as exc:
        raise NotFound(f"The archive of {vendor}/{name} {version} is missing from storage") from exc
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{vendor}/{name}/webhook-deliveries",
    response_model=schemas.ListEnvelope[package_schemas.WebhookDeliveryOut],
    summary="Webhook deliveries of a package",
)
def webhook_deliveries(
    vendor: str,
    name: str,
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = packages.list_webhook_deliveries(ctx, f"{vendor}/{name}", page)
        return list_envelope([package_schemas.webhook_delivery(row) for row in result.items], result)


@router.get(
    "/{vendor}/{name}/monorepo", response_model=Env[package_schemas.MonorepoOut], summary="Monorepo root"
)
def monorepo(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        info = packages.monorepo_info(ctx, f"{vendor}/{name}")
        return envelope(package_schemas.monorepo(info.root, info.children, info.version_counts))


@router.get(
    "/{vendor}/{name}/monorepo/children",
    response_model=schemas.ListEnvelope[package_schemas.MonorepoChildOut],
    summary="Monorepo children",
)
def monorepo_children(
    vendor: str,
    name: str,
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result, counts = packages.list_monorepo_children(ctx, f"{vendor}/{name}", page)
        items = [package_schemas.monorepo_child(child, counts.get(child.id, 0)) for child in result.items]
        return list_envelope(items, result)


@router.post(
    "/{vendor}/{name}/monorepo/sync",
    status_code=202,
    response_model=Env[schemas.TaskOut],
    summary="Sync a monorepo (all children from one fetch)",
)
def monorepo_sync(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.task(packages.request_monorepo_sync(ctx, f"{vendor}/{name}")))
