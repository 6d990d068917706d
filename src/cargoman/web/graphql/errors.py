"""GraphQL errors on the wire: every error carries ``extensions.code``; internal errors are masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from cargoman.editions import FeatureNotAvailable
from cargoman.errors import CargomanError, ValidationFailed
from cargoman.graphql_limits import QueryLimitExceeded

log = logging.getLogger("cargoman.graphql")

INTERNAL_MESSAGE = "Internal server error"


def request_error(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    """An error raised before execution (no locations, no path)."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def known_error(exc: BaseException) -> dict[str, Any] | None:
    """The wire form of an error we mean to show, or None for anything unexpected."""
    if isinstance(exc, ValidationFailed):
        return request_error(exc.code, exc.message, field=exc.field)
    if isinstance(exc, CargomanError):
        return request_error(exc.code, exc.message)
    if isinstance(exc, FeatureNotAvailable):
        return request_error("FEATURE_NOT_AVAILABLE", str(exc), edition=exc.edition)
    if isinstance(exc, QueryLimitExceeded):
        return request_error(exc.code, str(exc), score=exc.score, limit=exc.limit)
    return None


def format_error(error: GraphQLError, default_code: str = "GRAPHQL_VALIDATION_FAILED") -> dict[str, Any]:
    """One execution or validation error; resolver exceptions we did not expect become opaque."""
    formatted: dict[str, Any] = dict(error.formatted)  # message, locations, path, extensions
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # Parse, validation and variable coercion errors: about the request, safe to show.
        formatted["extensions"] = {**(error.extensions or {}), "code": default_code}
        return formatted
    known = known_error(original)
    if known is None:
        log.error("unexpected error in GraphQL resolver at %s", error.path, exc_info=original)
        known = request_error("INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE)
    formatted["message"] = known["message"]
    formatted["extensions"] = known["extensions"]
    return formatted
