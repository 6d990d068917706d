"""Package and version queries, always filtered by tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from cargoman.db.models import Package, Version


def get_by_name(session: Session, tenant_id: str, name: str, with_versions: bool = False) -> Package | None:
    query = select(Package).where(Package.tenant_id == tenant_id, Package.name == name.lower())
    if with_versions:
        query = query.options(selectinload(Package.versions))
    return session.scalar(query)


def get(session: Session, tenant_id: str, package_id: str) -> Package | None:
    return session.scalar(select(Package).where(Package.tenant_id == tenant_id, Package.id == package_id))


def get_many_by_name(session: Session, tenant_id: str, names: list[str]) -> dict[str, Package]:
    if not names:
        return {}
    lowered = [name.lower() for name in names]
    rows = session.scalars(select(Package).where(Package.tenant_id == tenant_id, Package.name.in_(lowered)))
    return {package.name: package for package in rows}


def list_query(tenant_id: str) -> Select[Any]:
    return select(Package).where(Package.tenant_id == tenant_id).order_by(Package.name)


def all_names(session: Session, tenant_id: str) -> list[str]:
    return list(session.scalars(select(Package.name).where(Package.tenant_id == tenant_id)))


def versions_of(session: Session, tenant_id: str, package_id: str) -> list[Version]:
    return list(
        session.scalars(
            select(Version).where(Version.tenant_id == tenant_id, Version.package_id == package_id)
        )
    )


def find_version(session: Session, tenant_id: str, package_id: str, version: str) -> Version | None:
    """A version by its pretty or normalized form."""
    return session.scalar(
        select(Version).where(
            Version.tenant_id == tenant_id,
            Version.package_id == package_id,
            (Version.version == version) | (Version.version_normalized == version),
        )
    )
