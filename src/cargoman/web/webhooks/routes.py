"""POST /api/webhooks/{github,github-app,gitlab,bitbucket,stripe}: no admin auth, the provider's
signature (or shared token) authenticates the delivery. Thin: cargoman.webhooks does the work."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from cargoman.runtime import Runtime
from cargoman.web.api.v1.schemas import Envelope
from cargoman.web.webhooks import packages
from cargoman.web.webhooks.body import read_body
from cargoman.web.webhooks.schemas import ERRORS, DeliveryOut, delivery
from cargoman.webhooks import intake
from cargoman.webhooks.providers import PROVIDERS, STRIPE, Provider

PREFIX = "/api/webhooks"


def _openapi(provider: Provider) -> dict[str, Any]:
    """The signed JSON body and the headers each provider sends, for the OpenAPI document."""
    if provider is STRIPE:
        headers = ["Stripe-Signature"]
    else:
        signature = {"gitlab": "X-Gitlab-Token", "bitbucket": "X-Hub-Signature"}.get(
            provider.name, "X-Hub-Signature-256"
        )
        headers = [signature, provider.event_header or "", *provider.delivery_headers]
    return {
        "parameters": [
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
            for name in headers
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        },
    }


def _endpoint(provider: Provider) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    async def receive(request: Request) -> dict[str, Any]:
        runtime: Runtime = request.app.state.runtime
        body = await read_body(request, intake.MAX_BODY_BYTES)
        ip = request.client.host if request.client else None
        result = await run_in_threadpool(
            intake.receive, runtime, provider, request.headers, body, now=time.time(), ip=ip
        )
        return delivery(result)

    return receive


def build_webhooks_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["webhooks"], responses=ERRORS)
    for provider in PROVIDERS.values():
        router.add_api_route(
            f"/{provider.name}",
            _endpoint(provider),
            methods=["POST"],
            name=f"webhook_{provider.name.replace('-', '_')}",
            summary=f"Receive a {provider.title} webhook",
            description=f"Authenticated with {provider.secret_setting}; answers 401 while it is unset.",
            response_model=Envelope[DeliveryOut],
            openapi_extra=_openapi(provider),
        )
    router.include_router(packages.router)
    return router
