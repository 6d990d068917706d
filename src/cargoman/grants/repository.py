"""Package grant and freeze queries, always filtered by tenant."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from cargoman.db.models import Customer, FrozenVersion, Package, PackageGrant


def for_customer(session: Session, tenant_id: str, customer_id: str) -> list[PackageGrant]:
    return list(
        session.scalars(
            select(PackageGrant)
            .options(joinedload(PackageGrant.package))
            .where(PackageGrant.tenant_id == tenant_id, PackageGrant.customer_id == customer_id)
            .order_by(PackageGrant.id)
        )
    )


def effective_grants(session: Session, tenant_id: str, customer_id: str) -> dict[str, tuple[Package, str]]:
    """Every package the customer is granted, by name, with the constraint that applies."""
    return {
        grant.package.name: (grant.package, grant.version_constraint)
        for grant in for_customer(session, tenant_id, customer_id)
        if grant.package is not None
    }


def get(session: Session, tenant_id: str, customer_id: str, package_id: str) -> PackageGrant | None:
    return session.scalar(
        select(PackageGrant).where(
            PackageGrant.tenant_id == tenant_id,
            PackageGrant.customer_id == customer_id,
            PackageGrant.package_id == package_id,
        )
    )


def customers_of_package(
    session: Session, tenant_id: str, package_id: str
) -> list[tuple[Customer, PackageGrant]]:
    rows = session.execute(
        select(Customer, PackageGrant)
        .join(PackageGrant, PackageGrant.customer_id == Customer.id)
        .where(PackageGrant.tenant_id == tenant_id, PackageGrant.package_id == package_id)
        .order_by(Customer.created_at, Customer.id)
    )
    return [(customer, grant) for customer, grant in rows]


def delete_for_customer(session: Session, tenant_id: str, customer_id: str) -> None:
    session.execute(
        delete(PackageGrant).where(
            PackageGrant.tenant_id == tenant_id, PackageGrant.customer_id == customer_id
        )
    )


def frozen_for_customer(session: Session, tenant_id: str, customer_id: str) -> list[FrozenVersion]:
    return list(
        session.scalars(
            select(FrozenVersion).where(
                FrozenVersion.tenant_id == tenant_id, FrozenVersion.customer_id == customer_id
            )
        )
    )


def clear_frozen(session: Session, tenant_id: str, customer_id: str) -> None:
    session.execute(
        delete(FrozenVersion).where(
            FrozenVersion.tenant_id == tenant_id, FrozenVersion.customer_id == customer_id
        )
    )
