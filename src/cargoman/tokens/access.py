"""Load everything the Composer endpoints need to know about one credential, in few queries.

Two kinds of customer credential reach the Composer endpoints: stored tokens (looked up by digest)
and customer JWTs (already verified; they name the customer and carry their own expiry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from cargoman.access.policy import CustomerAccess, combine_constraints
from cargoman.db.models import (
    CollectionPackage,
    Customer,
    CustomerToken,
    FrozenVersion,
    Package,
    PackageGrant,
)


def _granted_constraints(session: Session, customer: Customer) -> dict[str, tuple[str, ...]]:
    """Package name -> the constraints of every grant reaching it, directly or through a collection."""
    mine = (PackageGrant.customer_id == customer.id, PackageGrant.tenant_id == customer.tenant_id)
    direct = (
        select(Package.name, PackageGrant.version_constraint)
        .select_from(PackageGrant)
        .join(Package, Package.id == PackageGrant.package_id)
        .where(*mine)
    )
    through_collections = (
        select(Package.name, PackageGrant.version_constraint)
        .select_from(PackageGrant)
        .join(CollectionPackage, CollectionPackage.collection_id == PackageGrant.collection_id)
        .join(Package, Package.id == CollectionPackage.package_id)
        .where(*mine, CollectionPackage.tenant_id == customer.tenant_id)
    )
    constraints: dict[str, list[str]] = {}
    for name, constraint in session.execute(union_all(direct, through_collections)):
        constraints.setdefault(name, []).append(constraint)
    return {name: combine_constraints(found) for name, found in constraints.items()}


def _frozen_versions(session: Session, customer: Customer) -> dict[str, frozenset[str]]:
    frozen: dict[str, set[str]] = {}
    for name, normalized in session.execute(
        select(Package.name, FrozenVersion.version_normalized)
        .join(Package, Package.id == FrozenVersion.package_id)
        .where(FrozenVersion.customer_id == customer.id, FrozenVersion.tenant_id == customer.tenant_id)
    ):
        frozen.setdefault(name, set()).add(normalized)
    return {name: frozenset(versions) for name, versions in frozen.items()}


def _customer_access(
    session: Session,
    customer: Customer,
    *,
    token_id: str,
    scope: str,
    package_scopes: tuple[str, ...],
    token_expires_at: datetime | None,
    token_revoked: bool,
    credential_kind: str,
) -> CustomerAccess:
    return CustomerAccess(
        token_id=token_id,
        customer_id=customer.id,
        tenant_id=customer.tenant_id,
        scope=scope,
        package_scopes=package_scopes,
        token_expires_at=token_expires_at,
        token_revoked=token_revoked,
        customer_status=customer.status,
        customer_status_reason=customer.status_reason,
        customer_expires_at=customer.expires_at,
        access_changed_at=customer.access_changed_at,
        grants=_granted_constraints(session, customer),
        frozen=_frozen_versions(session, customer),
        credential_kind=credential_kind,
    )


def load_customer_access(session: Session, digest: str) -> CustomerAccess | None:
    row = session.execute(
        select(CustomerToken, Customer)
        .join(Customer, Customer.id == CustomerToken.customer_id)
        .where(CustomerToken.token_digest == digest)
    ).first()
    if row is None:
        return None
    token, customer = row
    return _customer_access(
        session,
        customer,
        token_id=token.id,
        scope=token.scope,
        package_scopes=tuple(token.package_scopes or ()),
        token_expires_at=token.expires_at,
        token_revoked=token.revoked_at is not None,
        credential_kind="token",
    )


def load_jwt_access(
    session: Session, tenant_id: str, customer_id: str, jti: str, expires_at: datetime
) -> CustomerAccess | None:
    """Access for a verified customer JWT: a download credential for every package the customer has."""
    customer = session.scalar(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
    )
    if customer is None:
        return None
    return _customer_access(
        session,
        customer,
        token_id=f"jwt:{jti}",
        scope="download",
        package_scopes=(),
        token_expires_at=expires_at,
        token_revoked=False,
        credential_kind="jwt",
    )
