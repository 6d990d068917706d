"""One incoming delivery from bytes to outcome: secret configured, signature, payload, then the work.

Nothing is written for a refused delivery (no secret, bad signature, malformed payload): the sender
is not authenticated, so it must not be able to fill the database. Refusals are logged and answered
with the reason, which the provider shows in its own delivery log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.editions import Feature, require_feature
from cargoman.errors import Unauthorized, ValidationFailed
from cargoman.runtime import Runtime, ServiceContext
from cargoman.webhooks import service
from cargoman.webhooks.providers import STRIPE, Provider
from cargoman.webhooks.service import DeliveryResult, DuplicateDelivery, Incoming
from cargoman.webhooks.signatures import SignatureError
from cargoman.webhooks.stripe_events import billing_change

log = logging.getLogger("cargoman.webhooks")

# GitHub caps payloads at 25 MB; nothing legitimate is larger.
MAX_BODY_BYTES = 25 * 1024 * 1024
MAX_DELIVERY_ID_LENGTH = 200
MAX_EVENT_LENGTH = 100

Work = Callable[[ServiceContext], DeliveryResult]


def parse_payload(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The JSON object of the body; GitHub's form encoding (``payload=<json>``) is accepted too."""
    raw: bytes | str = body
    if (content_type or "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        if "payload" not in fields:
            raise ValidationFailed("body", "form-encoded deliveries must carry a payload field")
        raw = fields["payload"][0]
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationFailed("body", "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationFailed("body", "must be a JSON object")
    return payload


def _bounded(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise ValidationFailed(field, f"must be at most {limit} characters")
    return value


def _delivery_id(provider: Provider, headers: Mapping[str, str]) -> str | None:
    for header in provider.delivery_headers:
        value = (headers.get(header.lower()) or "").strip()
        if value:
            return _bounded(value, header, MAX_DELIVERY_ID_LENGTH)
    return None


def _git_work(
    provider: Provider, headers: Mapping[str, str], payload: dict[str, Any], body: bytes, runtime: Runtime
) -> tuple[Incoming, Work]:
    assert provider.event_header is not None and provider.interpret is not None
    event = (headers.get(provider.event_header.lower()) or "").strip()
    if not event:
        raise ValidationFailed(provider.event_header, "header is required")
    incoming = Incoming(
        provider.name,
        _bounded(event, provider.event_header, MAX_EVENT_LENGTH),
        _delivery_id(provider, headers),
        payload_digest(provider.name, event, body),
    )
    git_event = provider.interpret(event, payload, runtime.settings)
    if git_event.action == "installation":
        return incoming, lambda ctx: service.handle_installation(ctx, incoming, event, payload)
    return incoming, lambda ctx: service.handle_git_event(ctx, incoming, git_event)


def _stripe_work(payload: dict[str, Any], body: bytes, runtime: Runtime) -> tuple[Incoming, Work]:
    event_id, event_type = payload.get("id"), payload.get("type")
    if not isinstance(event_id, str) or not event_id.strip():
        raise ValidationFailed("id", "the event id is required")
    if not isinstance(event_type, str) or not event_type.strip():
        raise ValidationFailed("type", "the event type is required")
    data = payload.get("data")
    data_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(data_object, dict):
        raise ValidationFailed("data.object", "must be an object")
    incoming = Incoming(
        STRIPE.name,
        _bounded(event_type, "type", MAX_EVENT_LENGTH),
        _bounded(event_id.strip(), "id", MAX_DELIVERY_ID_LENGTH),
        payload_digest(STRIPE.name, event_type, body),
    )
    change = billing_change(event_type, data_object, runtime.settings.stripe_subscription_deleted_action)
    return incoming, lambda ctx: service.handle_billing_event(ctx, incoming, change)


def payload_digest(provider: str, event: str, body: bytes) -> str:
    """SHA-256 over provider, event and the signed body: the same delivery under any delivery id."""
    digest = hashlib.sha256()
    for part in (provider.encode(), event.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two splits hash alike
        digest.update(part)
    return digest.hexdigest()


def verify(
    runtime: Runtime, provider: Provider, headers: Mapping[str, str], body: bytes, now: float, ip: str | None
) -> None:
    """Raise Unauthorized (with the reason) unless the delivery is the provider's own."""
    secret = provider.secret(runtime.settings)
    if secret is None:
        log.warning("refused %s webhook from %s: %s is not set", provider.name, ip, provider.secret_setting)
        raise Unauthorized(
            f"{provider.secret_setting} is not configured: {provider.title} webhooks are refused"
        )
    try:
        provider.verify(secret, headers, body, now=now, tolerance=runtime.settings.stripe_webhook_tolerance)
    except SignatureError as exc:
        log.warning("refused %s webhook from %s: %s", provider.name, ip, exc)
        raise Unauthorized(f"{provider.title} webhook refused: {exc}") from None


def receive(
    runtime: Runtime,
    provider: Provider,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    ip: str | None,
) -> DeliveryResult:
    """Verify, read and act on one delivery; a replay (same delivery id, or same signed body under
    another id) is answered, not acted on."""
    headers = {name.lower(): value for name, value in headers.items()}
    if provider is not STRIPE:
        require_feature(runtime.settings.edition, Feature.GIT_WEBHOOKS)
    verify(runtime, provider, headers, body, now, ip)
    payload = parse_payload(body, headers.get("content-type"))
    if provider is STRIPE:
        incoming, work = _stripe_work(payload, body, runtime)
    else:
        incoming, work = _git_work(provider, headers, payload, body, runtime)
    return execute(runtime, incoming, work, actor=f"webhook:{provider.name}", actor_kind="webhook", ip=ip)


def execute(
    runtime: Runtime,
    incoming: Incoming,
    work: Work,
    *,
    actor: str,
    actor_kind: str,
    ip: str | None,
    tenant_id: str = DEFAULT_TENANT_ID,
) -> DeliveryResult:
    """Run ``work`` in one unit of work; a replay rolls it back and gets the first copy's answer."""
    try:
        with runtime.unit_of_work(actor, tenant_id, actor_kind=actor_kind, ip=ip) as ctx:
            if incoming.provider != STRIPE.name:
                service.check_daily_limit(ctx, excluded_providers=(STRIPE.name,))
            return work(ctx)
    except DuplicateDelivery:
        with runtime.unit_of_work(actor, tenant_id, actor_kind=actor_kind, ip=ip) as ctx:
            return service.duplicate_of(ctx, incoming)
