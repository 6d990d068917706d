"""What every resolver gets as ``info.context``: the unit of work, the caller, the loaders."""

from __future__ import annotations

from dataclasses import dataclass

from cargoman.graphql_limits import LimitReport
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.runtime import ServiceContext
from cargoman.web.api.auth import AdminPrincipal
from cargoman.web.graphql.loaders import Loaders


@dataclass
class GraphQLContext:
    """One per request; the loaders (and their caches) never outlive the request."""

    ctx: ServiceContext
    principal: AdminPrincipal
    loaders: Loaders
    limits: LimitReport
    complexity_limit: int | None
    # The event a webhook delivery (or sample) runs its stored query for: ``webhookPayload``.
    webhook_event: DeliveredEvent | None = None
    # How many ``Webhook.sample`` fields this request has evaluated: each runs a whole stored query.
    samples_evaluated: int = 0
