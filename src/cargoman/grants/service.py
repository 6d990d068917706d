"""Package access: which packages (and which versions, by constraint) a customer may install.

A grant names exactly one package, or one collection: a collection grant reaches every package the
collection holds, now and later, with the grant's constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cargoman import validation
from cargoman.collections import repository as collections_repository
from cargoman.customers.service import get_customer
from cargoman.db.models import Collection, Customer, Package, PackageGrant
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.grants import repository
from cargoman.packages import repository as packages_repository
from cargoman.runtime import ServiceContext
from cargoman.stamps import next_change_stamp


@dataclass(frozen=True)
class GrantRequest:
    """One grant to give: `package` or `collection` (exactly one), and a version constraint."""

    package: str | None = None
    constraint: str = "*"
    collection: str | None = None


def _access_changed(ctx: ServiceContext, customer: Customer) -> None:
    customer.access_changed_at = next_change_stamp(ctx)
    ctx.changed()


def _package(ctx: ServiceContext, name: str, field: str) -> Package:
    package = packages_repository.get_by_name(
        ctx.session, ctx.tenant_id, validation.package_name(name, field)
    )
    if package is None:
        raise NotFound(f"Package {name} not found")
    return package


def _collection(ctx: ServiceContext, slug: str) -> Collection:
    collection = collections_repository.get_by_slug(ctx.session, ctx.tenant_id, slug.strip())
    if collection is None:
        raise NotFound(f"Collection {slug} not found")
    return collection


def _record(grant: PackageGrant) -> dict[str, Any]:
    """A grant as written to the audit log."""
    return {
        "package": grant.package.name if grant.package is not None else None,
        "collection": grant.collection.slug if grant.collection is not None else None,
        "constraint": grant.version_constraint,
    }


@dataclass(frozen=True)
class _Target:
    package: Package | None
    collection: Collection | None

    @property
    def label(self) -> str:
        """How messages name the target; also unique per target within one request."""
        if self.package is not None:
            return self.package.name
        assert self.collection is not None
        return f"collection {self.collection.slug}"


def _target(ctx: ServiceContext, request: GrantRequest, prefix: str) -> _Target:
    """Resolve a request's package or collection; `prefix` names the entry in error fields."""
    has_package = request.package is not None
    has_collection = request.collection is not None
    if has_package == has_collection:
        field = f"{prefix}package" if prefix else "package"
        raise ValidationFailed(field, "give exactly one of package or collection")
    if request.package is not None:
        return _Target(_package(ctx, request.package, f"{prefix}package"), None)
    assert request.collection is not None
    return _Target(None, _collection(ctx, request.collection))


def _new_grant(ctx: ServiceContext, customer: Customer, target: _Target, constraint: str) -> PackageGrant:
    grant = PackageGrant(
        tenant_id=ctx.tenant_id,
        customer_id=customer.id,
        package_id=target.package.id if target.package else None,
        collection_id=target.collection.id if target.collection else None,
        version_constraint=constraint,
    )
    grant.package = target.package
    grant.collection = target.collection
    ctx.session.add(grant)
    return grant


def list_grants(ctx: ServiceContext, customer_id: str) -> list[PackageGrant]:
    customer = get_customer(ctx, customer_id)
    return repository.for_customer(ctx.session, ctx.tenant_id, customer.id)


def grants_of_customers(ctx: ServiceContext, customer_ids: list[str]) -> dict[str, list[PackageGrant]]:
    """``list_grants`` for several (existing) customers in one query: for batched readers."""
    return repository.for_customers(ctx.session, ctx.tenant_id, customer_ids)


def frozen_versions_of_customers(
    ctx: ServiceContext, customer_ids: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """The (package, version) pairs each customer is frozen at, in one query: for batched readers."""
    return repository.frozen_with_names_for_customers(ctx.session, ctx.tenant_id, customer_ids)


def add_grant(
    ctx: ServiceContext,
    customer_id: str,
    package: str | None = None,
    constraint: str = "*",
    *,
    collection: str | None = None,
) -> PackageGrant:
    customer = get_customer(ctx, customer_id)
    target = _target(ctx, GrantRequest(package, constraint, collection), "")
    checked = validation.version_constraint(constraint)
    if target.package is not None:
        existing = repository.get(ctx.session, ctx.tenant_id, customer.id, target.package.id)
    else:
        assert target.collection is not None
        existing = repository.get_collection_grant(
            ctx.session, ctx.tenant_id, customer.id, target.collection.id
        )
    if existing is not None:
        raise Conflict(f"Customer already has access to {target.label}")
    grant = _new_grant(ctx, customer, target, checked)
    ctx.session.flush()
    _access_changed(ctx, customer)
    ctx.audit("customer.grant_add", "customer", customer.id, None, _record(grant))
    return grant


def replace_grants(ctx: ServiceContext, customer_id: str, requests: list[GrantRequest]) -> list[PackageGrant]:
    """All-or-nothing: every entry is checked before anything changes."""
    customer = get_customer(ctx, customer_id)
    resolved: dict[str, tuple[_Target, str]] = {}
    for index, request in enumerate(requests):
        prefix = f"packages[{index}]."
        target = _target(ctx, request, prefix)
        if target.label in resolved:
            field = f"{prefix}package" if target.package else f"{prefix}collection"
            raise ValidationFailed(field, f"{target.label} is listed twice")
        constraint = validation.version_constraint(request.constraint, f"{prefix}constraint")
        resolved[target.label] = (target, constraint)
    before = [_record(g) for g in repository.for_customer(ctx.session, ctx.tenant_id, customer.id)]
    repository.delete_for_customer(ctx.session, ctx.tenant_id, customer.id)
    grants = [_new_grant(ctx, customer, target, constraint) for target, constraint in resolved.values()]
    ctx.session.flush()
    _access_changed(ctx, customer)
    ctx.audit(
        "customer.grants_replace",
        "customer",
        customer.id,
        {"grants": before},
        {"grants": [_record(g) for g in grants]},
    )
    return grants


def remove_grant(ctx: ServiceContext, customer_id: str, package: str) -> None:
    customer = get_customer(ctx, customer_id)
    target = _package(ctx, package, "package")
    grant = repository.get(ctx.session, ctx.tenant_id, customer.id, target.id)
    if grant is None:
        raise NotFound(f"Customer has no access to {target.name}")
    before = _record(grant)
    ctx.session.delete(grant)
    _access_changed(ctx, customer)
    ctx.audit("customer.grant_remove", "customer", customer.id, before, None)


def remove_collection_grant(ctx: ServiceContext, customer_id: str, slug: str) -> None:
    customer = get_customer(ctx, customer_id)
    collection = _collection(ctx, slug)
    grant = repository.get_collection_grant(ctx.session, ctx.tenant_id, customer.id, collection.id)
    if grant is None:
        raise NotFound(f"Customer has no grant on collection {collection.slug}")
    before = _record(grant)
    ctx.session.delete(grant)
    _access_changed(ctx, customer)
    ctx.audit("customer.grant_remove", "customer", customer.id, before, None)


def customers_of_package(ctx: ServiceContext, package: str) -> list[tuple[Customer, PackageGrant]]:
    """Every grant reaching the package, directly or through a collection, with its customer."""
    target = _package(ctx, package, "package")
    return repository.customers_of_package(ctx.session, ctx.tenant_id, target.id)
