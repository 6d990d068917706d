"""The REST envelope for errors: `{"data": null, "error": {"code", "message"}}`."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cargoman.editions import FeatureNotAvailable
from cargoman.errors import CargomanError

log = logging.getLogger("cargoman.api")

_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "VALIDATION_ERROR",
    415: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    error: dict[str, object] = {"code": code, "message": message, **extra}
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="Cargoman"'
    return JSONResponse({"data": None, "error": error}, status_code=status, headers=all_headers or None)


def _field_of(location: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    field = ""
    for part in parts:
        field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
    return field or "body"


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Methods of the most specific path templates matching `path` (literal segments beat parameters)."""
    patterns: list[tuple[re.Pattern[str], int, list[str]]] | None = getattr(
        app.state, "method_patterns", None
    )
    if patterns is None:
        patterns = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"),
                template.count("{"),
                [method.upper() for method in operations],
            )
            for template, operations in app.openapi()["paths"].items()
        ]
        app.state.method_patterns = patterns
    matches = [(params, allowed) for pattern, params, allowed in patterns if pattern.match(path)]
    if not matches:
        return []
    fewest = min(params for params, _ in matches)
    return sorted({method for params, allowed in matches if params == fewest for method in allowed})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CargomanError)
    async def _domain_error(_request: Request, exc: CargomanError) -> JSONResponse:
        extra = {"field": exc.field} if hasattr(exc, "field") else {}
        return error_response(exc.status, exc.code, exc.message, **extra)

    @app.exception_handler(FeatureNotAvailable)
    async def _feature(_request: Request, exc: FeatureNotAvailable) -> JSONResponse:
        return error_response(403, "FEATURE_NOT_AVAILABLE", str(exc), edition=exc.edition)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ("body",))))
        message = first.get("msg", "invalid value")
        if first.get("type") == "json_invalid":
            field, message = "body", "request body is not valid JSON"
        return error_response(400, "VALIDATION_ERROR", f"{field}: {message}", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "Resource not found"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # The router only names the methods of the first route that matched the path;
            # list every method any route of this path accepts.
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # Values the database cannot store (e.g. NUL characters in PostgreSQL text).
        return error_response(
            400, "VALIDATION_ERROR", "a value in the request cannot be stored", field="body"
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "INTERNAL_ERROR", "Internal server error")
