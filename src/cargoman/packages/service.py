"""Packages: add from a Git repository, list, inspect, delete, request a sync."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from sqlalchemy import select

from cargoman import validation
from cargoman.db.models import Package, Task, Version
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.gitsync.urls import validate_repository_url
from cargoman.packages import repository
from cargoman.packages.mirrors import discover_package_name, mirror_path
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.storage import Storage
from cargoman.tasks.service import enqueue_package_sync

REPOSITORY_TYPES = ("git", "github", "gitlab", "bitbucket")


@dataclass(frozen=True)
class AddedPackage:
    package: Package
    sync_task: Task


def dist_prefix(tenant_id: str, package_name: str) -> str:
    return f"dist/{tenant_id}/{package_name}/"


def get_package(ctx: ServiceContext, name: str, with_versions: bool = False) -> Package:
    package = repository.get_by_name(ctx.session, ctx.tenant_id, name, with_versions=with_versions)
    if package is None:
        raise NotFound(f"Package {name} not found")
    return package


def list_packages(ctx: ServiceContext, page: PageRequest) -> Page[Package]:
    return paginate(ctx.session, repository.list_query(ctx.tenant_id), page)


def add_package(
    ctx: ServiceContext, repository_url: str, repository_type: str = "git", name: str | None = None
) -> AddedPackage:
    if repository_type not in REPOSITORY_TYPES:
        raise ValidationFailed("type", f"must be one of {', '.join(REPOSITORY_TYPES)}")
    try:
        url = validate_repository_url(
            repository_url.strip(), allow_local=ctx.settings.allow_local_repositories
        )
    except ValueError as exc:
        raise ValidationFailed("repository_url", str(exc)) from exc
    if name is None or not name.strip():
        name = discover_package_name(ctx.settings, ctx.tenant_id, url)
    package_name = validation.package_name(name)
    if repository.get_by_name(ctx.session, ctx.tenant_id, package_name) is not None:
        raise Conflict(f"Package {package_name} already exists")
    package = Package(
        id=new_id("pkg"),
        tenant_id=ctx.tenant_id,
        name=package_name,
        repository_url=url,
        repository_type=repository_type,
        sync_warnings=[],
    )
    ctx.session.add(package)
    ctx.session.flush()
    task = enqueue_package_sync(ctx, package.id, package.name)
    ctx.changed()
    return AddedPackage(package=package, sync_task=task)


def request_sync(ctx: ServiceContext, name: str) -> Task:
    package = get_package(ctx, name)
    return enqueue_package_sync(ctx, package.id, package.name)


def delete_package(ctx: ServiceContext, name: str, storage: Storage) -> None:
    """Remove the package, its versions and grants; archives and an unshared mirror go after commit."""
    package = get_package(ctx, name)
    url = package.repository_url
    prefix = dist_prefix(ctx.tenant_id, package.name)
    ctx.session.delete(package)
    ctx.session.flush()
    mirror_shared = (
        ctx.session.scalar(
            select(Package.id).where(Package.tenant_id == ctx.tenant_id, Package.repository_url == url)
        )
        is not None
    )
    path = mirror_path(ctx.settings, ctx.tenant_id, url) if url else None

    def _remove_files() -> None:
        storage.delete_prefix(prefix)
        if path is not None and not mirror_shared:
            shutil.rmtree(path, ignore_errors=True)

    ctx.after_commit(_remove_files)
    ctx.changed()


def sorted_versions(package: Package) -> list[Version]:
    from cargoman.composer.versions import sort_versions

    by_normalized = {version.version_normalized: version for version in package.versions}
    return [by_normalized[n] for n in sort_versions(list(by_normalized), reverse=True)]


def _version(ctx: ServiceContext, name: str, version: str) -> tuple[Package, Version]:
    package = get_package(ctx, name)
    row = repository.find_version(ctx.session, ctx.tenant_id, package.id, version)
    if row is None:
        raise NotFound(f"Version {version} of {package.name} not found")
    return package, row


def set_yanked(ctx: ServiceContext, name: str, version: str, yanked: bool) -> Version:
    """Yanked versions disappear from Composer metadata; the archive is kept."""
    package, row = _version(ctx, name, version)
    if row.yanked != yanked:
        row.yanked = yanked
        package.metadata_changed_at = next_change_stamp(ctx)
        ctx.changed()
    return row
