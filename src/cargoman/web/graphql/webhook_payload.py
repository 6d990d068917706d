"""``webhookPayload``: the event a webhook delivery is about, as SourceHut's ``webhook`` resolver.

A webhook query selects the common fields of the ``WebhookPayload`` interface (uuid, event, date)
and, per event, the fields of its type::

    query {
      webhookPayload {
        uuid event date
        ... on PackageSyncedPayload { packageName status package { name latestVersion } }
      }
    }

The payload fields are the event's own (the same as the ``packageSynced`` and ``customerActivity``
subscriptions); ``package`` and ``customer`` are the live objects, read when the query runs (null
once deleted). Outside a delivery or a sample (an ordinary request) ``webhookPayload`` is null.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import strawberry

from cargoman.customers import repository as customers_repository
from cargoman.events import Event, Topic
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.packages import repository as packages_repository
from cargoman.web.graphql.subscriptions import (
    CustomerActivityEvent,
    CustomerActivityFields,
    PackageSyncEvent,
    PackageSyncStatus,
)
from cargoman.web.graphql.types import Ctx, Customer, Package
from cargoman.web.graphql.webhooks import WebhookEvent


@strawberry.interface(description="The event a webhook delivery is about; each event type adds its data")
class WebhookPayload:
    uuid: str = strawberry.field(description="The event id: X-Cargoman-Delivery, shared by its attempts")
    event: WebhookEvent
    date: datetime = strawberry.field(description="When the event happened")


@strawberry.type(description="A package sync attempt finished (PACKAGE_SYNCED)")
class PackageSyncedPayload(WebhookPayload):
    package_name: str
    status: PackageSyncStatus
    error: str | None
    will_retry: bool = strawberry.field(description="A failed attempt the task queue retries later")
    attempt: int
    task_id: strawberry.ID | None
    synced_at: datetime = strawberry.field(description="When the attempt ended")
    versions_added: list[str]
    versions_updated: list[str]
    versions_removed: list[str]
    versions_unchanged: int
    warnings: int = strawberry.field(description="Refs skipped with a warning")

    @strawberry.field(description="The package as it is now; null once deleted")
    def package(self, info: Ctx) -> Package | None:
        ctx = info.context.ctx
        row = packages_repository.get_by_name(ctx.session, ctx.tenant_id, self.package_name)
        return Package.from_row(row) if row is not None else None

    @classmethod
    def build(cls, delivered: DeliveredEvent, event: PackageSyncEvent) -> PackageSyncedPayload:
        return cls(
            uuid=delivered.id,
            event=WebhookEvent(delivered.topic.value),
            date=delivered.occurred_at,
            package_name=event.package,
            status=event.status,
            error=event.error,
            will_retry=event.will_retry,
            attempt=event.attempt,
            task_id=event.task_id,
            synced_at=event.synced_at,
            versions_added=event.versions_added,
            versions_updated=event.versions_updated,
            versions_removed=event.versions_removed,
            versions_unchanged=event.versions_unchanged,
            warnings=event.warnings,
        )


# This base order keeps the schema's field order: uuid, event, date, then the event's data.
@strawberry.type(description="Something a customer did, or a change of its status (CUSTOMER_ACTIVITY)")
class CustomerActivityPayload(WebhookPayload, CustomerActivityFields):
    @strawberry.field(description="The customer as it is now; null once deleted")
    def customer(self, info: Ctx) -> Customer | None:
        ctx = info.context.ctx
        row = customers_repository.get(ctx.session, ctx.tenant_id, str(self.customer_id))
        return Customer.from_row(row) if row is not None else None

    @classmethod
    def build(cls, delivered: DeliveredEvent, event: CustomerActivityEvent) -> CustomerActivityPayload:
        return cls(
            uuid=delivered.id,
            event=WebhookEvent(delivered.topic.value),
            date=delivered.occurred_at,
            **{f.name: getattr(event, f.name) for f in fields(CustomerActivityFields)},
        )


def payload_of(delivered: DeliveredEvent, tenant_id: str) -> WebhookPayload | None:
    """The typed payload; None when the event lacks what its type needs (a sample with no data)."""
    event = Event(
        topic=delivered.topic,
        tenant_id=tenant_id,
        payload=dict(delivered.payload),
        id=delivered.id,
        occurred_at=delivered.occurred_at,
    )
    # The subscriptions read the same payloads: one parser for both.
    try:
        if delivered.topic is Topic.PACKAGE_SYNCED:
            return PackageSyncedPayload.build(delivered, PackageSyncEvent.from_event(event))
        if delivered.topic is Topic.CUSTOMER_ACTIVITY:
            return CustomerActivityPayload.build(delivered, CustomerActivityEvent.from_event(event))
    except (KeyError, TypeError, ValueError):
        return None
    return None


@strawberry.type
class WebhookPayloadQuery:
    @strawberry.field(
        description="The event of the webhook delivery this query runs for (select the fields of each "
        "event with `... on PackageSyncedPayload` / `... on CustomerActivityPayload`); null in a "
        "normal request"
    )
    def webhook_payload(self, info: Ctx) -> WebhookPayload | None:
        delivered = info.context.webhook_event
        if delivered is None:
            return None
        return payload_of(delivered, info.context.ctx.tenant_id)


# Implementations of the interface, which the schema must list (no field returns them directly).
WEBHOOK_PAYLOAD_TYPES: tuple[Any, ...] = (PackageSyncedPayload, CustomerActivityPayload)
