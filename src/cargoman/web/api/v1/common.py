"""Helpers shared by the v1 routers: envelopes, pagination parameters, error responses in OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Query

from cargoman.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, PageRequest
from cargoman.web.api.v1.schemas import ErrorEnvelope

T = TypeVar("T")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "VALIDATION_ERROR"},
    401: {"model": ErrorEnvelope, "description": "UNAUTHORIZED"},
    403: {"model": ErrorEnvelope, "description": "FORBIDDEN"},
    404: {"model": ErrorEnvelope, "description": "NOT_FOUND"},
    409: {"model": ErrorEnvelope, "description": "CONFLICT"},
}


def envelope(data: Any) -> dict[str, Any]:
    return {"data": data, "error": None}


def list_envelope(items: list[Any], page: Page[Any]) -> dict[str, Any]:
    return {"data": items, "error": None, "pagination": page.pagination()}


def page_request(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
) -> PageRequest:
    return PageRequest(page=page, per_page=per_page)
