"""Security advisory queries, always filtered by tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoman.db.models import SecurityAdvisory
from cargoman.security import new_id


def list_advisories(
    session: Session, tenant_id: str, package_name: str | None = None
) -> list[SecurityAdvisory]:
    """Advisories by package name, newest report first (undated ones last), then by advisory id."""
    query = select(SecurityAdvisory).where(SecurityAdvisory.tenant_id == tenant_id)
    if package_name is not None:
        query = query.where(SecurityAdvisory.package_name == package_name)
    query = query.order_by(
        SecurityAdvisory.package_name,
        SecurityAdvisory.reported_at.desc().nulls_last(),
        SecurityAdvisory.advisory_id,
    )
    return list(session.scalars(query))


def add(session: Session, tenant_id: str, advisory: SecurityAdvisory) -> SecurityAdvisory:
    """Store a new advisory of this tenant (an id is assigned when it has none)."""
    advisory.tenant_id = tenant_id
    if not advisory.id:
        advisory.id = new_id("adv")
    session.add(advisory)
    session.flush()
    return advisory
