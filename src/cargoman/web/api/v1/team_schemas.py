"""Request/response bodies and serializers of the team (CMA credentials) and audit log endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from cargoman.db.models import AdminCredential, AuditEntry
from cargoman.web.api.v1.schemas import StrictBody, _as_utc

AdminLevel = Literal["owner", "admin", "viewer"]


class CredentialCreate(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    level: AdminLevel
    expires_at: datetime | None = None

    _utc = field_validator("expires_at")(_as_utc)


class CredentialOut(BaseModel):
    id: str
    name: str
    email: str | None
    level: AdminLevel
    token_hint: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    created_by: str | None
    created_at: datetime


class CredentialCreated(BaseModel):
    credential: CredentialOut
    plain_token: str = Field(description="The `cma_` token; shown only in this response.")


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    actor_kind: str
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    created_at: datetime


def credential(row: AdminCredential) -> CredentialOut:
    return CredentialOut(
        id=row.id,
        name=row.name,
        email=row.email,
        level=row.level,
        token_hint=row.token_hint,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def credential_created(row: AdminCredential, plain: str) -> CredentialCreated:
    return CredentialCreated(credential=credential(row), plain_token=plain)


def audit_entry(row: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        actor=row.actor,
        actor_kind=row.actor_kind,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        before=row.before,
        after=row.after,
        ip=row.ip,
        created_at=row.created_at,
    )
