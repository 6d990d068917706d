"""Collection queries, always filtered by tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from cargoman.db.models import Collection, CollectionPackage, Package


def get_by_slug(session: Session, tenant_id: str, slug: str) -> Collection | None:
    return session.scalar(
        select(Collection).where(Collection.tenant_id == tenant_id, Collection.slug == slug)
    )


def list_query(tenant_id: str) -> Select[Any]:
    return select(Collection).where(Collection.tenant_id == tenant_id).order_by(Collection.slug)


def package_names(session: Session, tenant_id: str, collection_ids: list[str]) -> dict[str, list[str]]:
    """The sorted package names of each collection, in one query."""
    names: dict[str, list[str]] = {collection_id: [] for collection_id in collection_ids}
    if not collection_ids:
        return names
    rows = session.execute(
        select(CollectionPackage.collection_id, Package.name)
        .join(Package, Package.id == CollectionPackage.package_id)
        .where(
            CollectionPackage.tenant_id == tenant_id,
            CollectionPackage.collection_id.in_(collection_ids),
        )
        .order_by(Package.name)
    )
    for collection_id, name in rows:
        names[collection_id].append(name)
    return names


def replace_packages(session: Session, tenant_id: str, collection_id: str, package_ids: list[str]) -> None:
    session.execute(
        delete(CollectionPackage).where(
            CollectionPackage.tenant_id == tenant_id, CollectionPackage.collection_id == collection_id
        )
    )
    session.add_all(
        CollectionPackage(tenant_id=tenant_id, collection_id=collection_id, package_id=package_id)
        for package_id in package_ids
    )


def packages_of(session: Session, tenant_id: str, collection_ids: list[str]) -> dict[str, list[Package]]:
    """The packages of each collection (by name), in one query."""
    packages: dict[str, list[Package]] = {collection_id: [] for collection_id in collection_ids}
    if not collection_ids:
        return packages
    rows = session.execute(
        select(CollectionPackage.collection_id, Package)
        .join(Package, Package.id == CollectionPackage.package_id)
        .where(
            CollectionPackage.tenant_id == tenant_id,
            CollectionPackage.collection_id.in_(collection_ids),
        )
        .order_by(Package.name)
    )
    for collection_id, package in rows:
        packages[collection_id].append(package)
    return packages
