"""REST tasks: list and filter, queue by kind, sync-all, cleanup, retries with backoff, audit."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from tests.functional.conftest import Api, Backend, err, ok
from tests.support.gitrepo import GitRepo

from cargoman.db.models import AuditEntry, DownloadEvent, Task, WebhookDelivery
from cargoman.security import new_id
from cargoman.tasks import service as tasks

DEADLINE = 30.0


def _poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"condition not reached in {timeout}s: {value}"
        time.sleep(0.05)


def _task(api: Api, task_id: str) -> dict[str, Any]:
    data: dict[str, Any] = ok(api.get(f"/tasks/{task_id}"))
    return data


def _finished(api: Api, task_id: str) -> dict[str, Any]:
    result: dict[str, Any] = _poll(
        lambda: _task(api, task_id), lambda t: t["status"] in ("completed", "failed")
    )
    return result


def _task_count(backend: Backend) -> int:
    with backend.runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Task)) or 0


def _audit(backend: Backend, action: str) -> list[AuditEntry]:
    with backend.runtime.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_list_filter_and_paginate(api: Api, make_library_repo: Callable[..., GitRepo]) -> None:
    added = api.add_package(make_library_repo("acme/library", tags=("1.0.0",)).url)
    cleanup = ok(api.post("/tasks", json={"kind": "cleanup"}), 202)
    assert cleanup["kind"] == "cleanup" and cleanup["status"] in ("pending", "running", "completed")
    assert _finished(api, cleanup["id"])["status"] == "completed"

    everything = api.get("/tasks")
    assert everything.json()["pagination"] == {"page": 1, "per_page": 20, "total": 2, "total_pages": 1}
    # Newest first.
    assert [t["id"] for t in ok(everything)] == [cleanup["id"], added["sync_task"]["id"]]
    assert [t["id"] for t in ok(api.get("/tasks", params={"kind": "cleanup"}))] == [cleanup["id"]]
    assert [
        t["kind"] for t in ok(api.get("/tasks", params={"status": "completed", "kind": "sync_package"}))
    ] == ["sync_package"]
    first = api.get("/tasks", params={"per_page": 1, "page": 2})
    assert [t["id"] for t in ok(first)] == [added["sync_task"]["id"]]
    assert first.json()["pagination"]["total_pages"] == 2
    assert ok(api.get("/tasks/failed")) == []
    err(api.get("/tasks", params={"status": "finished"}), 400, "VALIDATION_ERROR", field="status")
    err(api.get("/tasks", params={"kind": "reboot"}), 400, "VALIDATION_ERROR", field="kind")
    err(api.get("/tasks/task_missing"), 404, "NOT_FOUND")


def test_pending_and_running_lists(api: Api, backend: Backend) -> None:
    """Rows put in place directly: a task due tomorrow stays pending, a fresh heartbeat stays running."""
    now = datetime.now(UTC)
    later = Task(
        id=new_id("task"), kind="cleanup", payload={}, status="pending", run_after=now + timedelta(days=1)
    )
    busy = Task(
        id=new_id("task"), kind="cleanup", payload={}, status="running", heartbeat_at=now + timedelta(hours=1)
    )
    with backend.runtime.session_factory.begin() as session:
        session.add_all([later, busy])
    try:
        assert [t["id"] for t in ok(api.get("/tasks/pending"))] == [later.id]
        assert [t["id"] for t in ok(api.get("/tasks/running"))] == [busy.id]
        assert api.get("/tasks/running").json()["pagination"]["total"] == 1
    finally:
        with backend.runtime.session_factory.begin() as session:
            session.execute(delete(Task).where(Task.id.in_([later.id, busy.id])))


def test_queue_by_kind_validates_and_writes_nothing_on_error(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    api.add_package(make_library_repo("acme/library", tags=("1.0.0",)).url)
    before = _task_count(backend)
    err(api.post("/tasks", json={"kind": "reboot"}), 400, "VALIDATION_ERROR", field="kind")
    err(api.post("/tasks", json={}), 400, "VALIDATION_ERROR", field="kind")
    err(api.post("/tasks", json={"kind": "sync_package"}), 400, "VALIDATION_ERROR", field="package")
    err(
        api.post("/tasks", json={"kind": "sync_package", "package": "no"}),
        400,
        "VALIDATION_ERROR",
        field="package",
    )
    err(
        api.post("/tasks", json={"kind": "cleanup", "package": "acme/library"}),
        400,
        "VALIDATION_ERROR",
        field="package",
    )
    err(api.post("/tasks", json={"kind": "cleanup", "extra": 1}), 400, "VALIDATION_ERROR", field="extra")
    err(api.post("/tasks", json={"kind": "sync_package", "package": "acme/missing"}), 404, "NOT_FOUND")
    assert _task_count(backend) == before
    assert _audit(backend, "task.create") == []

    queued = ok(api.post("/tasks", json={"kind": "sync_package", "package": "Acme/Library"}), 202)
    assert queued["kind"] == "sync_package" and queued["payload"]["package"] == "acme/library"
    assert _finished(api, queued["id"])["status"] == "completed"
    (entry,) = _audit(backend, "task.create")
    assert (entry.actor, entry.actor_kind, entry.resource_id) == ("root", "root", queued["id"])
    assert entry.after == {"kind": "sync_package", "payload": queued["payload"]}
    assert entry.ip


def test_sync_all_queues_one_sync_per_package(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    assert ok(api.post("/tasks/sync-all"), 202) == []
    api.add_package(make_library_repo("acme/one", tags=("1.0.0",)).url)
    api.add_package(make_library_repo("acme/two", tags=("1.0.0",)).url)
    queued = ok(api.post("/tasks/sync-all"), 202)
    assert sorted(t["payload"]["package"] for t in queued) == ["acme/one", "acme/two"]
    assert all(t["kind"] == "sync_package" for t in queued)
    for task in queued:
        assert _finished(api, task["id"])["status"] == "completed"
    entries = _audit(backend, "task.sync_all")
    assert [entry.after for entry in entries if entry.after and entry.after["tasks"]] == [
        {"tasks": [t["id"] for t in queued]}
    ]


def test_cleanup_drops_old_audit_entries_and_finished_tasks_keeps_statistics(
    api: Api, backend: Backend
) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=backend.settings.audit_log_retention_days + 5), now - timedelta(days=1)
    old_done = Task(
        id=new_id("task"), kind="cleanup", status="completed", finished_at=now - timedelta(days=40)
    )
    old_failed = Task(
        id=new_id("task"), kind="cleanup", status="failed", finished_at=now - timedelta(days=31)
    )
    recent_done = Task(
        id=new_id("task"), kind="cleanup", status="completed", finished_at=now - timedelta(days=2)
    )
    # Queued long ago but not run yet (due tomorrow): not finished, so kept.
    waiting = Task(
        id=new_id("task"),
        kind="sync_package",
        payload={"package_id": "pkg_none"},
        status="pending",
        created_at=now - timedelta(days=60),
        run_after=now + timedelta(days=1),
    )
    with backend.runtime.session_factory.begin() as session:
        session.add_all([old_done, old_failed, recent_done, waiting])
        for when, action in ((old, "test.old"), (recent, "test.recent")):
            session.add(
                AuditEntry(
                    actor="root", actor_kind="root", action=action, resource_type="test", created_at=when
                )
            )
        session.add(
            DownloadEvent(
                kind="download", package_name="acme/x", version="1.0.0", created_at=now - timedelta(days=400)
            )
        )
        for age, delivery_id in ((timedelta(days=91), "old"), (timedelta(days=89), "recent")):
            session.add(
                WebhookDelivery(
                    provider="github",
                    event="push",
                    delivery_id=delivery_id,
                    verified=True,
                    outcome="ignored",
                    created_at=now - age,
                )
            )

    queued = ok(api.post("/tasks/cleanup"), 202)
    # A second request while the first still waits would only repeat it.
    assert queued["kind"] == "cleanup"
    done = _finished(api, queued["id"])
    assert done["status"] == "completed", done
    assert done["result"] == {
        "audit_entries_deleted": 1,
        "tasks_deleted": 2,
        "webhook_deliveries_deleted": 0,
        "incoming_webhook_deliveries_deleted": 1,
        "orphan_archives_deleted": 0,
    }

    with backend.runtime.session_factory() as session:
        ids = set(session.scalars(select(Task.id)))
        actions = set(session.scalars(select(AuditEntry.action)))
        events = session.scalar(select(func.count()).select_from(DownloadEvent))
    assert old_done.id not in ids and old_failed.id not in ids
    assert {recent_done.id, waiting.id, queued["id"]} <= ids
    assert "test.old" not in actions and "test.recent" in actions
    assert {"task.create", "cleanup.run"} <= actions  # the request and the run are both on record
    assert events == 1


def test_cleanup_requests_share_one_due_cleanup(backend: Backend, api: Api) -> None:
    """Within one unit of work the worker cannot claim the first task before the second request."""
    with backend.runtime.unit_of_work("test") as ctx:
        first = tasks.queue_cleanup(ctx)
        assert tasks.queue_cleanup(ctx).id == first.id
        assert tasks.create_task(ctx, "cleanup").id == first.id
    assert _finished(api, first.id)["status"] == "completed"
    assert _task_count(backend) == 1


def test_failed_sync_retries_with_backoff_then_fails_keeping_the_error(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "task_max_attempts", 2)
    repo = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(repo.url)
    shutil.rmtree(repo.path)  # the repository is gone: every fetch fails

    queued = ok(api.post("/tasks", json={"kind": "sync_package", "package": "acme/library"}), 202)
    assert queued["max_attempts"] == 2
    first = _poll(lambda: _task(api, queued["id"]), lambda t: t["attempts"] == 1 and t["status"] == "pending")
    assert first["error"], first
    failed_at = datetime.now(UTC)
    retry_at = datetime.fromisoformat(first["run_after"].replace("Z", "+00:00"))
    # First backoff is 5 s after the failure.
    assert failed_at + timedelta(seconds=2) < retry_at <= failed_at + timedelta(seconds=6), (failed_at, first)

    final = _poll(lambda: _task(api, queued["id"]), lambda t: t["status"] == "failed")
    assert final["attempts"] == 2
    assert final["error"] and final["finished_at"]
    assert datetime.fromisoformat(final["started_at"].replace("Z", "+00:00")) >= retry_at
    assert [t["id"] for t in ok(api.get("/tasks/failed"))] == [queued["id"]]
    package = ok(api.get("/packages/acme/library"))
    assert package["sync_status"] == "error" and package["sync_error"]
    # The versions of the last good sync stay served.
    assert [v["version"] for v in package["versions"]] == ["1.0.0", "dev-main"]
