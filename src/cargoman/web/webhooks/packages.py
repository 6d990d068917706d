"""POST /api/webhooks/packages/{vendor}/{name}: a CI system asks for a sync with a customer token.

The token must be of scope webhook (or admin, which may do everything a customer may), unexpired,
of an active customer; the package must be granted to the customer and inside the token's package
scopes -- anything else is answered as an unknown package, so the route reveals nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from cargoman.access.policy import CustomerAccess
from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.errors import Forbidden, Unauthorized
from cargoman.runtime import Runtime
from cargoman.security import CUSTOMER_TOKEN_PREFIX, token_digest
from cargoman.stats.recorder import UsageRecorder
from cargoman.timeutil import utcnow
from cargoman.tokens.access import load_customer_access
from cargoman.web.api.v1.schemas import Envelope
from cargoman.web.webhooks.schemas import ERRORS, DeliveryOut, delivery
from cargoman.webhooks import intake, service
from cargoman.webhooks.service import DeliveryResult, Incoming

router = APIRouter(tags=["webhooks"], responses=ERRORS)

PROVIDER = "customer-token"
SYNC_SCOPES = frozenset({"webhook", "admin"})
MAX_IDEMPOTENCY_KEY_LENGTH = 100


def _bearer(request: Request) -> str | None:
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if kind.lower() == "bearer" else None


def _authenticate(
    runtime: Runtime, recorder: UsageRecorder, token: str | None, ip: str | None
) -> CustomerAccess:
    if token is None or not token.startswith(CUSTOMER_TOKEN_PREFIX):
        raise Unauthorized("A customer token (tok_...) of scope webhook is required")
    with runtime.session_factory() as session:
        access = load_customer_access(session, token_digest(token))
    # Like the Composer endpoints: a revoked token is answered as an unknown one.
    if access is None or access.token_revoked or access.tenant_id != DEFAULT_TENANT_ID:
        raise Unauthorized("Invalid or missing authentication token")
    now = utcnow()
    if access.token_expires_at is not None and access.token_expires_at <= now:
        raise Forbidden("This token has expired")
    if access.scope not in SYNC_SCOPES:
        raise Forbidden(f"Tokens of scope '{access.scope}' cannot request package syncs")
    status = access.customer_status
    if access.customer_expires_at is not None and access.customer_expires_at <= now:
        status = "expired"
    if status != "active":
        raise Forbidden(f"A {status} customer cannot request package syncs")
    recorder.token_used(access.token_id, ip, now)
    return access


def _sync(
    runtime: Runtime, recorder: UsageRecorder, token: str | None, name: str, key: str | None, ip: str | None
) -> DeliveryResult:
    access = _authenticate(runtime, recorder, token, ip)
    # Keys are the caller's own: prefixed with the token, one customer's key never answers another's.
    delivery_id = f"{access.token_id}:{key.strip()}" if key is not None and key.strip() else None
    incoming = Incoming(PROVIDER, "sync", delivery_id)
    return intake.execute(
        runtime,
        incoming,
        lambda ctx: service.sync_for_customer_token(ctx, access, name, incoming),
        actor=access.token_id,
        actor_kind="customer",
        ip=ip,
        tenant_id=access.tenant_id,
    )


@router.post(
    "/packages/{vendor}/{name}",
    status_code=202,
    response_model=Envelope[DeliveryOut],
    summary="Request a package sync with a customer token",
    description="Bearer customer token of scope webhook or admin. With Idempotency-Key, a repeated "
    "request is answered with the first one's outcome and queues nothing.",
)
async def sync_package(
    vendor: str,
    name: str,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=MAX_IDEMPOTENCY_KEY_LENGTH)
    ] = None,
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    ip = request.client.host if request.client else None
    recorder: UsageRecorder = request.app.state.recorder
    token = _bearer(request)
    result = await run_in_threadpool(_sync, runtime, recorder, token, f"{vendor}/{name}", idempotency_key, ip)
    return delivery(result)
