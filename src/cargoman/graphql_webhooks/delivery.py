"""The delivery task: run the stored query as its creator, POST the signed result, record the attempt.

Each attempt is a task and leaves one delivery record. A failed attempt (no 2xx answer, a network
error, a refused target) queues the next attempt after WEBHOOK_RETRY_BASE_SECONDS * 2^(attempt-1)
seconds (at most an hour), until WEBHOOK_MAX_ATTEMPTS attempts were made. A creator credential that
was revoked, expired or deleted disables the webhook: nothing is sent, then or later.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graphql import parse
from sqlalchemy.orm import Session
from strawberry.types.graphql import OperationType

from cargoman.admins import repository as admins_repository
from cargoman.db.models import GraphQLWebhook, GraphQLWebhookDelivery, Task
from cargoman.editions import Feature, has_feature
from cargoman.events import Topic
from cargoman.graphql_webhooks import repository, signing
from cargoman.graphql_webhooks.dispatcher import enqueue_delivery
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.graphql_webhooks.service import CMA_CREATOR, ROOT_CREATOR, webhook_secret
from cargoman.graphql_webhooks.targets import TargetRefused, check_target
from cargoman.graphql_webhooks.transport import USER_AGENT, Response, post, truncate
from cargoman.graphql_webhooks.variables import event_name, select_declared
from cargoman.runtime import Runtime, ServiceContext
from cargoman.secretbox import SecretBoxError
from cargoman.security import new_id
from cargoman.timeutil import isoformat, utcnow
from cargoman.web.api.auth import AdminPrincipal
from cargoman.web.graphql.router import GraphQLEndpoint, GraphQLRequest

MAX_BACKOFF_SECONDS = 3600.0

_endpoints: weakref.WeakKeyDictionary[Runtime, GraphQLEndpoint] = weakref.WeakKeyDictionary()
_endpoints_lock = threading.Lock()


def _endpoint(runtime: Runtime) -> GraphQLEndpoint:
    """Building the schema takes a while: one endpoint per runtime."""
    with _endpoints_lock:
        endpoint = _endpoints.get(runtime)
        if endpoint is None:
            endpoint = GraphQLEndpoint(runtime.settings)
            _endpoints[runtime] = endpoint
        return endpoint


def retry_delay(base_seconds: float, attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based) before the next one."""
    return min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** max(0, attempt - 1))


