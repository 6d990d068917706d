"""The event bus interface and its in-process implementation."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from cargoman.security import new_id
from cargoman.timeutil import utcnow

log = logging.getLogger(__name__)


class Topic(StrEnum):
    PACKAGE_SYNCED = "package.synced"  # payload: package, status, versions, error, task_id
    CUSTOMER_ACTIVITY = "customer.activity"  # payload: customer_id, kind, package, version, ...


@dataclass(frozen=True)
class Event:
    topic: Topic
    tenant_id: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("evt"))
    occurred_at: datetime = field(default_factory=utcnow)


EventHandler = Callable[[Event], None]


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Hand the event to every current subscriber of its topic; never raises."""

    def subscribe(self, handler: EventHandler, topics: frozenset[Topic] | None = None) -> Callable[[], None]:
        """Call ``handler`` for each event of ``topics`` (all when None); returns the unsubscribe."""


class InProcessEventBus:
    """Handlers run on the publishing thread: they must be quick (hand off to a queue or loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[EventHandler, frozenset[Topic] | None]] = {}
        self._next = 0

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for handler, topics in subscribers:
            if topics is not None and event.topic not in topics:
                continue
            try:
                handler(event)
            except Exception:  # one broken subscriber must not stop the others or the publisher
                log.exception("event handler failed for %s", event.topic)

    def subscribe(self, handler: EventHandler, topics: frozenset[Topic] | None = None) -> Callable[[], None]:
        with self._lock:
            key = self._next
            self._next += 1
            self._subscribers[key] = (handler, topics)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe
