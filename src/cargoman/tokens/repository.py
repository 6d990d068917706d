"""Customer token queries, always filtered by tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoman.db.models import CustomerToken


def get(session: Session, tenant_id: str, token_id: str) -> CustomerToken | None:
    return session.scalar(
        select(CustomerToken).where(CustomerToken.tenant_id == tenant_id, CustomerToken.id == token_id)
    )


def get_by_digest(session: Session, digest: str) -> CustomerToken | None:
    """Token digests are globally unique; the caller checks the tenant it resolved to."""
    return session.scalar(select(CustomerToken).where(CustomerToken.token_digest == digest))


def list_for_customer(
    session: Session, tenant_id: str, customer_id: str, include_revoked: bool = False
) -> list[CustomerToken]:
    query = select(CustomerToken).where(
        CustomerToken.tenant_id == tenant_id, CustomerToken.customer_id == customer_id
    )
    if not include_revoked:
        query = query.where(CustomerToken.revoked_at.is_(None))
    return list(session.scalars(query.order_by(CustomerToken.created_at, CustomerToken.id)))
