"""From events to delivery tasks: one task per (event, active webhook of its tenant that wants it).

Bus handlers run on the publishing thread (a sync worker, a request), so the handler only puts the
event on a bounded in-memory queue; one thread looks the webhooks up and queues the tasks. Events
still queued when the process dies are lost (the bus itself keeps nothing either); the tasks, once
queued, survive restarts like every task.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cargoman.db.models import Task
from cargoman.editions import Feature, has_feature
from cargoman.events import Event, Topic
from cargoman.graphql_webhooks import repository
from cargoman.runtime import Runtime, ServiceContext
from cargoman.tasks.service import enqueue
from cargoman.timeutil import isoformat

log = logging.getLogger("cargoman.graphql_webhooks")

DELIVERY_TASK = "graphql_webhook_delivery"
MAX_QUEUED_EVENTS = 10_000
_STOP = object()


def json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    """The event payload as stored in a task (JSON): dates and other objects become strings."""
    result: dict[str, Any] = json.loads(json.dumps(payload, default=str))
    return result


def enqueue_delivery(
    ctx: ServiceContext,
    webhook_id: str,
    job: dict[str, Any],
    attempt: int,
    run_after: datetime | None = None,
) -> Task:
    """Queue attempt ``attempt`` of delivering one event (``job``: event_id, event, occurred_at, payload)."""
    task = enqueue(ctx, DELIVERY_TASK, {**job, "webhook_id": webhook_id, "attempt": attempt})
    # The delivery handler records and retries failed attempts itself; the task queue retries
    # only a crash of the handler, and never more than once per attempt.
    task.max_attempts = 2
    if run_after is not None:
        task.run_after = run_after
    return task


def event_job(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "event": event.topic.value,
        "occurred_at": isoformat(event.occurred_at),
        "payload": json_safe(event.payload),
    }


def dispatch(runtime: Runtime, event: Event) -> list[Task]:
    """Queue a delivery for every active webhook of the event's tenant subscribed to its topic."""
    if not has_feature(runtime.settings.edition, Feature.GRAPHQL):
        return []
    with runtime.unit_of_work("system", event.tenant_id) as ctx:
        hooks = repository.active_for_event(ctx.session, event.tenant_id, event.topic.value)
        job = event_job(event)
        return [enqueue_delivery(ctx, hook.id, job, attempt=1) for hook in hooks]


class WebhookDispatcher:
    def __init__(self, runtime: Runtime, max_queued: int = MAX_QUEUED_EVENTS) -> None:
        self.runtime = runtime
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queued)
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="graphql-webhook-dispatcher", daemon=True)
        self._thread.start()
        self._unsubscribe = self.runtime.events.subscribe(self._on_event, frozenset(Topic))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, queue the tasks of the events already received, then end the thread."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            log.warning("webhook dispatcher queue still full at shutdown; queued events are dropped")
        self._thread.join(timeout)
        self._thread = None

    def _on_event(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("webhook dispatcher queue full; event %s (%s) not delivered", event.id, event.topic)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Event)
            try:
                dispatch(self.runtime, item)
            except Exception:  # a database hiccup loses this event's deliveries, not the dispatcher
                log.exception("could not queue webhook deliveries for event %s", item.id)
