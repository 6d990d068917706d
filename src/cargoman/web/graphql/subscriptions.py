"""The Subscription root: ``packageSynced`` and ``customerActivity``, fed by the event bus.

Each subscription registers a handler on ``runtime.events``; the handler runs on the publishing
thread (a task worker, the usage recorder, a request thread) and only hands the event to the
subscription's event loop through ``loop.call_soon_threadsafe``. Leaving the async generator (the
client completes, disconnects, or the server stops) unsubscribes.

Events are tenant-scoped: a subscription only sees events of the tenant its credential belongs to.

Delivery scope: the in-process bus delivers events produced in the same server process -- syncs run
by its in-process task workers, downloads and status changes it served. Syncs run by a separate
``cargoman worker`` process (or another ``serve`` worker process) reach subscribers once a shared
bus (Redis) publishes across processes; the payloads are plain JSON for that reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from cargoman.errors import CargomanError
from cargoman.events import Event, EventBus, Topic
from cargoman.web.api.auth import AdminPrincipal
from cargoman.web.graphql.types import CustomerStatus

log = logging.getLogger("cargoman.graphql.subscriptions")

# Events waiting for a slow client; past this the subscription ends rather than grow without bound.
MAX_PENDING_EVENTS = 1000


@dataclass(frozen=True)
class SubscriptionContext:
    """``info.context`` of a subscription: where events come from and whose they may be."""

    events: EventBus
    tenant_id: str
    principal: AdminPrincipal
    # Called once the subscription listens on the bus (the transport orders later messages after it).
    on_listening: Callable[[], None] = lambda: None


SubCtx = Info[SubscriptionContext, None]


class SubscriberTooSlow(CargomanError):
    code = "SUBSCRIBER_TOO_SLOW"
    status = 429


@strawberry.enum(description="How a package sync attempt ended")
class PackageSyncStatus(Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.enum(description="What a customer did, or what happened to the customer")
class CustomerActivityKind(Enum):
    DOWNLOAD = "download"  # a dist archive was downloaded
    INSTALL = "install"  # Composer reported an installed package (notify-batch)
    TOKEN_USED = "token_used"  # at most once per token per usage flush (a few seconds)
    STATUS_CHANGED = "status_changed"
    DELETED = "deleted"


@strawberry.type(description="A package sync attempt finished (a failed attempt may be retried)")
class PackageSyncEvent:
    package: str
    status: PackageSyncStatus
    versions_added: list[str]
    versions_updated: list[str]
    versions_removed: list[str]
    versions_unchanged: int
    warnings: int = strawberry.field(description="Refs skipped with a warning")
    error: str | None
    will_retry: bool = strawberry.field(description="A failed attempt the task queue retries later")
    attempt: int
    task_id: strawberry.ID | None
    synced_at: datetime = strawberry.field(description="When the attempt ended (the task's finishedAt)")

    @classmethod
    def from_event(cls, event: Event) -> PackageSyncEvent:
        payload = event.payload
        synced_at = payload.get("synced_at")
        return cls(
            package=payload["package"],
            status=PackageSyncStatus(payload["status"]),
            versions_added=list(payload.get("versions_added", [])),
            versions_updated=list(payload.get("versions_updated", [])),
            versions_removed=list(payload.get("versions_removed", [])),
            versions_unchanged=int(payload.get("versions_unchanged", 0)),
            warnings=int(payload.get("warnings", 0)),
            error=payload.get("error"),
            will_retry=bool(payload.get("will_retry", False)),
            attempt=int(payload.get("attempt", 1)),
            task_id=_id(payload.get("task_id")),
            synced_at=datetime.fromisoformat(synced_at) if synced_at else event.occurred_at,
        )


@strawberry.type
class CustomerActivityFields:
    """The data of a CUSTOMER_ACTIVITY event, shared by its subscription item and its webhook payload."""

    customer_id: strawberry.ID
    kind: CustomerActivityKind
    package_name: str | None
    version: str | None
    token_id: strawberry.ID | None
    status: CustomerStatus | None = strawberry.field(description="The new status (STATUS_CHANGED)")
    previous_status: CustomerStatus | None
    reason: str | None = strawberry.field(description="Why the customer was suspended, when given")
    occurred_at: datetime


@strawberry.type(description="Something a customer did, or a change of the customer's status")
class CustomerActivityEvent(CustomerActivityFields):
    @classmethod
    def from_event(cls, event: Event) -> CustomerActivityEvent:
        payload = event.payload
        return cls(
            customer_id=strawberry.ID(payload["customer_id"]),
            kind=CustomerActivityKind(payload["kind"]),
            package_name=payload.get("package"),
            version=payload.get("version"),
            token_id=_id(payload.get("token_id")),
            status=_status(payload.get("status")),
            previous_status=_status(payload.get("previous_status")),
            reason=payload.get("reason"),
            occurred_at=event.occurred_at,
        )


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


def _status(value: Any) -> CustomerStatus | None:
    try:
        return CustomerStatus(value) if value is not None else None
    except ValueError:
        return None


async def tenant_events(
    context: SubscriptionContext, topic: Topic, wanted: Callable[[dict[str, Any]], bool]
) -> AsyncGenerator[Event, None]:
    """The caller's tenant's events of ``topic`` that ``wanted`` accepts, from subscription on."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    overflowed = False

    def enqueue(event: Event) -> None:  # on the event loop
        nonlocal overflowed
        if overflowed:
            return
        if queue.qsize() >= MAX_PENDING_EVENTS:
            overflowed = True
            queue.put_nowait(None)
            return
        queue.put_nowait(event)

    def deliver(event: Event) -> None:  # on the publishing thread
        if event.tenant_id == context.tenant_id and wanted(event.payload):
            loop.call_soon_threadsafe(enqueue, event)

    unsubscribe = context.events.subscribe(deliver, frozenset({topic}))
    try:
        context.on_listening()
        while True:
            event = await queue.get()
            if event is None:
                log.warning(
                    "subscriber %s fell %d events behind; ending its subscription",
                    context.principal.id,
                    MAX_PENDING_EVENTS,
                )
                raise SubscriberTooSlow(
                    f"More than {MAX_PENDING_EVENTS} events were waiting to be sent; subscribe again"
                )
            yield event
    finally:
        unsubscribe()