@dataclass(frozen=True)
class Job:
    webhook_id: str
    event_id: str
    topic: Topic
    occurred_at: str
    payload: dict[str, Any]
    attempt: int

    @classmethod
    def from_task(cls, task: Task) -> Job:
        data = task.payload
        return cls(
            webhook_id=data["webhook_id"],
            event_id=data["event_id"],
            topic=Topic(data["event"]),
            occurred_at=data["occurred_at"],
            payload=dict(data.get("payload") or {}),
            attempt=int(data["attempt"]),
        )

    def delivered_event(self) -> DeliveredEvent:
        return DeliveredEvent.from_job(self.event_id, self.topic, self.occurred_at, self.payload)

    def as_event(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event": self.topic.value,
            "occurred_at": self.occurred_at,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class _Prepared:
    url: str
    query: str
    secret: str
    principal: AdminPrincipal


def creator_principal(session: Session, hook: GraphQLWebhook, now: datetime) -> AdminPrincipal | str:
    """The credentials the query runs with, in the webhook's tenant, or why they no longer exist."""
    if hook.creator_kind == ROOT_CREATOR:
        return AdminPrincipal(kind="root", level="owner", id="root", tenant_id=hook.tenant_id)
    if hook.creator_kind != CMA_CREATOR:
        return f"unknown creator kind {hook.creator_kind!r}"
    credential = admins_repository.get(session, hook.tenant_id, hook.creator_id)
    if credential is None:
        return f"the CMA credential {hook.creator_id} that created this webhook no longer exists"
    if credential.revoked_at is not None:
        return (
            f"the CMA credential {hook.creator_id} that created this webhook was revoked "
            f"at {isoformat(credential.revoked_at)}"
        )
    if credential.expires_at is not None and credential.expires_at <= now:
        return (
            f"the CMA credential {hook.creator_id} that created this webhook expired "
            f"at {isoformat(credential.expires_at)}"
        )
    return AdminPrincipal(kind="cma", level=credential.level, id=credential.id, tenant_id=hook.tenant_id)


def _prepare(runtime: Runtime, tenant_id: str, job: Job) -> _Prepared | str:
    with runtime.unit_of_work("system", tenant_id) as ctx:
        hook = repository.get(ctx.session, tenant_id, job.webhook_id)
        if hook is None:
            return "the webhook was deleted"
        if not hook.active:
            return "the webhook is disabled"
        principal = creator_principal(ctx.session, hook, utcnow())
        if isinstance(principal, str):
            return _disable(ctx, hook, principal)
        try:
            secret = webhook_secret(ctx, hook)
        except SecretBoxError:
            return _disable(ctx, hook, "its signing secret does not decrypt with the current ENCRYPTION_KEY")
        return _Prepared(hook.url, hook.query, secret, principal)


def _disable(ctx: ServiceContext, hook: GraphQLWebhook, reason: str) -> str:
    repository.disable(ctx.session, hook.tenant_id, hook.id, reason, utcnow())
    after = {"active": False, "disabled_reason": reason}
    ctx.audit("graphql_webhook.disable", "graphql_webhook", hook.id, {"active": True}, after)
    return reason


def _body(runtime: Runtime, prepared: _Prepared, job: Job) -> bytes:
    """The query's JSON result; the event reaches it as variables and as ``webhookPayload``."""
    event = job.delivered_event()
    variables = select_declared(event.variables(), parse(prepared.query))
    result = _endpoint(runtime).execute(
        runtime,
        prepared.principal,
        GraphQLRequest(prepared.query, variables, None),
        allowed_operation_types=(OperationType.QUERY,),
        webhook_event=event,
    )
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()


def _headers(prepared: _Prepared, job: Job, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: event_name(job.topic),
        signing.DELIVERY_HEADER: job.event_id,
        signing.TIMESTAMP_HEADER: timestamp,
        signing.SIGNATURE_HEADER: signing.sign(prepared.secret, timestamp, body),
    }


@dataclass(frozen=True)
class Attempt:
    headers: dict[str, str]  # as sent (the secret itself never is)
    body: bytes
    response: Response


def _attempt(runtime: Runtime, prepared: _Prepared, job: Job) -> Attempt:
    settings = runtime.settings
    body = _body(runtime, prepared, job)
    headers = _headers(prepared, job, body)
    try:
        target = check_target(prepared.url, settings.webhook_allow_private_targets)
    except TargetRefused as exc:
        return Attempt(headers, body, Response(None, None, None, f"target refused: {exc}", 0))
    response = post(target, headers, body, float(settings.webhook_timeout))
    return Attempt({"Host": target.host_header, **headers}, body, response)


def _record(runtime: Runtime, tenant_id: str, job: Job, url: str, attempt: Attempt) -> str:
    settings = runtime.settings
    response = attempt.response
    status = "delivered" if response.delivered else "failed"
    retry_at: datetime | None = None
    if not response.delivered and job.attempt < settings.webhook_max_attempts:
        retry_at = utcnow() + timedelta(seconds=retry_delay(settings.webhook_retry_base_seconds, job.attempt))
    with runtime.unit_of_work("system", tenant_id) as ctx:
        if repository.get(ctx.session, tenant_id, job.webhook_id) is None:
            return "the webhook was deleted during the delivery"
        ctx.session.add(
            GraphQLWebhookDelivery(
                id=new_id("whd"),
                tenant_id=tenant_id,
                webhook_id=job.webhook_id,
                event_id=job.event_id,
                event=job.topic.value,
                attempt=job.attempt,
                status=status,
                request_url=url,
                request_headers=attempt.headers,
                request_body=truncate(attempt.body.decode(errors="replace")),
                response_status=response.status,
                response_headers=response.headers,
                response_body=truncate(response.body) if response.body is not None else None,
                error=response.error,
                duration_ms=response.duration_ms,
                next_attempt_at=retry_at,
            )
        )
        if retry_at is not None:
            enqueue_delivery(ctx, job.webhook_id, job.as_event(), job.attempt + 1, run_after=retry_at)
    return status


def run_delivery(runtime: Runtime, task: Task) -> dict[str, Any]:
    """The task handler (kind ``graphql_webhook_delivery``)."""
    job = Job.from_task(task)
    summary: dict[str, Any] = {"webhook_id": job.webhook_id, "event_id": job.event_id, "attempt": job.attempt}
    if not has_feature(runtime.settings.edition, Feature.GRAPHQL):
        return {**summary, "skipped": "GraphQL is not available in this edition"}
    prepared = _prepare(runtime, task.tenant_id, job)
    if isinstance(prepared, str):
        return {**summary, "skipped": prepared}
    attempt = _attempt(runtime, prepared, job)
    status = _record(runtime, task.tenant_id, job, prepared.url, attempt)
    return {**summary, "status": status, "response_status": attempt.response.status}
