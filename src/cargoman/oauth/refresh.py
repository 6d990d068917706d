"""A usable access token for a connection, renewed with its refresh token when (nearly) expired.

Renewal happens under a lock on the connection, so two syncs that both find the token expired do not
both spend the refresh token (GitLab rotates it: the second attempt would be refused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from cargoman.config import Settings
from cargoman.db.models import AuditEntry, OAuthConnection
from cargoman.oauth import repository
from cargoman.oauth.errors import OAuthGrantRejected, ReauthorizationRequired
from cargoman.oauth.providers import OAuthProvider, provider_for
from cargoman.oauth.sealing import ACCESS_TOKEN, REFRESH_TOKEN, seal, unseal
from cargoman.oauth.service import callback_url
from cargoman.timeutil import utcnow

# Renew this long before the stated expiry: a fetch started just before it must not fail halfway.
REFRESH_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class OAuthLogin:
    """HTTPS Git credentials derived from a connection."""

    provider: str
    username: str
    password: str = field(repr=False)


def git_login(
    session_factory: Callable[[], Session], settings: Settings, tenant_id: str, provider_name: str
) -> OAuthLogin | None:
    """The Git login of the tenant's connection to ``provider_name``, or None without a connection.

    Raises ReauthorizationRequired when the tokens cannot be renewed, OAuthProviderError when the
    provider cannot be reached to renew them.
    """
    with session_factory() as session:
        row = repository.get_connection(session, tenant_id, provider_name)
        if row is None:
            return None
        if not _expiring(row):
            return _login(settings, row)
    return _renew(session_factory, settings, tenant_id, provider_name)


def _renew(
    session_factory: Callable[[], Session], settings: Settings, tenant_id: str, provider_name: str
) -> OAuthLogin | None:
    with session_factory() as session:
        row = repository.lock_connection(session, tenant_id, provider_name)
        if row is None:
            return None  # disconnected meanwhile
        if not _expiring(row):
            return _login(settings, row)  # renewed by whoever held the lock before us
        provider = provider_for(settings, row.provider, row.base_url)
        if row.refresh_token_encrypted is None:
            raise _reauthorization_required(
                provider, "the access token expired and no refresh token was issued"
            )
        refresh_token = unseal(settings, row.refresh_token_encrypted, REFRESH_TOKEN)
        try:
            grant = provider.refresh(refresh_token, callback_url(settings, provider.name))
        except OAuthGrantRejected:
            _mark_reauthorization_required(session, row)
            session.commit()
            raise _reauthorization_required(
                provider, f"{provider.title} rejected the refresh token"
            ) from None
        row.access_token_encrypted = seal(settings, grant.access_token, ACCESS_TOKEN)
        if grant.refresh_token is not None:
            row.refresh_token_encrypted = seal(settings, grant.refresh_token, REFRESH_TOKEN)
        row.token_expires_at = grant.expires_at
        if grant.scopes:
            row.scopes = " ".join(grant.scopes)
        session.commit()
        return OAuthLogin(provider=provider.name, username=provider.git_username, password=grant.access_token)


def _expiring(row: OAuthConnection) -> bool:
    return row.token_expires_at is not None and row.token_expires_at - REFRESH_MARGIN <= utcnow()


def _login(settings: Settings, row: OAuthConnection) -> OAuthLogin:
    provider = provider_for(settings, row.provider, row.base_url)
    token = unseal(settings, row.access_token_encrypted, ACCESS_TOKEN)
    return OAuthLogin(provider=provider.name, username=provider.git_username, password=token)


def _mark_reauthorization_required(session: Session, row: OAuthConnection) -> None:
    """Drop the refused refresh token and let the access token count as expired (see
    service.needs_reauthorization), so status shows the connection must be authorized again."""
    now = utcnow()
    row.refresh_token_encrypted = None
    if row.token_expires_at is None or row.token_expires_at > now:
        row.token_expires_at = now
    session.add(
        AuditEntry(
            tenant_id=row.tenant_id,
            actor="system",
            actor_kind="system",
            action="oauth.reauthorization_required",
            resource_type="oauth_connection",
            resource_id=row.id,
            before=None,
            after={"provider": row.provider, "account_login": row.account_login},
        )
    )


def _reauthorization_required(provider: OAuthProvider, reason: str) -> ReauthorizationRequired:
    return ReauthorizationRequired(
        f"The {provider.title} OAuth connection needs to be authorized again ({reason}); "
        f"connect it again with POST /api/v1/oauth/{provider.name}/initiate"
    )
