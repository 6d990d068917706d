"""GraphQL webhook and delivery queries, always filtered by tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from cargoman.db.models import Customer, DownloadEvent, GraphQLWebhook, GraphQLWebhookDelivery, Package


def _created_by(query: Select[Any], creator: tuple[str, str] | None) -> Select[Any]:
    """Only the webhooks created by ``creator`` (kind, id); every webhook when None."""
    if creator is None:
        return query
    kind, creator_id = creator
    return query.where(GraphQLWebhook.creator_kind == kind, GraphQLWebhook.creator_id == creator_id)


def get(
    session: Session, tenant_id: str, webhook_id: str, creator: tuple[str, str] | None = None
) -> GraphQLWebhook | None:
    query = select(GraphQLWebhook).where(
        GraphQLWebhook.tenant_id == tenant_id, GraphQLWebhook.id == webhook_id
    )
    return session.scalar(_created_by(query, creator))


def list_query(tenant_id: str, creator: tuple[str, str] | None = None) -> Select[Any]:
    query = select(GraphQLWebhook).where(GraphQLWebhook.tenant_id == tenant_id)
    return _created_by(query, creator).order_by(GraphQLWebhook.created_at, GraphQLWebhook.id)


def active_for_event(session: Session, tenant_id: str, event: str) -> list[GraphQLWebhook]:
    rows = session.scalars(
        select(GraphQLWebhook).where(GraphQLWebhook.tenant_id == tenant_id, GraphQLWebhook.active.is_(True))
    )
    # The events list is JSON; a tenant has few webhooks, so filtering here is portable and cheap.
    return [row for row in rows if event in (row.events or [])]


def disable(session: Session, tenant_id: str, webhook_id: str, reason: str, now: datetime) -> None:
    session.execute(
        update(GraphQLWebhook)
        .where(GraphQLWebhook.tenant_id == tenant_id, GraphQLWebhook.id == webhook_id)
        .values(active=False, disabled_reason=reason, updated_at=now)
    )


def delete_webhook(session: Session, tenant_id: str, webhook_id: str) -> None:
    # Deliveries explicitly too: the cascade is not declared on the ORM relationship side.
    session.execute(
        delete(GraphQLWebhookDelivery).where(
            GraphQLWebhookDelivery.tenant_id == tenant_id, GraphQLWebhookDelivery.webhook_id == webhook_id
        )
    )
    session.execute(
        delete(GraphQLWebhook).where(GraphQLWebhook.tenant_id == tenant_id, GraphQLWebhook.id == webhook_id)
    )


def deliveries_query(tenant_id: str, webhook_id: str) -> Select[Any]:
    """Newest first; attempts of one event in the order they were made."""
    return (
        select(GraphQLWebhookDelivery)
        .where(GraphQLWebhookDelivery.tenant_id == tenant_id, GraphQLWebhookDelivery.webhook_id == webhook_id)
        .order_by(
            GraphQLWebhookDelivery.created_at.desc(),
            GraphQLWebhookDelivery.attempt.desc(),
            GraphQLWebhookDelivery.id,
        )
    )


def delete_deliveries_before(session: Session, tenant_id: str, before: datetime) -> int:
    result = session.execute(
        delete(GraphQLWebhookDelivery).where(
            GraphQLWebhookDelivery.tenant_id == tenant_id, GraphQLWebhookDelivery.created_at < before
        )
    )
    return result.rowcount  # type: ignore[attr-defined]


def latest_synced_package(session: Session, tenant_id: str) -> Package | None:
    return session.scalar(
        select(Package)
        .where(Package.tenant_id == tenant_id, Package.last_synced_at.is_not(None))
        .order_by(Package.last_synced_at.desc(), Package.name)
        .limit(1)
    )


def latest_customer_download(session: Session, tenant_id: str) -> DownloadEvent | None:
    return session.scalar(
        select(DownloadEvent)
        .where(DownloadEvent.tenant_id == tenant_id, DownloadEvent.customer_id.is_not(None))
        .order_by(DownloadEvent.created_at.desc(), DownloadEvent.id.desc())
        .limit(1)
    )


def latest_customer(session: Session, tenant_id: str) -> Customer | None:
    return session.scalar(
        select(Customer)
        .where(Customer.tenant_id == tenant_id)
        .order_by(Customer.created_at.desc(), Customer.id)
        .limit(1)
    )
