"""Record each incoming delivery once and do what it asks: queue syncs, or change a customer's status.

Every delivery is one row of ``webhook_deliveries``, inserted first in its unit of work: the unique
(tenant, provider, delivery id) makes a replayed delivery fail there, before anything is queued,
even when two copies arrive at the same moment. Delivery ids travel in unsigned headers, so the
unique (tenant, provider, payload digest) catches a captured signed body resent under a new id.
Packages a delivery matched are linked to it, so each package's delivery log shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from cargoman import validation
from cargoman.access.policy import CustomerAccess, matches_package_scopes
from cargoman.customers import repository as customers_repository
from cargoman.customers import service as customers
from cargoman.db.models import Customer, Package, WebhookDelivery, WebhookDeliveryPackage
from cargoman.editions import EDITIONS
from cargoman.errors import NotFound, RateLimited, ValidationFailed
from cargoman.github_app.events import handle_installation_event
from cargoman.packages import repository as packages_repository
from cargoman.runtime import ServiceContext
from cargoman.tasks.service import enqueue_package_sync
from cargoman.timeutil import utcnow
from cargoman.webhooks import repository
from cargoman.webhooks.git_events import GitEvent
from cargoman.webhooks.repository_urls import repository_keys
from cargoman.webhooks.stripe_events import BillingChange

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Incoming:
    """A verified delivery: who sent it, which event, the sender's id for it (if any) and the digest
    of what was signed (``payload_digest``; None when nothing was signed)."""

    provider: str
    event: str
    delivery_id: str | None
    payload_digest: str | None = None


def check_daily_limit(ctx: ServiceContext, excluded_providers: Collection[str]) -> None:
    """The edition's "webhooks per day" (Community 10, Pro 100): deliveries that may queue syncs,
    counted over the last 24 hours. Billing events are never limited: they keep customers' access
    right. A delivery over the limit changes nothing and is not recorded (the 429 says why)."""
    limit = EDITIONS[ctx.settings.edition].limits.webhooks_per_day
    if limit is None:
        return
    since = utcnow() - timedelta(days=1)
    if repository.count_deliveries_since(ctx.session, ctx.tenant_id, since, excluded_providers) >= limit:
        log.warning(
            "webhook refused: %s edition limit of %d deliveries a day reached", ctx.settings.edition, limit
        )
        raise RateLimited(
            f"The {ctx.settings.edition} edition accepts {limit} webhook deliveries a day; "
            "the limit is reached (see /api/v1/license)"
        )


@dataclass(frozen=True)
class DeliveryResult:
    provider: str
    event: str
    delivery_id: str | None
    outcome: str
    message: str | None
    packages: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()


class DuplicateDelivery(Exception):
    """This delivery id was already recorded; the unit of work is rolled back."""


def _open(ctx: ServiceContext, incoming: Incoming) -> WebhookDelivery:
    row = WebhookDelivery(
        tenant_id=ctx.tenant_id,
        provider=incoming.provider,
        event=incoming.event,
        delivery_id=incoming.delivery_id,
        payload_digest=incoming.payload_digest,
        verified=True,
        outcome="received",
        task_ids=[],
    )
    ctx.session.add(row)
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        raise DuplicateDelivery(incoming.delivery_id) from exc
    return row


def _finish(
    row: WebhookDelivery,
    outcome: str,
    message: str | None,
    packages: list[Package] | None = None,
    task_ids: list[str] | None = None,
) -> DeliveryResult:
    row.outcome = outcome
    # Messages quote payload values; a NUL cannot be stored (PostgreSQL) and means nothing to a reader.
    row.message = message.replace("\x00", "") if message is not None else None
    row.task_ids = list(task_ids or [])
    if packages:
        row.package_id = packages[0].id
    return DeliveryResult(
        provider=row.provider,
        event=row.event,
        delivery_id=row.delivery_id,
        outcome=outcome,
        message=row.message,
        packages=tuple(package.name for package in packages or []),
        task_ids=tuple(row.task_ids),
    )


def duplicate_of(ctx: ServiceContext, incoming: Incoming) -> DeliveryResult:
    """The answer to a replay: what the first copy of the delivery did."""
    original = (
        repository.get_delivery(ctx.session, ctx.tenant_id, incoming.provider, incoming.delivery_id)
        if incoming.delivery_id is not None
        else None
    )
    if original is None and incoming.payload_digest is not None:
        original = repository.get_delivery_by_digest(
            ctx.session, ctx.tenant_id, incoming.provider, incoming.payload_digest
        )
    if original is None:  # deleted meanwhile: still a replay, and still not acted on twice
        return DeliveryResult(incoming.provider, incoming.event, incoming.delivery_id, DUPLICATE, None)
    return DeliveryResult(
        provider=original.provider,
        event=original.event,
        delivery_id=original.delivery_id,
        outcome=DUPLICATE,
        message=f"already received at {original.created_at.isoformat()} ({original.outcome})",
        packages=tuple(repository.linked_package_names(ctx.session, ctx.tenant_id, original.id)),
        task_ids=tuple(original.task_ids or []),
    )


# -- Git providers -----------------------------------------------------------------------------------


def _sync_target(ctx: ServiceContext, package: Package) -> Package:
    """A monorepo child is synced with (and by) its root."""
    if package.parent_id is None:
        return package
    root = packages_repository.get(ctx.session, ctx.tenant_id, package.parent_id)
    return root if root is not None else package


def _link(ctx: ServiceContext, row: WebhookDelivery, package: Package, task_id: str | None = None) -> None:
    """Show the delivery in this package's delivery log."""
    ctx.session.add(
        WebhookDeliveryPackage(
            webhook_delivery_id=row.id, package_id=package.id, tenant_id=ctx.tenant_id, task_id=task_id
        )
    )


