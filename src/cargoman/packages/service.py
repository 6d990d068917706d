"""Packages: add from a Git repository, list, inspect, delete, request a sync."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from sqlalchemy import select

from cargoman import validation
from cargoman.db.models import Package, Task, Version, WebhookDelivery
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.git_credentials import resolve_credential
from cargoman.gitsync.urls import validate_repository_url
from cargoman.packages import monorepo, repository
from cargoman.packages.mirrors import discover_package_name, mirror_path
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.storage import Storage
from cargoman.tasks.service import enqueue_package_sync
from cargoman.timeutil import isoformat, utcnow

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


def _repository_url(ctx: ServiceContext, repository_url: str) -> str:
    try:
        allow_local = ctx.settings.allow_local_repositories
        return validate_repository_url(repository_url.strip(), allow_local=allow_local)
    except ValueError as exc:
        raise ValidationFailed("repository_url", str(exc)) from exc


def read_package_name(ctx: ServiceContext, repository_url: str, monorepo_glob: str | None = None) -> str:
    """The name a repository's composer.json gives, fetched with the repository's credential.

    Reads only (the fetch may be slow): callers holding a write transaction can call this first.
    """
    if monorepo_glob is not None:
        # The root is a label for the repository; its children bring their own names.
        raise ValidationFailed("name", "is required for a monorepo root (a vendor/name label)")
    url = _repository_url(ctx, repository_url)
    credential = resolve_credential(ctx, url)
    auth = credential.git_auth() if credential is not None else None
    return discover_package_name(ctx.settings, ctx.tenant_id, url, auth)


def add_package(
    ctx: ServiceContext,
    repository_url: str,
    repository_type: str = "git",
    name: str | None = None,
    monorepo_glob: str | None = None,
) -> AddedPackage:
    """Add a package, or with ``monorepo_glob`` a monorepo root whose children appear on its first sync."""
    if repository_type not in REPOSITORY_TYPES:
        raise ValidationFailed("type", f"must be one of {', '.join(REPOSITORY_TYPES)}")
    glob = monorepo.validate_glob(monorepo_glob) if monorepo_glob is not None else None
    url = _repository_url(ctx, repository_url)
    if name is None or not name.strip():
        name = read_package_name(ctx, url, glob)
    package_name = validation.package_name(name)
    if repository.get_by_name(ctx.session, ctx.tenant_id, package_name) is not None:
        raise Conflict(f"Package {package_name} already exists")
    package = Package(
        id=new_id("pkg"),
        tenant_id=ctx.tenant_id,
        name=package_name,
        repository_url=url,
        repository_type=repository_type,
        monorepo_glob=glob,
        sync_warnings=[],
    )
    ctx.session.add(package)
    ctx.session.flush()
    task = enqueue_package_sync(ctx, package.id, package.name)
    ctx.audit(
        "package.create",
        "package",
        package_name,
        None,
        {"repository_url": url, "type": repository_type, "monorepo": glob, "sync_task": task.id},
    )
    ctx.changed()
    return AddedPackage(package=package, sync_task=task)


def request_sync(ctx: ServiceContext, name: str) -> Task:
    """Queue a sync; a monorepo child is synced with (and by) its root."""
    package = get_package(ctx, name)
    if package.parent_id is not None:
        package = _root_of(ctx, package)
    if package.repository_url is None:
        raise ValidationFailed("name", f"{package.name} has no repository to sync (published by upload)")
    task = enqueue_package_sync(ctx, package.id, package.name)
    ctx.audit("package.sync_request", "package", package.name, None, {"task": task.id})
    return task


def start_direct_sync(ctx: ServiceContext, name: str) -> Package:
    """The package a sync run in this process (the CLI) fetches -- a child's root -- with an audit entry."""
    package = get_package(ctx, name)
    if package.parent_id is not None:
        package = _root_of(ctx, package)
    if package.repository_url is None:
        raise ValidationFailed("name", f"{package.name} has no repository to sync (published by upload)")
    ctx.audit("package.sync_request", "package", package.name, None, {"direct": True})
    return package


def delete_package(ctx: ServiceContext, name: str, storage: Storage) -> None:
    """Remove the package (a monorepo root: with its children), versions and grants.

    Archives and an unshared mirror go after commit.
    """
    package = get_package(ctx, name)
    if package.parent_id is not None:
        root = _root_of(ctx, package)
        raise Conflict(
            f"{package.name} belongs to monorepo {root.name}: it comes back on the next sync; "
            "delete the root or remove the package from the repository"
        )
    url = package.repository_url
    children = repository.children_of(ctx.session, ctx.tenant_id, package.id)
    prefixes = [dist_prefix(ctx.tenant_id, p.name) for p in (package, *children)]
    before = {
        "repository_url": url,
        "type": package.repository_type,
        "monorepo": package.monorepo_glob,
        "children": [child.name for child in children],
    }
    for child in children:
        ctx.session.delete(child)
    # Children first, in their own flush: one batched DELETE could remove the root first, and the
    # database's ON DELETE CASCADE would then take the children before their own rows are matched.
    ctx.session.flush()
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
        for prefix in prefixes:
            storage.delete_prefix(prefix)
        if path is not None and not mirror_shared:
            shutil.rmtree(path, ignore_errors=True)

    ctx.audit("package.delete", "package", package.name, before, None)
    ctx.after_commit(_remove_files)
    ctx.changed()


