"""CMA credentials ("Team"): per-person management tokens with a level, shown in plain text once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cargoman import validation
from cargoman.access.permissions import ADMIN_LEVELS
from cargoman.admins import repository
from cargoman.admins.lookup import CMA_TOKEN_PREFIX
from cargoman.audit.snapshot import snapshot
from cargoman.db.models import AdminCredential
from cargoman.editions import edition_info
from cargoman.errors import Forbidden, NotFound, ValidationFailed
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id, random_alphanumeric, token_digest, token_hint
from cargoman.timeutil import utcnow

CMA_SECRET_LENGTH = 32
RESOURCE_TYPE = "admin_credential"
# What an audit entry may show of a credential: never the digest.
AUDITED_FIELDS = ("name", "email", "level", "expires_at", "token_hint")


class TeamSeatLimitReached(Forbidden):
    """The edition's team seats are all taken; answered like any other edition limit."""

    code = "FEATURE_NOT_AVAILABLE"


@dataclass(frozen=True)
class IssuedCredential:
    credential: AdminCredential
    plain: str


def new_cma_token() -> str:
    return CMA_TOKEN_PREFIX + random_alphanumeric(CMA_SECRET_LENGTH)


def get_credential(ctx: ServiceContext, credential_id: str) -> AdminCredential:
    credential = repository.get(ctx.session, ctx.tenant_id, credential_id)
    if credential is None or credential.revoked_at is not None:
        raise NotFound(f"Credential {credential_id} not found")
    return credential


def list_credentials(ctx: ServiceContext, page: PageRequest) -> Page[AdminCredential]:
    return paginate(ctx.session, repository.list_query(ctx.tenant_id), page)


def _check_seats(ctx: ServiceContext, in_use: int) -> None:
    seats = edition_info(ctx.settings.edition).limits.team_seats
    if seats is not None and in_use >= seats:
        title = edition_info(ctx.settings.edition).title
        raise TeamSeatLimitReached(
            f"{title} edition allows {seats} team seats and all {in_use} are in use; "
            "revoke a credential or upgrade the edition"
        )


def create_credential(
    ctx: ServiceContext,
    name: str,
    level: str,
    email: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedCredential:
    checked_name = validation.non_empty(name, "name")
    checked_email = validation.email(email)
    if level not in ADMIN_LEVELS:
        raise ValidationFailed("level", f"must be one of {', '.join(ADMIN_LEVELS)}")
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expires_at", "must be in the future")
    repository.lock_tenant(ctx.session, ctx.tenant_id)
    in_use = repository.count_active(ctx.session, ctx.tenant_id, now)
    # Bootstrap: with no usable credential, the first one must be able to manage the team.
    if in_use == 0 and level != "owner":
        raise ValidationFailed("level", "the first team credential must be an owner")
    _check_seats(ctx, in_use)
    plain = new_cma_token()
    credential = AdminCredential(
        id=new_id("cma"),
        tenant_id=ctx.tenant_id,
        name=checked_name,
        email=checked_email,
        level=level,
        token_digest=token_digest(plain),
        token_hint=token_hint(plain),
        expires_at=expires_at,
        created_by=ctx.actor,
    )
    ctx.session.add(credential)
    ctx.session.flush()
    ctx.audit("credential.create", RESOURCE_TYPE, credential.id, None, _audited(credential))
    return IssuedCredential(credential=credential, plain=plain)


def rotate_credential(ctx: ServiceContext, credential_id: str) -> IssuedCredential:
    """A new secret with the same settings; the old secret stops working at once."""
    credential = get_credential(ctx, credential_id)
    before = {"token_hint": credential.token_hint}
    plain = new_cma_token()
    credential.token_digest = token_digest(plain)
    credential.token_hint = token_hint(plain)
    ctx.changed()  # the Composer endpoints cache credentials; the old secret must stop at once
    ctx.audit(
        "credential.rotate", RESOURCE_TYPE, credential.id, before, {"token_hint": credential.token_hint}
    )
    return IssuedCredential(credential=credential, plain=plain)


def revoke_credential(ctx: ServiceContext, credential_id: str) -> AdminCredential:
    credential = get_credential(ctx, credential_id)
    before = _audited(credential)
    credential.revoked_at = utcnow()
    ctx.changed()
    ctx.audit(
        "credential.revoke", RESOURCE_TYPE, credential.id, before, snapshot(credential, ("revoked_at",))
    )
    return credential


def _audited(credential: AdminCredential) -> dict[str, Any]:
    return snapshot(credential, AUDITED_FIELDS)
