"""Customer JWTs: short-lived HS256 download credentials for one customer.

Signed with JWT_SECRET and valid for JWT_EXPIRY seconds. Nothing is stored: the signature proves the
token is ours, the claims name the customer, and `exp` ends it (checked on every Composer request).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from cargoman.customers.service import get_customer
from cargoman.errors import ValidationFailed
from cargoman.runtime import ServiceContext
from cargoman.timeutil import utcnow

ALGORITHM = "HS256"
TOKEN_TYPE = "customer"
REQUIRED_CLAIMS = ("sub", "tenant", "iat", "exp", "jti", "typ")


@dataclass(frozen=True)
class IssuedJwt:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class CustomerClaims:
    customer_id: str
    tenant_id: str
    jti: str
    expires_at: datetime


def looks_like_jwt(secret: str) -> bool:
    """JWTs are three dot-separated parts; customer and admin tokens have no dots."""
    return secret.count(".") == 2


def issue_customer_jwt(ctx: ServiceContext, customer_id: str) -> IssuedJwt:
    secret = ctx.settings.jwt_secret
    if not secret:
        raise ValidationFailed("jwt_secret", "customer JWTs need JWT_SECRET to be configured on the server")
    if ctx.settings.jwt_expiry <= 0:
        raise ValidationFailed("jwt_expiry", "JWT_EXPIRY must be a positive number of seconds")
    customer = get_customer(ctx, customer_id)
    issued_at = int(utcnow().timestamp())
    expires = issued_at + ctx.settings.jwt_expiry
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "sub": customer.id,
        "tenant": ctx.tenant_id,
        "iat": issued_at,
        "exp": expires,
        "jti": jti,
        "typ": TOKEN_TYPE,
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    expires_at = datetime.fromtimestamp(expires, UTC)
    record = {"jti": jti, "expires_at": expires_at.isoformat()}
    ctx.audit("customer.jwt_issue", "customer", customer.id, None, record)
    return IssuedJwt(token=token, jti=jti, expires_at=expires_at)


def verify_customer_jwt(secret: str, token: str) -> CustomerClaims | None:
    """The claims of a valid, unexpired customer JWT signed with `secret`; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": list(REQUIRED_CLAIMS)})
    except jwt.InvalidTokenError:
        return None
    subject, tenant, jti, expires = claims["sub"], claims["tenant"], claims["jti"], claims["exp"]
    if claims["typ"] != TOKEN_TYPE or not all(isinstance(v, str) and v for v in (subject, tenant, jti)):
        return None
    return CustomerClaims(
        customer_id=subject, tenant_id=tenant, jti=jti, expires_at=datetime.fromtimestamp(expires, UTC)
    )
