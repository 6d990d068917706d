"""The periodic cleanup task: forget what is past its retention; keep what statistics are made of.

Removed: audit log entries older than AUDIT_LOG_RETENTION_DAYS, finished (completed or failed)
tasks older than FINISHED_TASK_RETENTION, webhook deliveries (outgoing GraphQL and incoming Git
provider/Stripe) older than WEBHOOK_DELIVERY_RETENTION_DAYS, and archive objects no version points
at (left by a process killed between storing an archive and committing its version). Download
and install events are kept: they are the statistics.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cargoman.audit.service import purge_older_than
from cargoman.graphql_webhooks import repository as webhooks_repository
from cargoman.packages import repository as packages_repository
from cargoman.runtime import Runtime
from cargoman.tasks import repository
from cargoman.timeutil import utcnow
from cargoman.webhooks import repository as incoming_repository

FINISHED_TASK_RETENTION = timedelta(days=30)
# A sync stores its archives before it commits the versions that point at them; an unreferenced
# archive younger than this may belong to a sync still running.
ORPHAN_ARCHIVE_GRACE = timedelta(hours=1)


def run_cleanup(runtime: Runtime, tenant_id: str) -> dict[str, Any]:
    now = utcnow()
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        audit_deleted = purge_older_than(ctx)  # AUDIT_LOG_RETENTION_DAYS
        tasks_deleted = repository.delete_finished_before(
            ctx.session, tenant_id, now - FINISHED_TASK_RETENTION
        )
        deliveries_before = now - timedelta(days=runtime.settings.webhook_delivery_retention_days)
        webhook_deliveries_deleted = webhooks_repository.delete_deliveries_before(
            ctx.session, tenant_id, deliveries_before
        )
        incoming_deliveries_deleted = incoming_repository.delete_deliveries_before(
            ctx.session, tenant_id, deliveries_before
        )
        referenced = packages_repository.archive_keys(ctx.session, tenant_id)
        orphans = [
            stored.key
            for stored in runtime.storage.list_objects(f"dist/{tenant_id}/")
            if stored.key not in referenced and stored.modified_at < now - ORPHAN_ARCHIVE_GRACE
        ]
        summary = {
            "audit_entries_deleted": audit_deleted,
            "tasks_deleted": tasks_deleted,
            "webhook_deliveries_deleted": webhook_deliveries_deleted,
            "incoming_webhook_deliveries_deleted": incoming_deliveries_deleted,
            "orphan_archives_deleted": len(orphans),
        }
        ctx.audit("cleanup.run", "task", None, None, summary)
    for key in orphans:
        runtime.storage.delete(key)
    return summary
