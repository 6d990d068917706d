"""The periodic task scheduler: one leader per host (flock), startup runs, intervals, takeover."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.functional.conftest import Api, Backend
from tests.support.gitrepo import GitRepo

from cargoman.db.models import DEFAULT_TENANT_ID, AuditEntry, Task
from cargoman.runtime import Runtime
from cargoman.tasks.scheduler import TaskScheduler

DEADLINE = 20.0


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached in {DEADLINE}s"
        time.sleep(0.02)


def _count(runtime: Runtime, query: Any) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0


@pytest.fixture
def host(backend: Backend, tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    """Runtimes of "another host's server processes": the app's database, their own runtime directory."""
    runtimes: list[Runtime] = []

    def factory(**overrides: Any) -> Runtime:
        settings = backend.settings.model_copy(update={"data_dir": tmp_path / "host", **overrides})
        runtime = Runtime(settings)
        runtimes.append(runtime)
        return runtime

    yield factory
    for runtime in runtimes:
        runtime.dispose()


def test_one_scheduler_per_host_runs_startup_tasks_once_and_hands_over(
    api: Api, host: Callable[..., Runtime], make_library_repo: Callable[..., GitRepo]
) -> None:
    api.add_package(make_library_repo("acme/library", tags=("1.0.0",)).url)
    settings = {"task_sync_on_startup": True, "task_cleanup_on_startup": True}
    first = TaskScheduler(host(**settings), tick_seconds=0.02)
    second = TaskScheduler(host(**settings), tick_seconds=0.02)
    runtime = first.runtime
    first.start()
    _wait(lambda: first.is_leader, "first scheduler leading")
    second.start()
    try:
        cleanups = select(Task).where(Task.kind == "cleanup", Task.tenant_id == DEFAULT_TENANT_ID)
        syncs = select(Task).where(Task.kind == "sync_package")
        _wait(lambda: _count(runtime, cleanups) == 1, "a cleanup queued at startup")
        _wait(lambda: _count(runtime, syncs) == 2, "a sync-all queued at startup")  # add_package's + this
        second.tick()
        assert not second.is_leader
        # Other tests may have left tenants behind; each active tenant gets its own runs.
        scheduled = select(AuditEntry).where(
            AuditEntry.actor == "scheduler", AuditEntry.tenant_id == DEFAULT_TENANT_ID
        )
        assert _count(runtime, scheduled.where(AuditEntry.action == "task.sync_all")) == 1

        # The leader goes away: the other process takes over, without repeating the startup runs.
        first.stop()
        _wait(lambda: second.is_leader, "second scheduler taking over")
        second.tick()
        assert _count(runtime, cleanups) == 1
        assert _count(runtime, scheduled.where(AuditEntry.action == "task.sync_all")) == 1
    finally:
        first.stop()
        second.stop()


def test_intervals_queue_again_and_zero_turns_a_schedule_off(api: Api, host: Callable[..., Runtime]) -> None:
    scheduler = TaskScheduler(host(task_cleanup_interval=1, task_sync_interval=0), tick_seconds=0.02)
    runtime = scheduler.runtime
    started = time.monotonic()
    scheduler.start()
    try:
        cleanups = select(Task).where(Task.kind == "cleanup", Task.tenant_id == DEFAULT_TENANT_ID)
        _wait(lambda: _count(runtime, cleanups) >= 1, "a cleanup after one interval")
        assert time.monotonic() - started >= 1.0  # not at startup: TASK_CLEANUP_ON_STARTUP is off
        _wait(lambda: _count(runtime, cleanups.where(Task.status == "completed")) >= 2, "a second cleanup")
        assert _count(runtime, select(AuditEntry).where(AuditEntry.action == "task.sync_all")) == 0
    finally:
        scheduler.stop()
