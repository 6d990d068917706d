"""CMA credential queries, always filtered by tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cargoman.db.models import AdminCredential, Tenant


def get(session: Session, tenant_id: str, credential_id: str) -> AdminCredential | None:
    return session.scalar(
        select(AdminCredential).where(
            AdminCredential.tenant_id == tenant_id, AdminCredential.id == credential_id
        )
    )


def list_query(tenant_id: str) -> Select[Any]:
    """Credentials not revoked; expired ones stay listed (flagged by expires_at) until revoked."""
    return (
        select(AdminCredential)
        .where(AdminCredential.tenant_id == tenant_id, AdminCredential.revoked_at.is_(None))
        .order_by(AdminCredential.created_at, AdminCredential.id)
    )


def count_active(session: Session, tenant_id: str, now: datetime) -> int:
    """Credentials that can still authenticate (not revoked, not expired): the seats in use."""
    query = select(func.count()).where(
        AdminCredential.tenant_id == tenant_id,
        AdminCredential.revoked_at.is_(None),
        or_(AdminCredential.expires_at.is_(None), AdminCredential.expires_at > now),
    )
    return session.scalar(query) or 0


def lock_tenant(session: Session, tenant_id: str) -> None:
    """Serialise credential creation per tenant so concurrent requests cannot exceed the seat limit.

    FOR NO KEY UPDATE (as in cargoman.stamps) so it never deadlocks with inserts referencing the tenant.
    """
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True))
