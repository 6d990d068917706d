"""Change stamps: strictly increasing whole seconds per tenant.

Composer revalidates metadata with `If-Modified-Since`, which has one-second resolution. Giving every
Composer-visible change a stamp at least one second after the previous one guarantees that a change
always produces a newer `Last-Modified` than anything served before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from cargoman.db.models import Tenant
from cargoman.runtime import ServiceContext
from cargoman.timeutil import utcnow


def next_change_stamp(ctx: ServiceContext) -> datetime:
    # FOR NO KEY UPDATE: inserts referencing the tenant take FOR KEY SHARE on it, which this allows
    # (a plain FOR UPDATE would deadlock a transaction that inserted rows before taking a stamp).
    tenant = ctx.session.scalar(
        select(Tenant).where(Tenant.id == ctx.tenant_id).with_for_update(key_share=True)
    )
    now = utcnow()
    if tenant is None:
        return now
    previous = tenant.last_change_at
    stamp = now
    if previous is not None:
        stamp = max(now, previous.replace(microsecond=0) + timedelta(seconds=1))
    tenant.last_change_at = stamp
    return stamp
