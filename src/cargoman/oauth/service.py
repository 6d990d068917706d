"""Connecting, inspecting and disconnecting GitLab and Bitbucket accounts.

The authorization code flow: `initiate` stores a pending authorization (the `state`, as a digest only,
bound to who started it, plus the PKCE verifier, encrypted) and hands out the provider's consent URL;
the provider sends the browser back to our callback with a code and the state, `complete` consumes the
state (single use), trades the code for tokens and stores them encrypted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from cargoman.config import Settings
from cargoman.db.models import OAuthConnection, OAuthState
from cargoman.errors import NotFound, ValidationFailed
from cargoman.oauth import repository
from cargoman.oauth.errors import OAuthProviderError
from cargoman.oauth.pkce import new_code_verifier, s256_challenge
from cargoman.oauth.providers import OAuthProvider, ProviderAccount, TokenGrant, provider_for
from cargoman.oauth.sealing import ACCESS_TOKEN, CODE_VERIFIER, REFRESH_TOKEN, seal, unseal
from cargoman.runtime import Runtime, ServiceContext
from cargoman.security import new_id, token_digest
from cargoman.timeutil import utcnow

STATE_LIFETIME = timedelta(minutes=10)
ConnectionStatus = Literal["connected", "reauthorization_required", "not_connected"]
_REFUSED_STATE = "unknown, expired or already used authorization state; start again with initiate"


@dataclass(frozen=True)
class Authorization:
    authorization_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class ConnectionView:
    """What may be shown about a connection: never a token."""

    provider: str
    connected: bool
    id: str | None = None
    base_url: str | None = None
    account_login: str | None = None
    connected_at: datetime | None = None
    connected_by: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    needs_reauthorization: bool = False

    @property
    def status(self) -> ConnectionStatus:
        if not self.connected:
            return "not_connected"
        return "reauthorization_required" if self.needs_reauthorization else "connected"


@dataclass(frozen=True)
class Disconnected:
    view: ConnectionView
    access_token: str

    def __repr__(self) -> str:
        return f"Disconnected(view={self.view!r})"


@dataclass(frozen=True)
class _PendingAuthorization:
    tenant_id: str
    actor_kind: str
    actor: str
    redirect_uri: str
    code_verifier: str | None = None

    def __repr__(self) -> str:
        return f"_PendingAuthorization(tenant_id={self.tenant_id!r}, actor={self.actor!r})"


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.base_url}/api/v1/oauth/{provider}/callback"


def needs_reauthorization(row: OAuthConnection) -> bool:
    """Expired and nothing to renew it with (a refused refresh drops the refresh token)."""
    expired = row.token_expires_at is not None and row.token_expires_at <= utcnow()
    return expired and row.refresh_token_encrypted is None


def view(row: OAuthConnection) -> ConnectionView:
    return ConnectionView(
        provider=row.provider,
        connected=True,
        id=row.id,
        base_url=row.base_url,
        account_login=row.account_login,
        connected_at=row.created_at,
        connected_by=row.connected_by,
        expires_at=row.token_expires_at,
        scopes=tuple((row.scopes or "").split()),
        needs_reauthorization=needs_reauthorization(row),
    )


def _audit_fields(row: OAuthConnection) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "base_url": row.base_url,
        "account_login": row.account_login,
        "scopes": row.scopes,
    }


# -- starting an authorization --------------------------------------------------------------------


def initiate(ctx: ServiceContext, provider_name: str) -> Authorization:
    provider = provider_for(ctx.settings, provider_name)
    provider.require_configured()
    now = utcnow()
    repository.delete_expired_states(ctx.session, now)
    state = secrets.token_urlsafe(32)
    verifier = new_code_verifier() if provider.uses_pkce else None
    redirect_uri = callback_url(ctx.settings, provider.name)
    expires_at = now + STATE_LIFETIME
    repository.add_state(
        ctx.session,
        OAuthState(
            state_digest=token_digest(state),
            tenant_id=ctx.tenant_id,
            provider=provider.name,
            # Who started it: the callback carries no credential, so its audit entries name this actor.
            actor=f"{ctx.actor_kind}:{ctx.actor}",
            code_verifier_encrypted=seal(ctx.settings, verifier, CODE_VERIFIER) if verifier else None,
            redirect_uri=redirect_uri,
            expires_at=expires_at,
        ),
    )
    challenge = s256_challenge(verifier) if verifier else None
    url = provider.authorization_url(state, redirect_uri, challenge)
    return Authorization(authorization_url=url, state=state, expires_at=expires_at)


# -- the callback ---------------------------------------------------------------------------------


def complete(
    runtime: Runtime,
    provider_name: str,
    state: str | None,
    code: str | None,
    error: str | None = None,
    ip: str | None = None,
) -> ConnectionView:
    """Finish an authorization the provider sent back. Raises before storing anything when the state
    is wrong, expired, already used or belongs to the other provider."""
    provider = provider_for(runtime.settings, provider_name)
    if not state:
        raise ValidationFailed("state", "is required")
    if not code and not error:
        raise ValidationFailed("code", "is required")
    pending = _consume_state(runtime, provider.name, state)
    if error:
        # The administrator declined, or the provider refused the request (e.g. an unknown scope).
        raise ValidationFailed("error", f"{provider.title} did not grant access ({error[:100]})")
    assert code is not None
    provider.require_configured()
    grant = provider.exchange_code(code, pending.redirect_uri, pending.code_verifier)
    account = provider.fetch_account(grant.access_token)
    with runtime.unit_of_work(pending.actor, pending.tenant_id, actor_kind=pending.actor_kind, ip=ip) as ctx:
        return view(_store_connection(ctx, provider, grant, account))


def _consume_state(runtime: Runtime, provider_name: str, state: str) -> _PendingAuthorization:
    settings = runtime.settings
    with runtime.session_factory() as session, session.begin():
        row = repository.take_state(session, token_digest(state), provider_name)
        pending = None
        if row is not None and row.expires_at > utcnow():
            actor_kind, _, actor = row.actor.partition(":")
            verifier = (
                unseal(settings, row.code_verifier_encrypted, CODE_VERIFIER)
                if row.code_verifier_encrypted
                else None
            )
            pending = _PendingAuthorization(row.tenant_id, actor_kind, actor, row.redirect_uri, verifier)
    if pending is None:
        raise ValidationFailed("state", _REFUSED_STATE)
    return pending


def _store_connection(
    ctx: ServiceContext, provider: OAuthProvider, grant: TokenGrant, account: ProviderAccount
) -> OAuthConnection:
    """Replace any earlier connection to this provider: a new authorization is a new connection."""
    previous = repository.get_connection(ctx.session, ctx.tenant_id, provider.name)
    before = _audit_fields(previous) if previous is not None else None
    if previous is not None:
        ctx.session.delete(previous)
        ctx.session.flush()
    row = OAuthConnection(
        id=new_id("oauth"),
        tenant_id=ctx.tenant_id,
        provider=provider.name,
        base_url=provider.base_url,
        account_id=account.id,
        account_login=account.login,
        access_token_encrypted=seal(ctx.settings, grant.access_token, ACCESS_TOKEN),
        refresh_token_encrypted=seal(ctx.settings, grant.refresh_token, REFRESH_TOKEN)
        if grant.refresh_token
        else None,
        token_expires_at=grant.expires_at,
        scopes=" ".join(grant.scopes) or None,
        connected_by=ctx.actor,
        created_at=utcnow(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("oauth.connect", "oauth_connection", row.id, before=before, after=_audit_fields(row))
    return row


# -- reading --------------------------------------------------------------------------------------


def status(ctx: ServiceContext, provider_name: str) -> ConnectionView:
    provider = provider_for(ctx.settings, provider_name)
    row = repository.get_connection(ctx.session, ctx.tenant_id, provider.name)
    return view(row) if row is not None else ConnectionView(provider=provider.name, connected=False)


def list_connections(ctx: ServiceContext) -> list[ConnectionView]:
    return [view(row) for row in repository.list_connections(ctx.session, ctx.tenant_id)]


# -- disconnecting --------------------------------------------------------------------------------


def disconnect(ctx: ServiceContext, provider_name: str) -> Disconnected:
    """Delete the connection. Revoke the returned token with `revoke_at_provider` once committed."""
    provider = provider_for(ctx.settings, provider_name)
    row = repository.get_connection(ctx.session, ctx.tenant_id, provider.name)
    if row is None:
        raise NotFound(f"No {provider.title} connection")
    access_token = unseal(ctx.settings, row.access_token_encrypted, ACCESS_TOKEN)
    result = Disconnected(view=view(row), access_token=access_token)
    ctx.audit("oauth.disconnect", "oauth_connection", row.id, before=_audit_fields(row))
    ctx.session.delete(row)
    return result


def revoke_at_provider(settings: Settings, disconnected: Disconnected) -> bool:
    """Best effort: the connection is already gone here; False when the provider could not revoke."""
    name, base_url = disconnected.view.provider, disconnected.view.base_url
    provider = provider_for(settings, name, base_url)
    if not provider.configured:
        return False
    try:
        return provider.revoke(disconnected.access_token)
    except OAuthProviderError:
        return False
