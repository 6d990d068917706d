"""Create, list and remove GraphQL webhooks; read their deliveries; the sample event.

Visibility (as SourceHut's): a CMA credential lists, reads and deletes only the webhooks it
created; the root token and owner-level credentials see and may delete every webhook of the
registry, to audit them. A webhook the caller may not see answers NOT_FOUND, like one that does
not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cargoman.db.models import GraphQLWebhook, GraphQLWebhookDelivery
from cargoman.editions import Feature, require_feature
from cargoman.errors import NotFound, ValidationFailed
from cargoman.events import Topic
from cargoman.graphql_webhooks import repository
from cargoman.graphql_webhooks.dispatcher import json_safe
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.graphql_webhooks.queries import QueryRules, check_stored_query
from cargoman.graphql_webhooks.signing import new_secret
from cargoman.graphql_webhooks.targets import TargetRefused, check_target
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.secretbox import SecretBox
from cargoman.security import new_id
from cargoman.timeutil import isoformat, utcnow

SECRET_PURPOSE = "graphql_webhook.secret"
ROOT_CREATOR = "root"
CMA_CREATOR = "cma"
AUDITOR_LEVEL = "owner"


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    events: list[Topic]
    query: str


@dataclass(frozen=True)
class Creator:
    """Whose credentials the stored query runs with."""

    kind: str  # root | cma
    id: str


@dataclass(frozen=True)
class Caller:
    """The credential managing webhooks: what it may see follows from its kind and level."""

    kind: str  # root | cma
    id: str
    level: str  # owner | admin | viewer

    @property
    def audits_all(self) -> bool:
        return self.kind == ROOT_CREATOR or self.level == AUDITOR_LEVEL

    @property
    def creator(self) -> Creator:
        return Creator(kind=self.kind, id=self.id)

    @property
    def scope(self) -> tuple[str, str] | None:
        """The (creator kind, creator id) its webhooks must have; None: every webhook."""
        return None if self.audits_all else (self.kind, self.id)


@dataclass(frozen=True)
class CreatedWebhook:
    webhook: GraphQLWebhook
    secret: str  # shown once, at creation


def _snapshot(row: GraphQLWebhook) -> dict[str, Any]:
    return {"url": row.url, "events": list(row.events), "query": row.query, "active": row.active}


def create_webhook(
    ctx: ServiceContext, creator: Creator, config: WebhookConfig, rules: QueryRules
) -> CreatedWebhook:
    require_feature(ctx.settings.edition, Feature.GRAPHQL)
    if creator.kind not in (ROOT_CREATOR, CMA_CREATOR):
        raise ValidationFailed("creator", "webhooks are created with the root token or a CMA token")
    try:
        check_target(config.url.strip(), ctx.settings.webhook_allow_private_targets)
    except TargetRefused as exc:
        raise ValidationFailed("url", str(exc)) from exc
    if not config.events:
        raise ValidationFailed("events", "must name at least one event")
    events = list(dict.fromkeys(topic.value for topic in config.events))
    check_stored_query(config.query, rules)
    secret = new_secret()
    row = GraphQLWebhook(
        id=new_id("whk"),
        tenant_id=ctx.tenant_id,
        url=config.url.strip(),
        events=events,
        query=config.query,
        secret_encrypted=SecretBox.from_settings(ctx.settings).encrypt(secret, SECRET_PURPOSE),
        creator_kind=creator.kind,
        creator_id=creator.id,
        active=True,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("graphql_webhook.create", "graphql_webhook", row.id, None, _snapshot(row))
    return CreatedWebhook(webhook=row, secret=secret)


def get_webhook(ctx: ServiceContext, caller: Caller, webhook_id: str) -> GraphQLWebhook:
    row = repository.get(ctx.session, ctx.tenant_id, webhook_id, caller.scope)
    if row is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return row


def list_webhooks(ctx: ServiceContext, caller: Caller, page: PageRequest) -> Page[GraphQLWebhook]:
    return paginate(ctx.session, repository.list_query(ctx.tenant_id, caller.scope), page)


def delete_webhook(ctx: ServiceContext, caller: Caller, webhook_id: str) -> None:
    row = get_webhook(ctx, caller, webhook_id)
    before = _snapshot(row)
    repository.delete_webhook(ctx.session, ctx.tenant_id, row.id)
    ctx.audit("graphql_webhook.delete", "graphql_webhook", row.id, before, None)


def list_deliveries(ctx: ServiceContext, webhook_id: str, page: PageRequest) -> Page[GraphQLWebhookDelivery]:
    return paginate(ctx.session, repository.deliveries_query(ctx.tenant_id, webhook_id), page)


def webhook_secret(ctx: ServiceContext, row: GraphQLWebhook) -> str:
    return SecretBox.from_settings(ctx.settings).decrypt(row.secret_encrypted, SECRET_PURPOSE)


def _sample_sync(ctx: ServiceContext) -> dict[str, Any]:
    package = repository.latest_synced_package(ctx.session, ctx.tenant_id)
    if package is None:
        return {}
    failed = package.sync_status == "error"  # else its last sync succeeded, at last_synced_at
    return {
        "package": package.name,
        "status": "failed" if failed else "succeeded",
        "error": package.sync_error if failed else None,
        "will_retry": False,
        "synced_at": None if failed else isoformat(package.last_synced_at),
    }


def _sample_activity(ctx: ServiceContext) -> dict[str, Any]:
    download = repository.latest_customer_download(ctx.session, ctx.tenant_id)
    if download is not None:
        return {
            "customer_id": download.customer_id,
            "kind": download.kind,
            "package": download.package_name,
            "version": download.version,
            "token_id": download.token_id,
        }
    customer = repository.latest_customer(ctx.session, ctx.tenant_id)
    if customer is None:
        return {}
    # No download yet: the customer's current status, as its last status change announced it.
    return {"customer_id": customer.id, "kind": "status_changed", "status": customer.status}


def sample_event(ctx: ServiceContext, topic: Topic) -> DeliveredEvent:
    """An event like the latest real one of this kind (no invented data; empty when there is none)."""
    payload: dict[str, Any] = {}
    if topic is Topic.PACKAGE_SYNCED:
        payload = _sample_sync(ctx)
    elif topic is Topic.CUSTOMER_ACTIVITY:
        payload = _sample_activity(ctx)
    return DeliveredEvent(id=new_id("evt"), topic=topic, occurred_at=utcnow(), payload=json_safe(payload))
