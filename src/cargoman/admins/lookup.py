"""Resolve a presented CMA token to its credential (digest lookup, expiry and revocation checked)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cargoman.db.models import AdminCredential
from cargoman.runtime import Runtime
from cargoman.security import token_digest
from cargoman.timeutil import utcnow

log = logging.getLogger("cargoman.auth")

CMA_TOKEN_PREFIX = "cma_"
# last_used_at is written at most this often per credential and process (unless the address changes),
# so an API client polling in a loop does not turn every read into a database write.
USAGE_WRITE_INTERVAL = 60.0


@dataclass(frozen=True)
class ActiveCredential:
    id: str
    level: str
    tenant_id: str
    expires_at: datetime | None = None


class _UsageThrottle:
    """Remembers, per credential, when and from where its use was last written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[str, tuple[float, str | None]] = {}

    def should_write(self, credential_id: str, ip: str | None) -> bool:
        now = time.monotonic()
        with self._lock:
            previous = self._written.get(credential_id)
            if previous is not None and previous[1] == ip and now - previous[0] < USAGE_WRITE_INTERVAL:
                return False
            self._written[credential_id] = (now, ip)
            return True

    def forget(self, credential_id: str) -> None:
        with self._lock:
            self._written.pop(credential_id, None)


_usage = _UsageThrottle()


def _record_use(session: Session, credential_id: str, ip: str | None) -> None:
    if not _usage.should_write(credential_id, ip):
        return
    try:
        session.execute(
            update(AdminCredential)
            .where(AdminCredential.id == credential_id)
            .values(last_used_at=utcnow(), last_used_ip=ip)
        )
        session.commit()
    except OperationalError:
        # A busy database must not refuse a valid credential; the next use records it again.
        session.rollback()
        _usage.forget(credential_id)
        log.warning("could not record the use of credential %s", credential_id, exc_info=True)


def lookup_admin_credential(runtime: Runtime, token: str, ip: str | None) -> ActiveCredential | None:
    with runtime.session_factory() as session:
        row = session.scalar(
            select(AdminCredential).where(AdminCredential.token_digest == token_digest(token))
        )
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        credential = ActiveCredential(
            id=row.id, level=row.level, tenant_id=row.tenant_id, expires_at=row.expires_at
        )
        _record_use(session, credential.id, ip)
        return credential
