"""Buffers Composer usage (token last use, downloads, installs) and writes it in batches.

The hot path only appends to memory; a background thread flushes every few seconds and at shutdown,
so serving a file never waits for a database write. Each flush also publishes the batch's customer
activity (downloads, installs, tokens used) on the event bus once it is committed.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cargoman.db.models import CustomerToken, DownloadEvent
from cargoman.events import Event, EventBus, Topic
from cargoman.runtime import Runtime
from cargoman.stats import repository as stats_repository
from cargoman.timeutil import utcnow

log = logging.getLogger("cargoman.stats")


@dataclass(frozen=True)
class UsageEvent:
    tenant_id: str
    kind: str  # download | install
    package_name: str
    version: str
    customer_id: str | None
    token_id: str | None
    ip: str | None
    at: datetime


class UsageRecorder:
    def __init__(self, runtime: Runtime, interval: float = 2.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._lock = threading.Lock()
        self._events: list[UsageEvent] = []
        self._token_use: dict[str, tuple[datetime, str | None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def token_used(self, token_id: str, ip: str | None, at: datetime | None = None) -> None:
        self._token_use[token_id] = (at or utcnow(), ip)

    def record(self, event: UsageEvent) -> None:
        with self._lock:
            self._events.append(event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="usage-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:
                log.exception("could not write usage statistics")

    def flush(self) -> None:
        with self._lock:
            events, self._events = self._events, []
            token_use, self._token_use = self._token_use, {}
        if not events and not token_use:
            return
        with self.runtime.unit_of_work("usage-recorder") as ctx:
            for token_id, (at, ip) in token_use.items():
                ctx.session.execute(
                    update(CustomerToken)
                    .where(CustomerToken.id == token_id)
                    .values(last_used_at=at, last_used_ip=ip)
                )
            pretty = _pretty_versions(ctx.session, [e for e in events if e.kind == "install"])
            ctx.session.add_all(
                DownloadEvent(
                    tenant_id=event.tenant_id,
                    kind=event.kind,
                    package_name=event.package_name,
                    version=pretty.get((event.tenant_id, event.package_name, event.version), event.version),
                    customer_id=event.customer_id,
                    token_id=event.token_id,
                    ip=event.ip,
                    created_at=event.at,
                )
                for event in events
            )
            activity = _activity(ctx.session, events, token_use, pretty)
            ctx.after_commit(partial(_publish_all, self.runtime.events, activity))


def _activity(
    session: Session,
    events: list[UsageEvent],
    token_use: dict[str, tuple[datetime, str | None]],
    pretty: dict[tuple[str, str, str], str],
) -> list[Event]:
    """customerActivity events for this batch: each customer download and install, and each token
    used since the last flush (once per token per flush)."""
    activity = [
        Event(
            Topic.CUSTOMER_ACTIVITY,
            event.tenant_id,
            {
                "customer_id": event.customer_id,
                "kind": event.kind,
                "package": event.package_name,
                "version": pretty.get((event.tenant_id, event.package_name, event.version), event.version),
                "token_id": event.token_id,
            },
            occurred_at=event.at,
        )
        for event in events
        if event.customer_id is not None
    ]
    if token_use:
        owners = session.execute(
            select(CustomerToken.id, CustomerToken.customer_id, CustomerToken.tenant_id).where(
                CustomerToken.id.in_(list(token_use))
            )
        )
        for token_id, customer_id, tenant_id in owners:
            payload = {"customer_id": customer_id, "kind": "token_used", "token_id": token_id}
            used_at = token_use[token_id][0]
            activity.append(Event(Topic.CUSTOMER_ACTIVITY, tenant_id, payload, occurred_at=used_at))
    return activity


def _publish_all(bus: EventBus, events: list[Event]) -> None:
    for event in events:
        bus.publish(event)


def _pretty_versions(session: Session, events: list[UsageEvent]) -> dict[tuple[str, str, str], str]:
    """(tenant, package, version as reported) -> the pretty version of that release.

    Composer reports installs with normalized versions (`1.0.0.0`, `2.9999999.9999999.9999999-dev`)
    while downloads carry the pretty one (`1.0.0`, `2.x-dev`); storing installs under the pretty
    version makes the per-version figures of both line up.
    """
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        wanted[(event.tenant_id, event.package_name)].add(event.version)
    mapping: dict[tuple[str, str, str], str] = {}
    for (tenant_id, package_name), versions in wanted.items():
        for pretty, normalized in stats_repository.version_names(session, tenant_id, package_name, versions):
            mapping[(tenant_id, package_name, normalized)] = pretty
            mapping[(tenant_id, package_name, pretty)] = pretty
    return mapping
