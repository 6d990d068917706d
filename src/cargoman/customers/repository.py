"""Customer queries, always filtered by tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cargoman.db.models import Customer


def get(session: Session, tenant_id: str, customer_id: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == customer_id))


def get_by_external_id(session: Session, tenant_id: str, external_id: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.external_id == external_id)
    )


def list_query(tenant_id: str, status: str | None) -> Select[Any]:
    query = select(Customer).where(Customer.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Customer.status == status)
    return query.order_by(Customer.created_at, Customer.id)
