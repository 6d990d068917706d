"""Queries of the incoming-webhook deliveries and of the packages a repository URL names."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cargoman.db.models import Package, WebhookDelivery, WebhookDeliveryPackage
from cargoman.webhooks.repository_urls import repository_key, repository_name


def get_delivery(session: Session, tenant_id: str, provider: str, delivery_id: str) -> WebhookDelivery | None:
    return session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.provider == provider,
            WebhookDelivery.delivery_id == delivery_id,
        )
    )


def get_delivery_by_digest(
    session: Session, tenant_id: str, provider: str, payload_digest: str
) -> WebhookDelivery | None:
    return session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.provider == provider,
            WebhookDelivery.payload_digest == payload_digest,
        )
    )


def linked_package_names(session: Session, tenant_id: str, webhook_delivery_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Package.name)
            .join(WebhookDeliveryPackage, WebhookDeliveryPackage.package_id == Package.id)
            .where(
                WebhookDeliveryPackage.tenant_id == tenant_id,
                WebhookDeliveryPackage.webhook_delivery_id == webhook_delivery_id,
            )
            .order_by(Package.name)
        )
    )


def packages_of_repository(session: Session, tenant_id: str, keys: Collection[str]) -> list[Package]:
    """Packages (monorepo children included) whose repository URL reduces to one of ``keys``.

    The database narrows by the repository's name (every spelling of the URL contains it); the exact
    comparison of keys happens here, where the URL rules live.
    """
    names = {repository_name(key).lower() for key in keys if repository_name(key)}
    if not names:
        return []
    url = func.lower(Package.repository_url)
    candidates = session.scalars(
        select(Package)
        .where(
            Package.tenant_id == tenant_id,
            Package.repository_url.is_not(None),
            or_(*(url.contains(name, autoescape=True) for name in sorted(names))),
        )
        .order_by(Package.name)
    )
    return [
        package
        for package in candidates
        if package.repository_url is not None and repository_key(package.repository_url) in keys
    ]


def delete_deliveries_before(session: Session, tenant_id: str, before: datetime) -> int:
    """Forget incoming deliveries past their retention (with their package links)."""
    old = select(WebhookDelivery.id).where(
        WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.created_at < before
    )
    session.execute(delete(WebhookDeliveryPackage).where(WebhookDeliveryPackage.webhook_delivery_id.in_(old)))
    result = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.created_at < before
        )
    )
    return result.rowcount  # type: ignore[attr-defined]


def count_deliveries_since(
    session: Session, tenant_id: str, since: datetime, excluded_providers: Collection[str]
) -> int:
    """Deliveries recorded for the tenant since ``since``, other than the excluded providers'."""
    return (
        session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == tenant_id,
                WebhookDelivery.created_at >= since,
                WebhookDelivery.provider.not_in(list(excluded_providers)),
            )
        )
        or 0
    )
