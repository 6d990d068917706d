"""Resolve a presented CMA token to its credential (digest lookup, expiry and revocation checked)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cargoman.db.models import AdminCredential
from cargoman.runtime import Runtime
from cargoman.security import token_digest
from cargoman.timeutil import utcnow

CMA_TOKEN_PREFIX = "cma_"


@dataclass(frozen=True)
class ActiveCredential:
    id: str
    level: str
    tenant_id: str


def lookup_admin_credential(runtime: Runtime, token: str, ip: str | None) -> ActiveCredential | None:
    with runtime.session_factory() as session:
        row = session.scalar(
            select(AdminCredential).where(AdminCredential.token_digest == token_digest(token))
        )
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        return ActiveCredential(id=row.id, level=row.level, tenant_id=row.tenant_id)
