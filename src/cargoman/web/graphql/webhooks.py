"""GraphQL-native webhooks: createWebhook / deleteWebhook, webhooks / webhook(id) with deliveries and sample.

A stored query receives its event two ways: as the event variables it declares (``$packageName``...,
``variables.py``) and as the ``webhookPayload`` field (``webhook_payload.py``), e.g.
``query { webhookPayload { uuid event date ... on PackageSyncedPayload { packageName } } }``.

Visibility: a CMA credential lists, reads and deletes only the webhooks it created; the root token
and owner-level credentials see every webhook, to audit them. Others' ids answer NOT_FOUND. Writing
needs CanWrite. The signing secret is shown once, by createWebhook.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import NoSchemaIntrospectionCustomRule, parse, specified_rules
from strawberry.types.graphql import OperationType

from cargoman.db import models
from cargoman.errors import ValidationFailed
from cargoman.events import Topic
from cargoman.graphql_limits import check_limits
from cargoman.graphql_webhooks import service
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.graphql_webhooks.queries import QueryRules
from cargoman.graphql_webhooks.variables import select_declared
from cargoman.web.api.auth import AdminPrincipal
from cargoman.web.graphql.context import GraphQLContext
from cargoman.web.graphql.errors import format_error
from cargoman.web.graphql.loaders import Loaders
from cargoman.web.graphql.mutations import mutation_scope
from cargoman.web.graphql.paging import Pagination, window
from cargoman.web.graphql.permissions import CanWrite
from cargoman.web.graphql.types import Connection, Ctx


@strawberry.enum(description="What a webhook can be told about: one value per registry event topic")
class WebhookEvent(Enum):
    PACKAGE_SYNCED = Topic.PACKAGE_SYNCED.value
    CUSTOMER_ACTIVITY = Topic.CUSTOMER_ACTIVITY.value


_TOPIC_VALUES = frozenset(topic.value for topic in Topic)


def _events(row: models.GraphQLWebhook) -> list[Any]:
    return [WebhookEvent(value) for value in row.events if value in _TOPIC_VALUES]


@strawberry.enum(description="How one delivery attempt ended")
class WebhookDeliveryStatus(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"


@strawberry.input(description="A webhook: where to POST, on which events, the result of which query")
class WebhookInput:
    url: str = strawberry.field(description="http(s) URL the result is POSTed to")
    events: list[WebhookEvent] = strawberry.field(description="At least one event")
    query: str = strawberry.field(
        description="A GraphQL query (no mutation) run on each event; it reads the event from "
        "webhookPayload, and may declare the event variables $event, $eventId, $occurredAt, "
        "$packageName, $syncStatus, $syncError, $customerId, $activity, $customerStatus, $version"
    )


def _headers(headers: dict[str, Any] | None) -> list[str] | None:
    # "Name: value" strings: a list of scalars keeps the query complexity of a delivery flat.
    if headers is None:
        return None
    return [f"{name}: {value}" for name, value in headers.items()]


@strawberry.type(description="One attempt to deliver one event")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="Shared by the attempts of one event (X-Cargoman-Delivery)")
    event: WebhookEvent
    attempt: int
    status: WebhookDeliveryStatus
    request_url: str
    request_headers: list[str] = strawberry.field(description="Headers sent, each as 'Name: value'")
    request_body: str = strawberry.field(description="The body sent (first 64 KB)")
    response_status: int | None
    response_headers: list[str] | None = strawberry.field(description="Headers received, as 'Name: value'")
    response_body: str | None = strawberry.field(description="The body received (first 64 KB)")
    error: str | None = strawberry.field(description="Why no answer was received, or why it was cut")
    duration_ms: int | None
    next_attempt_at: datetime | None = strawberry.field(description="When the next attempt is due, if any")
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.GraphQLWebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(row.id),
            event_id=row.event_id,
            event=WebhookEvent(row.event),
            attempt=row.attempt,
            status=WebhookDeliveryStatus(row.status),
            request_url=row.request_url,
            request_headers=_headers(row.request_headers) or [],
            request_body=row.request_body,
            response_status=row.response_status,
            response_headers=_headers(row.response_headers),
            response_body=row.response_body,
            error=row.error,
            duration_ms=row.duration_ms,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A GraphQL webhook (its secret is only shown when it is created)")
class Webhook:
    id: strawberry.ID
    url: str
    events: list[WebhookEvent]
    query: str
    active: bool
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.GraphQLWebhook) -> Webhook:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            events=_events(row),
            query=row.query,
            active=row.active,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
        )

    @strawberry.field(description="Delivery attempts, newest first (kept WEBHOOK_DELIVERY_RETENTION_DAYS)")
    def deliveries(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        page_window = window(None, first, after)
        page = service.list_deliveries(info.context.ctx, str(self.id), page_window)
        nodes = [WebhookDelivery.from_row(row) for row in page.items]
        return Connection.build(nodes, page_window.start, page.total)

    @strawberry.field(
        description="The JSON this webhook's query would POST for an event like the latest one of "
        "this kind, run with your credentials (one sample per request; not inside a webhook query)"
    )
    async def sample(self, info: Ctx, event: WebhookEvent) -> str:
        _count_sample(info.context)
        sample = service.sample_event(info.context.ctx, Topic(event.value))
        result = await run_stored_query(info, info.context.principal, self.query, sample)
        return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


@strawberry.type(description="A new webhook, with the secret that signs its deliveries (shown only here)")
class WebhookCreated:
    id: strawberry.ID
    url: str
    events: list[WebhookEvent]
    query: str
    created_at: datetime
    secret: str = strawberry.field(
        description="The HMAC-SHA256 key: X-Cargoman-Signature is "
        "sha256=hex(HMAC(secret, X-Cargoman-Timestamp + '.' + body))"
    )


# A sample runs a whole stored query at the cost of one field: one per request keeps that bounded.
MAX_SAMPLES_PER_REQUEST = 1


def _count_sample(context: GraphQLContext) -> None:
    """Refuse a sample inside a stored query (a delivery or a sample: no recursion) and past the cap."""
    if context.webhook_event is not None:
        raise ValidationFailed("sample", "is not available while a webhook query runs")
    if context.samples_evaluated >= MAX_SAMPLES_PER_REQUEST:
        raise ValidationFailed("sample", f"at most {MAX_SAMPLES_PER_REQUEST} sample is evaluated per request")
    context.samples_evaluated += 1


def query_rules(info: Ctx) -> QueryRules:
    """The checks the endpoint applies to requests, for a query stored now and run later."""
    from cargoman.web.graphql.router import MAX_DEPTH  # the router module builds this schema

    rules = list(specified_rules)
    if not info.context.ctx.settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return QueryRules(info.schema._schema, rules, info.context.complexity_limit, MAX_DEPTH)


async def run_stored_query(
    info: Ctx, principal: AdminPrincipal, query: str, event: DeliveredEvent
) -> dict[str, Any]:
    """Run ``query`` read-only for ``event`` in this request's unit of work, as a delivery does."""
    document = parse(query)
    rules = query_rules(info)
    declared = select_declared(event.variables(), document)
    limits = check_limits(document, rules.schema, None, declared, rules.max_complexity, rules.max_depth)
    ctx = info.context.ctx
    context = GraphQLContext(
        ctx, principal, Loaders(ctx), limits, info.context.complexity_limit, webhook_event=event
    )
    result = await info.schema.execute(
        query,
        variable_values=declared,
        context_value=context,
        allowed_operation_types=(OperationType.QUERY,),
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(error) for error in result.errors]
    return body


