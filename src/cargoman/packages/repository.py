"""Package and version queries, always filtered by tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from cargoman.db.models import Package, Version, WebhookDelivery, WebhookDeliveryPackage


def get_by_name(session: Session, tenant_id: str, name: str, with_versions: bool = False) -> Package | None:
    query = select(Package).where(Package.tenant_id == tenant_id, Package.name == name.lower())
    if with_versions:
        query = query.options(selectinload(Package.versions))
    return session.scalar(query)


def get(session: Session, tenant_id: str, package_id: str) -> Package | None:
    return session.scalar(select(Package).where(Package.tenant_id == tenant_id, Package.id == package_id))


def get_many(session: Session, tenant_id: str, package_ids: list[str]) -> dict[str, Package]:
    if not package_ids:
        return {}
    rows = session.scalars(select(Package).where(Package.tenant_id == tenant_id, Package.id.in_(package_ids)))
    return {package.id: package for package in rows}


def get_many_by_name(session: Session, tenant_id: str, names: list[str]) -> dict[str, Package]:
    if not names:
        return {}
    lowered = [name.lower() for name in names]
    rows = session.scalars(select(Package).where(Package.tenant_id == tenant_id, Package.name.in_(lowered)))
    return {package.name: package for package in rows}


def list_query(tenant_id: str) -> Select[Any]:
    return select(Package).where(Package.tenant_id == tenant_id).order_by(Package.name)


def filtered_query(
    tenant_id: str,
    *,
    package_name: str | None = None,
    status: str | None = None,
    order_by: str = "name",
    descending: bool = False,
) -> Select[Any]:
    """Packages whose name contains ``package_name`` (case-insensitive) and whose sync status is
    ``status``, ordered by ``name`` or ``created_at`` (name breaks ties)."""
    query = select(Package).where(Package.tenant_id == tenant_id)
    if package_name:
        # Names are stored lower-case; autoescape keeps % and _ literal.
        query = query.where(Package.name.contains(package_name.lower(), autoescape=True))
    if status:
        query = query.where(Package.sync_status == status)
    columns = [Package.created_at, Package.name] if order_by == "created_at" else [Package.name]
    return query.order_by(*(column.desc() if descending else column.asc() for column in columns))


def release_versions_of(session: Session, tenant_id: str, packages: Select[Any]) -> dict[str, list[str]]:
    """Normalized release (non-branch) versions of each package ``packages`` selects, by package id."""
    package_ids = packages.with_only_columns(Package.id).order_by(None)
    found: dict[str, list[str]] = {package_id: [] for package_id in session.scalars(package_ids)}
    rows = session.execute(
        select(Version.package_id, Version.version_normalized).where(
            Version.tenant_id == tenant_id,
            Version.package_id.in_(package_ids),
            Version.is_branch.is_(False),
        )
    )
    for package_id, normalized in rows:
        found[package_id].append(normalized)
    return found


def files_query(tenant_id: str, package_id: str) -> Select[Any]:
    """Versions of a package that have a stored archive, oldest first."""
    return (
        select(Version)
        .where(
            Version.tenant_id == tenant_id,
            Version.package_id == package_id,
            Version.dist_key.is_not(None),
        )
        .order_by(Version.created_at, Version.id)
    )


def all_names(session: Session, tenant_id: str) -> list[str]:
    """Names Composer may list: monorepo roots have no versions of their own, so they are left out."""
    return list(
        session.scalars(
            select(Package.name).where(Package.tenant_id == tenant_id, Package.monorepo_glob.is_(None))
        )
    )


def versions_of(session: Session, tenant_id: str, package_id: str) -> list[Version]:
    return list(
        session.scalars(
            select(Version).where(Version.tenant_id == tenant_id, Version.package_id == package_id)
        )
    )


def versions_of_many(session: Session, tenant_id: str, package_ids: list[str]) -> dict[str, list[Version]]:
    """The versions of several packages, in one query (unordered within a package)."""
    versions: dict[str, list[Version]] = {package_id: [] for package_id in package_ids}
    if not package_ids:
        return versions
    rows = session.scalars(
        select(Version).where(Version.tenant_id == tenant_id, Version.package_id.in_(package_ids))
    )
    for row in rows:
        versions[row.package_id].append(row)
    return versions


def find_version(session: Session, tenant_id: str, package_id: str, version: str) -> Version | None:
    """A version by its pretty or normalized form."""
    return session.scalar(
        select(Version).where(
            Version.tenant_id == tenant_id,
            Version.package_id == package_id,
            (Version.version == version) | (Version.version_normalized == version),
        )
    )


def children_query(tenant_id: str, root_id: str) -> Select[Any]:
    return (
        select(Package)
        .where(Package.tenant_id == tenant_id, Package.parent_id == root_id)
        .order_by(Package.name)
    )


def children_of(session: Session, tenant_id: str, root_id: str) -> list[Package]:
    return list(session.scalars(children_query(tenant_id, root_id)))


def monorepo_roots_query(tenant_id: str) -> Select[Any]:
    return (
        select(Package)
        .where(Package.tenant_id == tenant_id, Package.monorepo_glob.is_not(None))
        .order_by(Package.name)
    )


def version_counts(session: Session, tenant_id: str, package_ids: list[str]) -> dict[str, int]:
    if not package_ids:
        return {}
    rows = session.execute(
        select(Version.package_id, func.count())
        .where(Version.tenant_id == tenant_id, Version.package_id.in_(package_ids))
        .group_by(Version.package_id)
    )
    return {package_id: count for package_id, count in rows}


def webhook_deliveries_query(tenant_id: str, package_id: str) -> Select[Any]:
    """Deliveries that named this package, first or among several packages of one repository."""
    linked = select(WebhookDeliveryPackage.webhook_delivery_id).where(
        WebhookDeliveryPackage.tenant_id == tenant_id, WebhookDeliveryPackage.package_id == package_id
    )
    return (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == tenant_id,
            or_(WebhookDelivery.package_id == package_id, WebhookDelivery.id.in_(linked)),
        )
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )


def archive_keys(session: Session, tenant_id: str) -> set[str]:
    """Every storage key a version of this tenant points at."""
    rows = session.scalars(
        select(Version.dist_key).where(Version.tenant_id == tenant_id, Version.dist_key.is_not(None))
    )
    return {key for key in rows if key is not None}
