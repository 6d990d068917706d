"""Queues the periodic tasks: a sync of every package each TASK_SYNC_INTERVAL seconds and a cleanup
each TASK_CLEANUP_INTERVAL seconds (an interval of 0 or less turns that schedule off).

Every server process starts a scheduler, but only the one holding an exclusive, non-blocking
`flock` on a file in the runtime directory queues anything: one schedule per host however many
processes serve. The lock goes with its process, so when the holder dies another process takes over
at its next tick. Several hosts sharing a database would each schedule; the queue dedupes pending
syncs and cleanups, so that costs at most a repeated run.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable
from typing import IO

from cargoman.runtime import Runtime, ServiceContext
from cargoman.tasks import repository
from cargoman.tasks import service as tasks

log = logging.getLogger("cargoman.scheduler")

LOCK_FILE = "scheduler.lock"


class TaskScheduler:
    def __init__(self, runtime: Runtime, tick_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self.tick_seconds = tick_seconds
        self._lock_file: IO[str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sync: float | None = None
        self._next_cleanup: float | None = None
        self._attempted = False

    @property
    def is_leader(self) -> bool:
        return self._lock_file is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="task-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the schedule
                log.exception("task scheduler tick failed")
            self._stop.wait(self.tick_seconds)

    def tick(self) -> None:
        if not self.is_leader and not self._acquire():
            return
        now = time.monotonic()
        if self._next_sync is not None and now >= self._next_sync:
            self._queue_for_every_tenant(tasks.queue_sync_all)
            self._next_sync = self._after(now, self.runtime.settings.task_sync_interval)
        if self._next_cleanup is not None and now >= self._next_cleanup:
            self._queue_for_every_tenant(tasks.queue_cleanup)
            self._next_cleanup = self._after(now, self.runtime.settings.task_cleanup_interval)

    def _acquire(self) -> bool:
        settings = self.runtime.settings
        settings.runtime_path.mkdir(parents=True, exist_ok=True)
        lock_file = open(settings.runtime_path / LOCK_FILE, "a")  # noqa: SIM115 (held while leading)
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            self._attempted = True
            return False
        self._lock_file = lock_file
        # "On startup" means the first process to start schedules at once; a process that takes
        # over later from a dead leader waits a full interval like any other run.
        at_startup = not self._attempted
        self._attempted = True
        now = time.monotonic()
        self._next_sync = (
            now
            if at_startup and settings.task_sync_on_startup
            else self._after(now, settings.task_sync_interval)
        )
        self._next_cleanup = (
            now
            if at_startup and settings.task_cleanup_on_startup
            else self._after(now, settings.task_cleanup_interval)
        )
        log.info("this process schedules periodic tasks")
        return True

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor drops the flock
            self._lock_file = None

    @staticmethod
    def _after(now: float, interval: int) -> float | None:
        return now + interval if interval > 0 else None

    def _queue_for_every_tenant(self, queue: Callable[[ServiceContext], object]) -> None:
        with self.runtime.unit_of_work("scheduler") as ctx:
            tenant_ids = repository.active_tenant_ids(ctx.session)
        for tenant_id in tenant_ids:
            with self.runtime.unit_of_work("scheduler", tenant_id) as ctx:
                queue(ctx)
