"""Package access: which packages (and which versions, by constraint) a customer may install."""

from __future__ import annotations

from dataclasses import dataclass

from cargoman import validation
from cargoman.customers.service import get_customer
from cargoman.db.models import Customer, Package, PackageGrant
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.grants import repository
from cargoman.packages import repository as packages_repository
from cargoman.runtime import ServiceContext
from cargoman.stamps import next_change_stamp


@dataclass(frozen=True)
class GrantRequest:
    package: str
    constraint: str = "*"


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


def list_grants(ctx: ServiceContext, customer_id: str) -> list[PackageGrant]:
    customer = get_customer(ctx, customer_id)
    return repository.for_customer(ctx.session, ctx.tenant_id, customer.id)


def add_grant(ctx: ServiceContext, customer_id: str, package: str, constraint: str = "*") -> PackageGrant:
    customer = get_customer(ctx, customer_id)
    target = _package(ctx, package, "package")
    checked = validation.version_constraint(constraint)
    if repository.get(ctx.session, ctx.tenant_id, customer.id, target.id) is not None:
        raise Conflict(f"Customer already has access to {target.name}")
    grant = PackageGrant(
        tenant_id=ctx.tenant_id, customer_id=customer.id, package_id=target.id, version_constraint=checked
    )
    grant.package = target
    ctx.session.add(grant)
    ctx.session.flush()
    _access_changed(ctx, customer)
    return grant


def replace_grants(ctx: ServiceContext, customer_id: str, requests: list[GrantRequest]) -> list[PackageGrant]:
    """All-or-nothing: every entry is checked before anything changes."""
    customer = get_customer(ctx, customer_id)
    resolved: dict[str, tuple[Package, str]] = {}
    for index, request in enumerate(requests):
        package = _package(ctx, request.package, f"packages[{index}].package")
        if package.name in resolved:
            raise ValidationFailed(f"packages[{index}].package", f"{package.name} is listed twice")
        constraint = validation.version_constraint(request.constraint, f"packages[{index}].constraint")
        resolved[package.name] = (package, constraint)
    repository.delete_for_customer(ctx.session, ctx.tenant_id, customer.id)
    grants = []
    for package, constraint in resolved.values():
        grant = PackageGrant(
            tenant_id=ctx.tenant_id,
            customer_id=customer.id,
            package_id=package.id,
            version_constraint=constraint,
        )
        grant.package = package
        ctx.session.add(grant)
        grants.append(grant)
    ctx.session.flush()
    _access_changed(ctx, customer)
    return grants


def remove_grant(ctx: ServiceContext, customer_id: str, package: str) -> None:
    customer = get_customer(ctx, customer_id)
    target = _package(ctx, package, "package")
    grant = repository.get(ctx.session, ctx.tenant_id, customer.id, target.id)
    if grant is None:
        raise NotFound(f"Customer has no access to {target.name}")
    ctx.session.delete(grant)
    _access_changed(ctx, customer)


def customers_of_package(ctx: ServiceContext, package: str) -> list[tuple[Customer, PackageGrant]]:
    target = _package(ctx, package, "package")
    return repository.customers_of_package(ctx.session, ctx.tenant_id, target.id)