def caller(info: Ctx) -> service.Caller:
    principal = info.context.principal
    return service.Caller(kind=principal.kind, id=principal.id, level=principal.level)


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="GraphQL webhooks, oldest first: those your credential created (all of them "
        "for the root token and owners)"
    )
    def webhooks(
        self,
        info: Ctx,
        pagination: Pagination | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Webhook]:
        page_window = window(pagination, first, after)
        page = service.list_webhooks(info.context.ctx, caller(info), page_window)
        return Connection.build([Webhook.from_row(row) for row in page.items], page_window.start, page.total)

    @strawberry.field(description="A GraphQL webhook by id, if you may see it (as in `webhooks`)")
    def webhook(self, info: Ctx, id: strawberry.ID) -> Webhook | None:
        return Webhook.from_row(service.get_webhook(info.context.ctx, caller(info), str(id)))


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a webhook; its query runs with your credentials on each of its events",
    )
    def create_webhook(self, info: Ctx, config: WebhookInput) -> WebhookCreated:
        creator = caller(info).creator
        events = [Topic(event.value) for event in config.events]
        with mutation_scope(info) as ctx:
            created = service.create_webhook(
                ctx, creator, service.WebhookConfig(config.url, events, config.query), query_rules(info)
            )
            row = created.webhook
            return WebhookCreated(
                id=strawberry.ID(row.id),
                url=row.url,
                events=_events(row),
                query=row.query,
                created_at=row.created_at,
                secret=created.secret,
            )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Delete a webhook you may see (as in `webhooks`) and its deliveries",
    )
    def delete_webhook(self, info: Ctx, id: strawberry.ID) -> bool:
        with mutation_scope(info) as ctx:
            service.delete_webhook(ctx, caller(info), str(id))
        return True