def _root_of(ctx: ServiceContext, child: Package) -> Package:
    assert child.parent_id is not None
    root = repository.get(ctx.session, ctx.tenant_id, child.parent_id)
    if root is None:  # the foreign key cascades, so only a concurrent delete gets here
        raise NotFound(f"Package {child.name} not found")
    return root


def sorted_versions(package: Package) -> list[Version]:
    return sort_version_rows(package.versions)


def sort_version_rows(versions: list[Version]) -> list[Version]:
    """Newest first, as Composer orders them (one row per normalized version)."""
    from cargoman.composer.versions import sort_versions

    by_normalized = {version.version_normalized: version for version in versions}
    return [by_normalized[n] for n in sort_versions(list(by_normalized), reverse=True)]


def versions_of_packages(ctx: ServiceContext, package_ids: list[str]) -> dict[str, list[Version]]:
    """The versions of several packages (newest first), in one query: for batched readers."""
    rows = repository.versions_of_many(ctx.session, ctx.tenant_id, package_ids)
    return {package_id: sort_version_rows(versions) for package_id, versions in rows.items()}


def _version(ctx: ServiceContext, name: str, version: str) -> tuple[Package, Version]:
    package = get_package(ctx, name)
    row = repository.find_version(ctx.session, ctx.tenant_id, package.id, version)
    if row is None:
        raise NotFound(f"Version {version} of {package.name} not found")
    return package, row


def _version_label(package: Package, row: Version) -> str:
    return f"{package.name}:{row.version}"


def set_yanked(ctx: ServiceContext, name: str, version: str, yanked: bool) -> Version:
    """Yanked versions disappear from Composer metadata; the archive is kept."""
    package, row = _version(ctx, name, version)
    if row.yanked != yanked:
        ctx.audit(
            "version.yank" if yanked else "version.unyank",
            "version",
            _version_label(package, row),
            {"yanked": row.yanked},
            {"yanked": yanked},
        )
        row.yanked = yanked
        package.metadata_changed_at = next_change_stamp(ctx)
        ctx.changed()
    return row


def set_deprecated(ctx: ServiceContext, name: str, version: str, deprecated: bool) -> Version:
    """Deprecated versions stay installable; the metadata marks them so clients and tools can warn."""
    package, row = _version(ctx, name, version)
    if row.deprecated != deprecated:
        before = {"deprecated": row.deprecated, "deprecated_at": isoformat(row.deprecated_at)}
        row.deprecated = deprecated
        row.deprecated_at = utcnow() if deprecated else None
        ctx.audit(
            "version.deprecate" if deprecated else "version.undeprecate",
            "version",
            _version_label(package, row),
            before,
            {"deprecated": deprecated, "deprecated_at": isoformat(row.deprecated_at)},
        )
        package.metadata_changed_at = next_change_stamp(ctx)
        ctx.changed()
    return row


def archive_of(ctx: ServiceContext, name: str, version: str) -> tuple[str, str]:
    """(storage key, download file name) of any version's archive, yanked ones included."""
    package, row = _version(ctx, name, version)
    if row.dist_key is None:
        raise NotFound(f"Version {row.version} of {package.name} has no archive")
    filename = f"{package.name.replace('/', '-')}-{row.version}.zip".replace('"', "")
    return row.dist_key, filename


def list_webhook_deliveries(ctx: ServiceContext, name: str, page: PageRequest) -> Page[WebhookDelivery]:
    package = get_package(ctx, name)
    return paginate(ctx.session, repository.webhook_deliveries_query(ctx.tenant_id, package.id), page)


# -- monorepos -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonorepoInfo:
    root: Package
    children: list[Package]
    version_counts: dict[str, int]


def get_monorepo_root(ctx: ServiceContext, name: str) -> Package:
    package = get_package(ctx, name)
    if package.monorepo_glob is None:
        if package.parent_id is not None:
            root = _root_of(ctx, package)
            raise NotFound(f"{package.name} is a child of monorepo {root.name}, not a monorepo root")
        raise NotFound(f"{package.name} is not a monorepo root")
    return package


def monorepo_info(ctx: ServiceContext, name: str) -> MonorepoInfo:
    root = get_monorepo_root(ctx, name)
    children = repository.children_of(ctx.session, ctx.tenant_id, root.id)
    counts = repository.version_counts(ctx.session, ctx.tenant_id, [child.id for child in children])
    return MonorepoInfo(root=root, children=children, version_counts=counts)


def list_monorepo_children(
    ctx: ServiceContext, name: str, page: PageRequest
) -> tuple[Page[Package], dict[str, int]]:
    root = get_monorepo_root(ctx, name)
    result = paginate(ctx.session, repository.children_query(ctx.tenant_id, root.id), page)
    counts = repository.version_counts(ctx.session, ctx.tenant_id, [child.id for child in result.items])
    return result, counts


def list_monorepo_roots(ctx: ServiceContext, page: PageRequest) -> Page[Package]:
    return paginate(ctx.session, repository.monorepo_roots_query(ctx.tenant_id), page)


def request_monorepo_sync(ctx: ServiceContext, name: str) -> Task:
    root = get_monorepo_root(ctx, name)
    task = enqueue_package_sync(ctx, root.id, root.name)
    ctx.audit("package.sync_request", "package", root.name, None, {"task": task.id, "monorepo": True})
    return task
