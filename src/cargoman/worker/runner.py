"""DB-backed task workers: threads inside the server by default, or `cargoman worker` to scale out.

A claimed task is marked `running` with a heartbeat. If its process dies, the heartbeat goes stale
and any worker puts the task back in the queue. Failures retry with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cargoman.db.models import Task
from cargoman.events import Topic
from cargoman.graphql_webhooks.dispatcher import DELIVERY_TASK as GRAPHQL_WEBHOOK_DELIVERY
from cargoman.packages import repository as packages_repository
from cargoman.runtime import Runtime, ServiceContext
from cargoman.tasks import repository
from cargoman.tasks.service import CLEANUP, SYNC_PACKAGE
from cargoman.timeutil import isoformat, utcnow

log = logging.getLogger("cargoman.worker")

HEARTBEAT_SECONDS = 5.0
IDLE_POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 3600

Handler = Callable[[Runtime, Task], dict[str, Any] | None]


def _sync_package(runtime: Runtime, task: Task) -> dict[str, Any]:
    from cargoman.packages.sync import sync_package

    return sync_package(runtime, task.tenant_id, task.payload["package_id"]).as_dict()


def _cleanup(runtime: Runtime, task: Task) -> dict[str, Any]:
    from cargoman.tasks.cleanup import run_cleanup

    return run_cleanup(runtime, task.tenant_id)


def _deliver_graphql_webhook(runtime: Runtime, task: Task) -> dict[str, Any]:
    from cargoman.graphql_webhooks.delivery import run_delivery

    return run_delivery(runtime, task)


HANDLERS: dict[str, Handler] = {
    SYNC_PACKAGE: _sync_package,
    CLEANUP: _cleanup,
    GRAPHQL_WEBHOOK_DELIVERY: _deliver_graphql_webhook,
}


@dataclass(frozen=True)
class SyncAttempt:
    """How one sync task attempt ended, as committed."""

    task_id: str
    tenant_id: str
    package_id: str
    status: str  # completed | failed | pending (retried later)
    attempt: int
    ended_at: datetime
    result: dict[str, Any]
    error: str | None


def publish_sync_outcome(runtime: Runtime, attempt: SyncAttempt) -> None:
    """Publish how a sync attempt ended, for the synced package and each monorepo child.

    Runs after the task row is committed, in a unit of work of its own: whatever goes wrong here
    must not undo the task's outcome.
    """
    try:
        with runtime.unit_of_work("worker", attempt.tenant_id) as ctx:
            for payload in _sync_payloads(ctx, attempt):
                ctx.publish(Topic.PACKAGE_SYNCED, payload)
    except Exception:
        log.exception("could not publish the outcome of task %s", attempt.task_id)


def _sync_payloads(ctx: ServiceContext, attempt: SyncAttempt) -> list[dict[str, Any]]:
    package = packages_repository.get(ctx.session, ctx.tenant_id, attempt.package_id)
    if package is not None and package.parent_id is not None:  # a child's sync runs its root's
        package = packages_repository.get(ctx.session, ctx.tenant_id, package.parent_id)
    if package is None:
        return []  # deleted meanwhile: nobody can subscribe to it by name any more
    reports: dict[str, dict[str, Any]] = {package.name: attempt.result}
    if attempt.error is None:
        reports.update(attempt.result.get("children") or {})
    else:
        children = packages_repository.children_of(ctx.session, ctx.tenant_id, package.id)
        reports.update((child.name, {}) for child in children)
    outcome = {
        "status": "succeeded" if attempt.error is None else "failed",
        "error": attempt.error,
        "will_retry": attempt.status == "pending",
        "attempt": attempt.attempt,
        "task_id": attempt.task_id,
        "synced_at": isoformat(attempt.ended_at),
    }
    return [
        {
            "package": name,
            **outcome,
            "versions_added": list(report.get("added", [])),
            "versions_updated": list(report.get("updated", [])),
            "versions_removed": list(report.get("removed", [])),
            "versions_unchanged": int(report.get("unchanged", 0)),
            "warnings": int(report.get("warnings", 0)),
        }
        for name, report in reports.items()
    ]


def backoff_seconds(attempts: int) -> float:
    return float(min(MAX_BACKOFF_SECONDS, 2 ** max(0, attempts - 1) * 5))


class Worker:
    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.id = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()
        self.stale_after = timedelta(seconds=runtime.settings.task_stale_after)
        # Beat several times per stale period, so a live task is never taken for a dead one.
        self.heartbeat_seconds = min(HEARTBEAT_SECONDS, runtime.settings.task_stale_after / 3)

    def stop(self) -> None:
        self._stop.set()
        self.runtime.task_wakeup.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # a broken database must not kill the worker thread
                log.exception("task worker loop failed")
                worked = False
            if not worked:
                self.runtime.task_wakeup.wait(IDLE_POLL_SECONDS)
                self.runtime.task_wakeup.clear()

    def run_once(self) -> bool:
        """Claim and run one due task; False when there was nothing to do."""
        task = self._claim()
        if task is None:
            return False
        self._execute(task)
        return True

    def _claim(self) -> Task | None:
        now = utcnow()
        with self.runtime.unit_of_work(self.id) as ctx:
            repository.release_stale(ctx.session, now - self.stale_after)
        for task_id in self._due_ids():
            with self.runtime.unit_of_work(self.id) as ctx:
                if repository.try_claim(ctx.session, task_id, self.id, utcnow()):
                    task = ctx.session.get(Task, task_id)
                    if task is not None:
                        ctx.session.expunge(task)
                        return task
        return None

    def _due_ids(self) -> list[str]:
        with self.runtime.unit_of_work(self.id) as ctx:
            return repository.next_due_ids(ctx.session, utcnow())

    def _execute(self, task: Task) -> None:
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(task.id, done), daemon=True)
        beat.start()
        try:
            handler = HANDLERS.get(task.kind)
            if handler is None:
                raise ValueError(f"unknown task kind {task.kind}")
            result = handler(self.runtime, task)
        except Exception as exc:
            done.set()
            log.warning("task %s (%s) failed: %s", task.id, task.kind, exc)
            self._finish(task, error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc(limit=5))
        else:
            done.set()
            self._finish(task, result=result or {})
        beat.join()

    def _heartbeat(self, task_id: str, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_seconds):
            with self.runtime.unit_of_work(self.id) as ctx:
                repository.heartbeat(ctx.session, task_id, self.id, utcnow())

    def _finish(
        self,
        task: Task,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        trace: str | None = None,
    ) -> None:
        attempt: SyncAttempt | None = None
        with self.runtime.unit_of_work(self.id) as ctx:
            row = ctx.session.get(Task, task.id)
            if row is None or row.locked_by != self.id:
                return  # another worker took it over after our heartbeat went stale
            row.locked_by = None
            row.heartbeat_at = None
            if error is None:
                row.status = "completed"
                row.result = result
                row.error = None
                row.finished_at = utcnow()
            elif row.attempts >= row.max_attempts:
                row.status = "failed"
                row.error = error
                row.finished_at = utcnow()
            else:
                row.status = "pending"
                row.error = error
                row.run_after = utcnow() + timedelta(seconds=backoff_seconds(row.attempts))
            log.debug("task %s finished: %s", task.id, trace or "ok")
            if row.kind == SYNC_PACKAGE:
                attempt = SyncAttempt(
                    task_id=row.id,
                    tenant_id=row.tenant_id,
                    package_id=str(row.payload.get("package_id")),
                    status=row.status,
                    attempt=row.attempts,
                    ended_at=row.finished_at or utcnow(),
                    result=(result or {}) if error is None else {},
                    error=error,
                )
        if attempt is not None:
            publish_sync_outcome(self.runtime, attempt)


class WorkerPool:
    """In-process worker threads started with the server."""

    def __init__(self, runtime: Runtime, size: int) -> None:
        self.workers = [
            Worker(runtime, name=f"{socket.gethostname()}:{os.getpid()}:w{i}") for i in range(size)
        ]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run_forever, name=worker.id, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.stop()
        for thread in self.threads:
            thread.join(timeout)
