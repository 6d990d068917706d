"""OAuth connections to GitLab and Bitbucket: start an authorization, its callback, status, disconnect.

No response ever contains a token. The callback is the one route here without a bearer token: the
provider sends the administrator's browser to it, and the single-use `state` authenticates it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from cargoman.config import Settings
from cargoman.errors import CargomanError
from cargoman.oauth import service as oauth
from cargoman.oauth.providers import ProviderName, provider_for
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.errors import error_response
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.common import ERRORS, envelope
from cargoman.web.api.v1.schemas import ErrorEnvelope

log = logging.getLogger("cargoman.oauth")

router = APIRouter(
    prefix="/oauth",
    tags=["oauth"],
    responses={**ERRORS, 502: {"model": ErrorEnvelope, "description": "OAUTH_PROVIDER_ERROR"}},
)

Env = schemas.Envelope
Provider = ProviderName
_QUERY_LIMIT = 2048


class AuthorizationOut(BaseModel):
    authorization_url: str
    state: str
    expires_at: datetime


class ConnectionOut(BaseModel):
    provider: Provider
    configured: bool
    connected: bool
    status: oauth.ConnectionStatus
    id: str | None
    base_url: str | None
    account_login: str | None
    connected_at: datetime | None
    connected_by: str | None
    expires_at: datetime | None
    scopes: list[str]


class DisconnectedOut(BaseModel):
    provider: Provider
    disconnected: bool
    revoked_at_provider: bool


def _connection(settings: Settings, view: oauth.ConnectionView) -> ConnectionOut:
    configured = provider_for(settings, view.provider).configured
    return ConnectionOut.model_validate(asdict(view) | {"configured": configured, "status": view.status})


@router.post(
    "/{provider}/initiate", response_model=Env[AuthorizationOut], summary="Start an OAuth authorization"
)
def initiate(provider: Provider, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        started = oauth.initiate(ctx, provider)
    return envelope(
        AuthorizationOut(
            authorization_url=started.authorization_url, state=started.state, expires_at=started.expires_at
        )
    )


@router.get(
    "/{provider}/callback",
    response_model=Env[ConnectionOut],
    summary="OAuth callback (the provider redirects the browser here; authenticated by `state`)",
    responses={303: {"description": "Back to WEB_URL, when set, with the outcome in the query"}},
)
def callback(
    provider: Provider,
    request: Request,
    runtime: RuntimeDep,
    code: Annotated[str | None, Query(max_length=_QUERY_LIMIT)] = None,
    state: Annotated[str | None, Query(max_length=_QUERY_LIMIT)] = None,
    error: Annotated[str | None, Query(max_length=_QUERY_LIMIT)] = None,
) -> JSONResponse | RedirectResponse:
    ip = request.client.host if request.client else None
    web_url = runtime.settings.web_url.rstrip("/")
    try:
        view = oauth.complete(runtime, provider, state, code, error, ip=ip)
    except CargomanError as exc:
        log.warning("OAuth callback for %s refused: %s", provider, exc.message)
        if web_url:
            outcome = {"oauth_provider": provider, "oauth_status": "error", "oauth_error": exc.message}
            return RedirectResponse(f"{web_url}/?{urlencode(outcome)}", status_code=303)
        extra = {"field": exc.field} if hasattr(exc, "field") else {}
        return error_response(exc.status, exc.code, exc.message, **extra)
    log.info("OAuth connection to %s established for account %s", provider, view.account_login)
    if web_url:
        outcome = {"oauth_provider": provider, "oauth_status": "connected"}
        return RedirectResponse(f"{web_url}/?{urlencode(outcome)}", status_code=303)
    body = envelope(_connection(runtime.settings, view).model_dump(mode="json"))
    return JSONResponse(body)


@router.get("/{provider}/status", response_model=Env[ConnectionOut], summary="OAuth connection status")
def status(provider: Provider, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(_connection(runtime.settings, oauth.status(ctx, provider)))


@router.post(
    "/{provider}/disconnect",
    response_model=Env[DisconnectedOut],
    summary="Disconnect (and revoke) an account",
)
def disconnect(provider: Provider, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        disconnected = oauth.disconnect(ctx, provider)
    # After the commit: the connection is gone even when the provider cannot be reached.
    revoked = oauth.revoke_at_provider(runtime.settings, disconnected)
    return envelope(DisconnectedOut(provider=provider, disconnected=True, revoked_at_provider=revoked))


@router.get("/connections", response_model=Env[list[ConnectionOut]], summary="List OAuth connections")
def connections(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope([_connection(runtime.settings, view) for view in oauth.list_connections(ctx)])
