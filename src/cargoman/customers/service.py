"""Customer lifecycle: create (with a first token), update, suspend, reactivate, freeze, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from cargoman import validation
from cargoman.access.policy import CUSTOMER_STATUSES
from cargoman.audit.snapshot import snapshot
from cargoman.composer.versions import sort_versions
from cargoman.customers import repository
from cargoman.db.models import Customer, FrozenVersion
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.events import Topic
from cargoman.grants import repository as grants_repository
from cargoman.packages import repository as packages_repository
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.timeutil import utcnow
from cargoman.tokens.service import IssuedToken, create_token

RESOURCE_TYPE = "customer"
AUDITED_FIELDS = ("name", "email", "external_id", "status", "status_reason", "expires_at")
STATUS_FIELDS = ("status", "status_reason", "expires_at")


@dataclass(frozen=True)
class CreatedCustomer:
    customer: Customer
    first_token: IssuedToken


def get_customer(ctx: ServiceContext, customer_id: str) -> Customer:
    customer = repository.get(ctx.session, ctx.tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found")
    return customer


def get_by_external_id(ctx: ServiceContext, external_id: str) -> Customer:
    customer = repository.get_by_external_id(ctx.session, ctx.tenant_id, external_id)
    if customer is None:
        raise NotFound(f"No customer with external id {external_id}")
    return customer


def list_customers(ctx: ServiceContext, status: str | None, page: PageRequest) -> Page[Customer]:
    if status is not None and status not in CUSTOMER_STATUSES:
        raise ValidationFailed("status", f"must be one of {', '.join(CUSTOMER_STATUSES)}")
    return paginate(ctx.session, repository.list_query(ctx.tenant_id, status), page)


def _ensure_external_id_free(ctx: ServiceContext, external_id: str | None, own_id: str | None) -> None:
    if external_id is None:
        return
    existing = repository.get_by_external_id(ctx.session, ctx.tenant_id, external_id)
    if existing is not None and existing.id != own_id:
        raise Conflict(f"A customer with external id {external_id} already exists")


def create_customer(
    ctx: ServiceContext,
    name: str,
    email: str | None = None,
    external_id: str | None = None,
    expires_at: datetime | None = None,
) -> CreatedCustomer:
    external = validation.non_empty(external_id, "external_id") if external_id is not None else None
    _ensure_external_id_free(ctx, external, None)
    customer = Customer(
        id=new_id("cust"),
        tenant_id=ctx.tenant_id,
        name=validation.non_empty(name, "name"),
        email=validation.email(email),
        external_id=external,
        status="active",
        expires_at=expires_at,
    )
    ctx.session.add(customer)
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict("A customer with this external id already exists") from exc
    token = create_token(ctx, customer.id, name="Default token", scope="admin")
    ctx.audit(
        "customer.create",
        RESOURCE_TYPE,
        customer.id,
        None,
        {**snapshot(customer, AUDITED_FIELDS), "first_token_id": token.token.id},
    )
    return CreatedCustomer(customer=customer, first_token=token)


UPDATABLE_FIELDS = ("name", "email", "external_id", "expires_at")


def update_customer(ctx: ServiceContext, customer_id: str, changes: dict[str, Any]) -> Customer:
    customer = get_customer(ctx, customer_id)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationFailed(sorted(unknown)[0], "cannot be changed")
    changed_fields = tuple(name for name in UPDATABLE_FIELDS if name in changes)
    before = snapshot(customer, changed_fields)
    if "name" in changes:
        if changes["name"] is None:
            raise ValidationFailed("name", "must not be empty")
        customer.name = validation.non_empty(changes["name"], "name")
    if "email" in changes:
        customer.email = validation.email(changes["email"])
    if "external_id" in changes:
        external = changes["external_id"]
        external = validation.non_empty(external, "external_id") if external is not None else None
        _ensure_external_id_free(ctx, external, customer.id)
        customer.external_id = external
    if "expires_at" in changes:
        customer.expires_at = changes["expires_at"]
        customer.access_changed_at = next_change_stamp(ctx)
        ctx.changed()
    customer.updated_at = utcnow()
    ctx.audit("customer.update", RESOURCE_TYPE, customer.id, before, snapshot(customer, changed_fields))
    return customer


def delete_customer(ctx: ServiceContext, customer_id: str) -> None:
    customer = get_customer(ctx, customer_id)
    before = snapshot(customer, AUDITED_FIELDS)
    ctx.session.delete(customer)
    ctx.changed()
    ctx.audit("customer.delete", RESOURCE_TYPE, customer_id, before, None)
    deleted = {"customer_id": customer_id, "kind": "deleted", "previous_status": before.get("status")}
    ctx.publish(Topic.CUSTOMER_ACTIVITY, deleted)


def _set_status(ctx: ServiceContext, customer: Customer, status: str, reason: str | None) -> None:
    activity = {"customer_id": customer.id, "kind": "status_changed", "status": status}
    ctx.publish(Topic.CUSTOMER_ACTIVITY, {**activity, "previous_status": customer.status, "reason": reason})
    customer.status = status
    customer.status_reason = reason
    customer.access_changed_at = next_change_stamp(ctx)
    customer.updated_at = utcnow()
    ctx.changed()


def suspend_customer(ctx: ServiceContext, customer_id: str, reason: str | None = None) -> Customer:
    customer = get_customer(ctx, customer_id)
    before = snapshot(customer, STATUS_FIELDS)
    _set_status(ctx, customer, "suspended", reason.strip() if reason and reason.strip() else None)
    ctx.audit("customer.suspend", RESOURCE_TYPE, customer.id, before, snapshot(customer, STATUS_FIELDS))
    return customer


def reactivate_customer(ctx: ServiceContext, customer_id: str) -> Customer:
    customer = get_customer(ctx, customer_id)
    before = snapshot(customer, STATUS_FIELDS)
    grants_repository.clear_frozen(ctx.session, ctx.tenant_id, customer.id)
    if customer.expires_at is not None and customer.expires_at <= utcnow():
        customer.expires_at = None
    _set_status(ctx, customer, "active", None)
    ctx.audit("customer.reactivate", RESOURCE_TYPE, customer.id, before, snapshot(customer, STATUS_FIELDS))
    return customer


def expire_customer(ctx: ServiceContext, customer_id: str) -> Customer:
    customer = get_customer(ctx, customer_id)
    before = snapshot(customer, STATUS_FIELDS)
    _set_status(ctx, customer, "expired", None)
    ctx.audit("customer.expire", RESOURCE_TYPE, customer.id, before, snapshot(customer, STATUS_FIELDS))
    return customer


def freeze_customer(
    ctx: ServiceContext, customer_id: str, versions: list[tuple[str, str]] | None = None
) -> Customer:
    """Lock the customer to the given versions, or to each granted package's newest visible version."""
    from cargoman.access.policy import constraint_allows

    customer = get_customer(ctx, customer_id)
    before = snapshot(customer, STATUS_FIELDS)
    granted = grants_repository.effective_grants(ctx.session, ctx.tenant_id, customer.id)
    package_names = {package.id: name for name, (package, _) in granted.items()}
    chosen: list[tuple[str, str, str]] = []  # package_id, pretty, normalized
    if versions:
        for index, (package_name, version) in enumerate(versions):
            field = f"versions[{index}]"
            name = validation.package_name(package_name, f"{field}.package")
            if name not in granted:
                raise ValidationFailed(f"{field}.package", f"customer has no access to {name}")
            package, _ = granted[name]
            row = packages_repository.find_version(ctx.session, ctx.tenant_id, package.id, version)
            if row is None:
                raise ValidationFailed(f"{field}.version", f"{name} has no version {version}")
            chosen.append((package.id, row.version, row.version_normalized))
    else:
        for package, constraint in granted.values():
            candidates = {
                row.version_normalized: row
                for row in packages_repository.versions_of(ctx.session, ctx.tenant_id, package.id)
                if not row.yanked
                and not row.is_branch
                and constraint_allows(constraint, row.version_normalized)
            }
            if candidates:
                newest = sort_versions(list(candidates), reverse=True)[0]
                chosen.append((package.id, candidates[newest].version, newest))
    grants_repository.clear_frozen(ctx.session, ctx.tenant_id, customer.id)
    for package_id, pretty, normalized in dict.fromkeys(chosen):
        ctx.session.add(
            FrozenVersion(
                tenant_id=ctx.tenant_id,
                customer_id=customer.id,
                package_id=package_id,
                version=pretty,
                version_normalized=normalized,
            )
        )
    _set_status(ctx, customer, "frozen", None)
    frozen = [
        {"package": package_names.get(package_id, package_id), "version": pretty}
        for package_id, pretty, _ in dict.fromkeys(chosen)
    ]
    after = {**snapshot(customer, STATUS_FIELDS), "frozen_versions": frozen}
    ctx.audit("customer.freeze", RESOURCE_TYPE, customer.id, before, after)
    return customer


def frozen_versions(ctx: ServiceContext, customer_id: str) -> list[FrozenVersion]:
    return grants_repository.frozen_for_customer(ctx.session, ctx.tenant_id, customer_id)
