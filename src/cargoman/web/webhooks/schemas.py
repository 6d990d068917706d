"""Bodies of the webhook answers (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cargoman.web.api.v1.schemas import ErrorEnvelope
from cargoman.webhooks.service import DeliveryResult


class DeliveryOut(BaseModel):
    provider: str
    event: str
    delivery_id: str | None
    # queued, no_match, ping, ignored, duplicate, applied (GitHub App installations),
    # suspended, reactivated, frozen, expired, unchanged (Stripe)
    outcome: str
    message: str | None
    packages: list[str]
    task_ids: list[str]


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "VALIDATION_ERROR: malformed payload or headers"},
    401: {"model": ErrorEnvelope, "description": "UNAUTHORIZED: no secret configured, or a bad signature"},
    403: {"model": ErrorEnvelope, "description": "FORBIDDEN"},
    404: {"model": ErrorEnvelope, "description": "NOT_FOUND"},
    413: {"model": ErrorEnvelope, "description": "VALIDATION_ERROR: payload too large"},
}


def delivery(result: DeliveryResult) -> dict[str, Any]:
    out = DeliveryOut(
        provider=result.provider,
        event=result.event,
        delivery_id=result.delivery_id,
        outcome=result.outcome,
        message=result.message,
        packages=list(result.packages),
        task_ids=list(result.task_ids),
    )
    return {"data": out.model_dump(), "error": None}
