"""Reading the audit log (a Pro+ feature) and trimming it to the retention period.

Entries are written by every write service through `ServiceContext.audit`, in every edition; only
reading them through the API is gated.
"""

from __future__ import annotations

from datetime import timedelta

from cargoman.audit import repository
from cargoman.audit.repository import AuditFilter
from cargoman.db.models import AuditEntry
from cargoman.editions import Feature, require_feature
from cargoman.errors import ValidationFailed
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.timeutil import isoformat, utcnow


def list_entries(ctx: ServiceContext, where: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
    require_feature(ctx.settings.edition, Feature.AUDIT_LOGS)
    if where.since is not None and where.until is not None and where.since >= where.until:
        raise ValidationFailed("until", "must be later than since")
    return paginate(ctx.session, repository.list_query(ctx.tenant_id, where), page)


def purge_older_than(ctx: ServiceContext, days: int | None = None) -> int:
    """Delete this tenant's entries older than ``days`` (default AUDIT_LOG_RETENTION_DAYS).

    Returns how many were deleted. The purge itself is recorded, so trimming the log leaves a trace.
    """
    retention = ctx.settings.audit_log_retention_days if days is None else days
    if retention < 1:
        raise ValidationFailed("days", "the audit log retention must be at least 1 day")
    cutoff = utcnow() - timedelta(days=retention)
    deleted = repository.delete_older_than(ctx.session, ctx.tenant_id, cutoff)
    if deleted:
        ctx.audit(
            "audit.purge",
            "audit_log",
            None,
            None,
            {"retention_days": retention, "cutoff": isoformat(cutoff), "deleted": deleted},
        )
    return deleted
