"""Who is calling the management API. Root admin token now; CMA tokens plug in here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from cargoman.errors import Forbidden, Unauthorized
from cargoman.runtime import Runtime
from cargoman.security import CUSTOMER_TOKEN_PREFIX, token_digest
from cargoman.tokens import repository as tokens_repository


@dataclass(frozen=True)
class AdminPrincipal:
    kind: str  # root | cma
    level: str  # owner | admin | viewer
    id: str

    @property
    def actor(self) -> str:
        return self.id


ROOT = AdminPrincipal(kind="root", level="owner", id="root")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_admin(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> AdminPrincipal:
    token = _bearer(request)
    if token is None:
        raise Unauthorized("Invalid or missing authentication token")
    if runtime.admin_tokens.verify(token):
        return ROOT
    if token.startswith(CUSTOMER_TOKEN_PREFIX):
        with runtime.session_factory() as session:
            customer_token = tokens_repository.get_by_digest(session, token_digest(token))
            if customer_token is not None and customer_token.revoked_at is None:
                raise Forbidden("Customer tokens cannot use the management API")
    raise Unauthorized("Invalid or missing authentication token")


Admin = Annotated[AdminPrincipal, Depends(require_admin)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