def _queue_sync(ctx: ServiceContext, row: WebhookDelivery, package: Package) -> str:
    """The same task kind as a sync asked for through the API: a sync already pending is reused."""
    target = _sync_target(ctx, package)
    task = enqueue_package_sync(ctx, target.id, target.name)
    _link(ctx, row, package, task.id)
    return task.id


def _audit_sync(ctx: ServiceContext, row: WebhookDelivery, package: Package, task_id: str) -> None:
    delivery = {"provider": row.provider, "event": row.event, "delivery_id": row.delivery_id}
    ctx.audit("package.sync_request", "package", package.name, None, {"task": task_id, "webhook": delivery})


def handle_git_event(ctx: ServiceContext, incoming: Incoming, event: GitEvent) -> DeliveryResult:
    """Sync every package the repository backs; a ping or an ignored event is only recorded."""
    row = _open(ctx, incoming)
    if event.action == "ignore":
        return _finish(row, "ignored", event.message)
    keys = repository_keys(event.repository_urls)
    packages = repository.packages_of_repository(ctx.session, ctx.tenant_id, keys) if keys else []
    if event.action == "ping":
        for package in packages:
            _link(ctx, row, package)
        return _finish(row, "ping", event.message, packages)
    if not keys:
        return _finish(row, "no_match", f"{event.message}; the payload names no repository URL")
    if not packages:
        return _finish(row, "no_match", f"{event.message}; no package uses this repository")
    task_ids: list[str] = []
    for package in packages:
        task_id = _queue_sync(ctx, row, package)
        if task_id not in task_ids:
            task_ids.append(task_id)
            _audit_sync(ctx, row, _sync_target(ctx, package), task_id)
    return _finish(row, "queued", event.message, packages, task_ids)


def handle_installation(
    ctx: ServiceContext, incoming: Incoming, event_name: str, payload: dict[str, Any]
) -> DeliveryResult:
    """The GitHub App's installation lifecycle (recorded by the GitHub App integration)."""
    row = _open(ctx, incoming)
    description = handle_installation_event(ctx, event_name, payload)
    outcome = "ignored" if description.startswith("ignored") else "applied"
    return _finish(row, outcome, description)


# -- a customer token asks for a sync ----------------------------------------------------------------


def sync_for_customer_token(
    ctx: ServiceContext, access: CustomerAccess, package_name: str, incoming: Incoming
) -> DeliveryResult:
    """Sync one package the token may reach; any other name is answered as unknown."""
    name = validation.package_name(package_name)
    not_found = NotFound(f"Package {name} not found")
    if name not in access.grants or not matches_package_scopes(access.package_scopes, name):
        raise not_found
    package = packages_repository.get_by_name(ctx.session, ctx.tenant_id, name)
    if package is None:
        raise not_found
    target = _sync_target(ctx, package)
    if target.repository_url is None:
        raise ValidationFailed("name", f"{name} has no repository to sync (published by upload)")
    row = _open(ctx, incoming)
    task_id = _queue_sync(ctx, row, package)
    _audit_sync(ctx, row, target, task_id)
    return _finish(row, "queued", f"sync of {name} requested", [package], [task_id])


# -- Stripe --------------------------------------------------------------------------------------------


def _effective_status(customer: Customer) -> str:
    if customer.expires_at is not None and customer.expires_at <= utcnow():
        return "expired"
    return customer.status


def _apply_change(ctx: ServiceContext, customer: Customer, change: BillingChange) -> str:
    if change.change == "suspend":
        customers.suspend_customer(ctx, customer.id, change.reason)
        return "suspended"
    if change.change == "reactivate":
        customers.reactivate_customer(ctx, customer.id)
        return "reactivated"
    if change.change == "freeze":
        customers.freeze_customer(ctx, customer.id)
        return "frozen"
    customers.expire_customer(ctx, customer.id)
    return "expired"


def handle_billing_event(ctx: ServiceContext, incoming: Incoming, change: BillingChange) -> DeliveryResult:
    """Move the customer whose external id is the Stripe customer id; anyone else is left alone."""
    row = _open(ctx, incoming)
    if change.change == "ignore":
        return _finish(row, "ignored", change.message)
    if change.stripe_customer is None:
        return _finish(row, "ignored", f"{change.message}; the event names no customer")
    customer = customers_repository.get_by_external_id(ctx.session, ctx.tenant_id, change.stripe_customer)
    if customer is None:
        return _finish(
            row, "ignored", f"{change.message}; no customer has external id {change.stripe_customer}"
        )
    status = _effective_status(customer)
    if status not in change.applies_to:
        return _finish(row, "unchanged", f"{change.message}; customer {customer.id} is {status}")
    outcome = _apply_change(ctx, customer, change)
    return _finish(row, outcome, f"{change.message}; customer {customer.id} {outcome}")
