"""Load everything the Composer endpoints need to know about one customer token, in few queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoman.access.policy import CustomerAccess
from cargoman.db.models import Customer, CustomerToken, FrozenVersion, Package, PackageGrant


def load_customer_access(session: Session, digest: str) -> CustomerAccess | None:
    row = session.execute(
        select(CustomerToken, Customer)
        .join(Customer, Customer.id == CustomerToken.customer_id)
        .where(CustomerToken.token_digest == digest)
    ).first()
    if row is None:
        return None
    token, customer = row
    grants = {
        name: constraint
        for name, constraint in session.execute(
            select(Package.name, PackageGrant.version_constraint)
            .join(Package, Package.id == PackageGrant.package_id)
            .where(PackageGrant.customer_id == customer.id, PackageGrant.tenant_id == customer.tenant_id)
        )
    }
    frozen: dict[str, set[str]] = {}
    for name, normalized in session.execute(
        select(Package.name, FrozenVersion.version_normalized)
        .join(Package, Package.id == FrozenVersion.package_id)
        .where(FrozenVersion.customer_id == customer.id, FrozenVersion.tenant_id == customer.tenant_id)
    ):
        frozen.setdefault(name, set()).add(normalized)
    return CustomerAccess(
        token_id=token.id,
        customer_id=customer.id,
        tenant_id=customer.tenant_id,
        scope=token.scope,
        package_scopes=tuple(token.package_scopes or ()),
        token_expires_at=token.expires_at,
        token_revoked=token.revoked_at is not None,
        customer_status=customer.status,
        customer_status_reason=customer.status_reason,
        customer_expires_at=customer.expires_at,
        access_changed_at=customer.access_changed_at,
        grants=grants,
        frozen={name: frozenset(versions) for name, versions in frozen.items()},
    )
