"""Customer tokens: scoped, optionally limited to package patterns, shown in plain text once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cargoman import validation
from cargoman.access.policy import TOKEN_SCOPES
from cargoman.audit.snapshot import snapshot
from cargoman.db.models import CustomerToken
from cargoman.errors import NotFound, ValidationFailed
from cargoman.runtime import ServiceContext
from cargoman.security import new_customer_token, new_id, token_digest, token_hint
from cargoman.timeutil import utcnow
from cargoman.tokens import repository

MAX_TOKENS_PER_CUSTOMER = 50
RESOURCE_TYPE = "customer_token"
# What an audit entry may show of a token: the hint, never the digest.
AUDITED_FIELDS = ("customer_id", "name", "scope", "package_scopes", "expires_at", "token_hint")


@dataclass(frozen=True)
class IssuedToken:
    token: CustomerToken
    plain: str


def _customer_exists(ctx: ServiceContext, customer_id: str) -> None:
    from cargoman.customers import repository as customers_repository

    if customers_repository.get(ctx.session, ctx.tenant_id, customer_id) is None:
        raise NotFound(f"Customer {customer_id} not found")


def create_token(
    ctx: ServiceContext,
    customer_id: str,
    name: str = "Default token",
    scope: str = "admin",
    package_scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    issued = _issue_token(ctx, customer_id, name, scope, package_scopes, expires_at)
    ctx.audit("token.create", RESOURCE_TYPE, issued.token.id, None, snapshot(issued.token, AUDITED_FIELDS))
    return issued


def _issue_token(
    ctx: ServiceContext,
    customer_id: str,
    name: str,
    scope: str,
    package_scopes: list[str] | None,
    expires_at: datetime | None,
) -> IssuedToken:
    _customer_exists(ctx, customer_id)
    if scope not in TOKEN_SCOPES:
        raise ValidationFailed("scope", f"must be one of {', '.join(TOKEN_SCOPES)}")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed("expires_at", "must be in the future")
    patterns = [
        validation.package_scope(p, f"package_scopes[{i}]") for i, p in enumerate(package_scopes or [])
    ]
    active = repository.list_for_customer(ctx.session, ctx.tenant_id, customer_id)
    if len(active) >= MAX_TOKENS_PER_CUSTOMER:
        raise ValidationFailed("customer", f"a customer can hold at most {MAX_TOKENS_PER_CUSTOMER} tokens")
    plain = new_customer_token()
    token = CustomerToken(
        id=new_id("tok"),
        tenant_id=ctx.tenant_id,
        customer_id=customer_id,
        name=validation.non_empty(name, "name"),
        scope=scope,
        package_scopes=list(dict.fromkeys(patterns)),
        token_digest=token_digest(plain),
        token_hint=token_hint(plain),
        expires_at=expires_at,
    )
    ctx.session.add(token)
    ctx.session.flush()
    return IssuedToken(token=token, plain=plain)


def list_tokens(ctx: ServiceContext, customer_id: str) -> list[CustomerToken]:
    _customer_exists(ctx, customer_id)
    return repository.list_for_customer(ctx.session, ctx.tenant_id, customer_id)


def get_token(ctx: ServiceContext, token_id: str, customer_id: str | None = None) -> CustomerToken:
    token = repository.get(ctx.session, ctx.tenant_id, token_id)
    if (
        token is None
        or token.revoked_at is not None
        or (customer_id is not None and token.customer_id != customer_id)
    ):
        raise NotFound(f"Token {token_id} not found")
    return token


def revoke_token(ctx: ServiceContext, token_id: str, customer_id: str | None = None) -> CustomerToken:
    token = get_token(ctx, token_id, customer_id)
    token.revoked_at = utcnow()
    ctx.changed()
    ctx.audit(
        "token.revoke",
        RESOURCE_TYPE,
        token.id,
        snapshot(token, AUDITED_FIELDS),
        snapshot(token, ("revoked_at",)),
    )
    return token


def rotate_token(ctx: ServiceContext, token_id: str, customer_id: str | None = None) -> IssuedToken:
    """A new secret for the same token settings; the old secret stops working at once."""
    token = get_token(ctx, token_id, customer_id)
    before = {"token_hint": token.token_hint}
    plain = new_customer_token()
    token.token_digest = token_digest(plain)
    token.token_hint = token_hint(plain)
    ctx.changed()
    ctx.audit("token.rotate", RESOURCE_TYPE, token.id, before, {"token_hint": token.token_hint})
    return IssuedToken(token=token, plain=plain)


def revoke_all(ctx: ServiceContext, customer_id: str) -> int:
    revoked = _revoke_all(ctx, customer_id)
    ctx.audit("token.revoke_all", "customer", customer_id, {"token_ids": revoked}, {"revoked": len(revoked)})
    return len(revoked)


def _revoke_all(ctx: ServiceContext, customer_id: str) -> list[str]:
    tokens = list_tokens(ctx, customer_id)
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    ctx.changed()
    return [token.id for token in tokens]


def regenerate_legacy_token(ctx: ServiceContext, customer_id: str) -> IssuedToken:
    """Legacy single-token model: replace every token with one admin-scope token (one audit entry)."""
    revoked = _revoke_all(ctx, customer_id)
    issued = _issue_token(ctx, customer_id, "Default token", "admin", None, None)
    ctx.audit(
        "token.regenerate",
        "customer",
        customer_id,
        {"token_ids": revoked},
        {"token_id": issued.token.id, **snapshot(issued.token, AUDITED_FIELDS)},
    )
    return issued
