"""Package grant and freeze queries, always filtered by tenant.

A grant names one package, or a collection: then it reaches every package the collection holds now
or later, so "which packages does a customer reach" always joins through collection_packages.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from cargoman.access.policy import combine_constraints
from cargoman.db.models import CollectionPackage, Customer, FrozenVersion, Package, PackageGrant


def for_customer(session: Session, tenant_id: str, customer_id: str) -> list[PackageGrant]:
    """The customer's grants as stored: package grants and collection grants."""
    return list(
        session.scalars(
            select(PackageGrant)
            .options(joinedload(PackageGrant.package), joinedload(PackageGrant.collection))
            .where(PackageGrant.tenant_id == tenant_id, PackageGrant.customer_id == customer_id)
            .order_by(PackageGrant.id)
        )
    )


def for_customers(session: Session, tenant_id: str, customer_ids: list[str]) -> dict[str, list[PackageGrant]]:
    """The stored grants of several customers, in one query (each list ordered like ``for_customer``)."""
    grants: dict[str, list[PackageGrant]] = {customer_id: [] for customer_id in customer_ids}
    if not customer_ids:
        return grants
    rows = session.scalars(
        select(PackageGrant)
        .options(joinedload(PackageGrant.package), joinedload(PackageGrant.collection))
        .where(PackageGrant.tenant_id == tenant_id, PackageGrant.customer_id.in_(customer_ids))
        .order_by(PackageGrant.id)
    )
    for row in rows:
        grants[row.customer_id].append(row)
    return grants


def reachable_packages(session: Session, tenant_id: str, customer_id: str) -> list[tuple[Package, str]]:
    """Every (package, constraint) pair the customer's grants reach, directly or through a collection."""
    direct = (
        select(Package, PackageGrant.version_constraint)
        .join(PackageGrant, PackageGrant.package_id == Package.id)
        .where(PackageGrant.tenant_id == tenant_id, PackageGrant.customer_id == customer_id)
    )
    through_collections = (
        select(Package, PackageGrant.version_constraint)
        .join(CollectionPackage, CollectionPackage.package_id == Package.id)
        .join(PackageGrant, PackageGrant.collection_id == CollectionPackage.collection_id)
        .where(
            PackageGrant.tenant_id == tenant_id,
            PackageGrant.customer_id == customer_id,
            CollectionPackage.tenant_id == tenant_id,
        )
    )
    rows = [*session.execute(direct), *session.execute(through_collections)]
    return [(package, constraint) for package, constraint in rows]


def effective_grants(session: Session, tenant_id: str, customer_id: str) -> dict[str, tuple[Package, str]]:
    """Every package the customer is granted, by name, with the constraint that applies.

    A package reached by several grants gets the union of their constraints (`c1 || c2`), which is
    itself a Composer constraint.
    """
    packages: dict[str, Package] = {}
    constraints: dict[str, list[str]] = {}
    for package, constraint in reachable_packages(session, tenant_id, customer_id):
        packages[package.name] = package
        constraints.setdefault(package.name, []).append(constraint)
    return {
        name: (packages[name], " || ".join(combine_constraints(constraints[name])))
        for name in sorted(packages)
    }


def get(session: Session, tenant_id: str, customer_id: str, package_id: str) -> PackageGrant | None:
    return session.scalar(
        select(PackageGrant).where(
            PackageGrant.tenant_id == tenant_id,
            PackageGrant.customer_id == customer_id,
            PackageGrant.package_id == package_id,
        )
    )


def get_collection_grant(
    session: Session, tenant_id: str, customer_id: str, collection_id: str
) -> PackageGrant | None:
    return session.scalar(
        select(PackageGrant).where(
            PackageGrant.tenant_id == tenant_id,
            PackageGrant.customer_id == customer_id,
            PackageGrant.collection_id == collection_id,
        )
    )


def customers_of_package(
    session: Session, tenant_id: str, package_id: str
) -> list[tuple[Customer, PackageGrant]]:
    """Every grant reaching the package (direct or through a collection), with its customer."""
    in_collections = select(CollectionPackage.collection_id).where(
        CollectionPackage.tenant_id == tenant_id, CollectionPackage.package_id == package_id
    )
    rows = session.execute(
        select(Customer, PackageGrant)
        .join(PackageGrant, PackageGrant.customer_id == Customer.id)
        .where(
            PackageGrant.tenant_id == tenant_id,
            (PackageGrant.package_id == package_id) | PackageGrant.collection_id.in_(in_collections),
        )
        .order_by(Customer.created_at, Customer.id, PackageGrant.id)
    )
    return [(customer, grant) for customer, grant in rows]


def customers_with_collection(session: Session, tenant_id: str, collection_id: str) -> list[Customer]:
    """The customers holding a grant on the collection (their access changes with its contents)."""
    return list(
        session.scalars(
            select(Customer)
            .join(PackageGrant, PackageGrant.customer_id == Customer.id)
            .where(PackageGrant.tenant_id == tenant_id, PackageGrant.collection_id == collection_id)
            .order_by(Customer.id)
        )
    )


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


def frozen_with_names_for_customers(
    session: Session, tenant_id: str, customer_ids: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """Customer id -> its frozen (package name, version) pairs, by package then version."""
    found: dict[str, list[tuple[str, str]]] = {customer_id: [] for customer_id in customer_ids}
    rows = session.execute(
        select(FrozenVersion.customer_id, Package.name, FrozenVersion.version)
        .join(Package, Package.id == FrozenVersion.package_id)
        .where(FrozenVersion.tenant_id == tenant_id, FrozenVersion.customer_id.in_(customer_ids))
        .order_by(Package.name, FrozenVersion.version_normalized)
    )
    for customer_id, package_name, version in rows:
        found[customer_id].append((package_name, version))
    return found


def clear_frozen(session: Session, tenant_id: str, customer_id: str) -> None:
    session.execute(
        delete(FrozenVersion).where(
            FrozenVersion.tenant_id == tenant_id, FrozenVersion.customer_id == customer_id
        )
    )
