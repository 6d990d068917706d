"""Who is calling the management API. Root admin token now; CMA tokens plug in here."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from cargoman.access.permissions import Permission, level_allows
from cargoman.admins.lookup import CMA_TOKEN_PREFIX, lookup_admin_credential
from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.errors import Forbidden, Unauthorized
from cargoman.runtime import Runtime, ServiceContext
from cargoman.security import CUSTOMER_TOKEN_PREFIX, token_digest
from cargoman.tokens import repository as tokens_repository
from cargoman.web.api.permissions import ROUTE_PERMISSIONS


@dataclass(frozen=True)
class AdminPrincipal:
    kind: str  # root | cma
    level: str  # owner | admin | viewer
    id: str
    ip: str | None = None
    # The tenant the principal acts in (a webhook's stored query runs in the webhook's tenant).
    tenant_id: str = DEFAULT_TENANT_ID

    @property
    def actor(self) -> str:
        return self.id

    def unit_of_work(self, runtime: Runtime) -> AbstractContextManager[ServiceContext]:
        """A unit of work in the principal's tenant whose audit entries name it and its address."""
        return runtime.unit_of_work(self.id, self.tenant_id, actor_kind=self.kind, ip=self.ip)


log = logging.getLogger("cargoman.auth")

API_PREFIX = "/api/v1"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _route_permission(request: Request) -> Permission:
    # The matched route's template is relative to the /api/v1 router that includes it.
    route = request.scope.get("route")
    path = API_PREFIX + getattr(route, "path_format", "")
    permission = ROUTE_PERMISSIONS.get((request.method, path))
    if permission is None:
        # Unreachable when the route-table test passes; refuse rather than guess.
        raise Forbidden(f"No permission is declared for {request.method} {path}")
    return permission


def require_admin(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> AdminPrincipal:
    """Authenticate the bearer token and check the route's permission against its level."""
    principal = _authenticate(request, runtime)
    permission = _route_permission(request)
    if not level_allows(principal.level, permission):
        log.warning(
            "refused %s %s for %s %s (level %s lacks %s) from %s",
            request.method,
            request.url.path,
            principal.kind,
            principal.id,
            principal.level,
            permission,
            principal.ip,
        )
        raise Forbidden(f"Your credential ({principal.level}) may not {permission.value.replace('_', ' ')}")
    return principal


def _authenticate(request: Request, runtime: Runtime) -> AdminPrincipal:
    token = _bearer(request)
    if token is None:
        raise Unauthorized("Invalid or missing authentication token")
    ip = _client_ip(request)
    if runtime.admin_tokens.verify(token):
        return AdminPrincipal(kind="root", level="owner", id="root", ip=ip)
    if token.startswith(CMA_TOKEN_PREFIX):
        credential = lookup_admin_credential(runtime, token, ip)
        if credential is not None:
            return AdminPrincipal(kind="cma", level=credential.level, id=credential.id, ip=ip)
        raise Unauthorized("Invalid or missing authentication token")
    if token.startswith(CUSTOMER_TOKEN_PREFIX):
        with runtime.session_factory() as session:
            customer_token = tokens_repository.get_by_digest(session, token_digest(token))
            if customer_token is not None and customer_token.revoked_at is None:
                raise Forbidden("Customer tokens cannot use the management API")
    raise Unauthorized("Invalid or missing authentication token")


Admin = Annotated[AdminPrincipal, Depends(require_admin)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