@strawberry.type
class EventSubscription:
    @strawberry.subscription(description="Each finished sync attempt, of one package or of all")
    async def package_synced(
        self, info: SubCtx, name: str | None = None
    ) -> AsyncGenerator[PackageSyncEvent, None]:
        wanted_name = name.strip().lower() if name is not None else None

        def wanted(payload: dict[str, Any]) -> bool:
            return wanted_name is None or payload.get("package") == wanted_name

        async for event in tenant_events(info.context, Topic.PACKAGE_SYNCED, wanted):
            yield PackageSyncEvent.from_event(event)

    @strawberry.subscription(
        description="Downloads, installs, token use and status changes, of one customer or of all"
    )
    async def customer_activity(
        self,
        info: SubCtx,
        customer_id: strawberry.ID | None = None,
        kinds: list[CustomerActivityKind] | None = None,
    ) -> AsyncGenerator[CustomerActivityEvent, None]:
        wanted_kinds = {kind.value for kind in kinds} if kinds else None

        def wanted(payload: dict[str, Any]) -> bool:
            if customer_id is not None and payload.get("customer_id") != str(customer_id):
                return False
            return wanted_kinds is None or payload.get("kind") in wanted_kinds

        async for event in tenant_events(info.context, Topic.CUSTOMER_ACTIVITY, wanted):
            yield CustomerActivityEvent.from_event(event)


__all__ = [
    "CustomerActivityEvent",
    "CustomerActivityFields",
    "CustomerActivityKind",
    "EventSubscription",
    "PackageSyncEvent",
    "PackageSyncStatus",
    "SubscriptionContext",
    "tenant_events",
]
