"""The periodic cleanup task: forget what is past its retention; keep what statistics are made of.

Removed: audit log entries older than AUDIT_LOG_RETENTION_DAYS and finished (completed or failed)
tasks older than FINISHED_TASK_RETENTION. Download and install events are kept: they are the
statistics.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cargoman.audit.service import purge_older_than
from cargoman.runtime import Runtime
from cargoman.tasks import repository
from cargoman.timeutil import utcnow

FINISHED_TASK_RETENTION = timedelta(days=30)


def run_cleanup(runtime: Runtime, tenant_id: str) -> dict[str, Any]:
    now = utcnow()
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        audit_deleted = purge_older_than(ctx)  # AUDIT_LOG_RETENTION_DAYS
        tasks_deleted = repository.delete_finished_before(
            ctx.session, tenant_id, now - FINISHED_TASK_RETENTION
        )
        summary = {"audit_entries_deleted": audit_deleted, "tasks_deleted": tasks_deleted}
        ctx.audit("cleanup.run", "task", None, None, summary)
    return summary
