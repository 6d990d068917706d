"""Read-only snapshots of a package's versions, loaded once and shared by the Composer endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoman.db.models import Package, Version
from cargoman.timeutil import isoformat


@dataclass(frozen=True)
class VersionSnapshot:
    version: str
    version_normalized: str
    is_branch: bool
    ref_name: str | None
    reference: str
    manifest: dict[str, Any]
    dist_key: str | None
    dist_sha1: str | None
    dist_size: int | None
    released_at: str | None
    yanked: bool
    deprecated: bool


@dataclass(frozen=True)
class PackageSnapshot:
    id: str
    tenant_id: str
    name: str
    default_branch: str | None
    metadata_changed_at: datetime
    versions: tuple[VersionSnapshot, ...]

    def find(self, version: str) -> VersionSnapshot | None:
        for candidate in self.versions:
            if candidate.version == version or candidate.version_normalized == version:
                return candidate
        return None


def load_snapshot(session: Session, tenant_id: str, name: str) -> PackageSnapshot | None:
    package = session.scalar(select(Package).where(Package.tenant_id == tenant_id, Package.name == name))
    if package is None or package.monorepo_glob is not None:
        return None  # a monorepo root has no versions of its own; its children are the packages
    rows = session.scalars(
        select(Version).where(Version.tenant_id == tenant_id, Version.package_id == package.id)
    )
    return PackageSnapshot(
        id=package.id,
        tenant_id=tenant_id,
        name=package.name,
        default_branch=package.default_branch,
        metadata_changed_at=package.metadata_changed_at,
        versions=tuple(
            VersionSnapshot(
                version=row.version,
                version_normalized=row.version_normalized,
                is_branch=row.is_branch,
                ref_name=row.ref_name,
                reference=row.reference,
                manifest=row.manifest,
                dist_key=row.dist_key,
                dist_sha1=row.dist_sha1,
                dist_size=row.dist_size,
                released_at=isoformat(row.released_at),
                yanked=row.yanked,
                deprecated=row.deprecated,
            )
            for row in rows
        ),
    )
