"""Queries for uploads, always filtered by tenant."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cargoman.db.models import CollectionPackage, PackageGrant, Version


def customer_holds_grant(session: Session, tenant_id: str, customer_id: str, package_id: str) -> bool:
    """True when the customer is granted the package directly or through a collection holding it."""
    through_collection = select(CollectionPackage.collection_id).where(
        CollectionPackage.tenant_id == tenant_id, CollectionPackage.package_id == package_id
    )
    query = select(
        exists().where(
            PackageGrant.tenant_id == tenant_id,
            PackageGrant.customer_id == customer_id,
            (PackageGrant.package_id == package_id) | PackageGrant.collection_id.in_(through_collection),
        )
    )
    return bool(session.scalar(query))


def dist_key_in_use(session: Session, tenant_id: str, key: str) -> bool:
    """Whether any version still points at the stored object ``key`` (archives can be shared)."""
    query = select(exists().where(Version.tenant_id == tenant_id, Version.dist_key == key))
    return bool(session.scalar(query))
