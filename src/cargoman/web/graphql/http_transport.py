"""GraphQL over HTTP: reading operations from a request and choosing the response media type.

Everything here raises ``RequestRejected`` (an HTTP status, an error code, a message) for a request
that cannot be read as GraphQL; the endpoint turns it into an answer. No execution happens here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
MULTIPART = "multipart/form-data"

MAX_BATCH_SIZE = 10
MAX_QUERY_BYTES = 100_000
# A full batch of maximal queries plus generous variables.
MAX_JSON_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operations:
    """What one HTTP request asks for: one operation, or a batch answered with an array."""

    items: list[GraphQLRequest]
    batched: bool
    carries_files: bool = False


class RequestRejected(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extensions = extensions


def bad_request(message: str) -> RequestRejected:
    return RequestRejected(400, "BAD_REQUEST", message)


# -- reading operations -------------------------------------------------------------------------------


def _optional_map(value: object, name: str) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise bad_request(f"{name} must be a JSON object")
    return value


def operation_from_mapping(body: object) -> GraphQLRequest:
    """One operation from a decoded JSON object (POST body, batch entry, multipart `operations`)."""
    if not isinstance(body, dict):
        raise bad_request("An operation must be a JSON object")
    query, operation_name = body.get("query"), body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise bad_request("The request has no query")
    if len(query) > MAX_QUERY_BYTES:
        raise bad_request(f"The query is longer than {MAX_QUERY_BYTES} characters")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("operationName must be a string")
    variables = _optional_map(body.get("variables"), "variables")
    extensions = _optional_map(body.get("extensions"), "extensions")
    return GraphQLRequest(query, variables, operation_name, extensions)


def operations_from_json(value: object) -> Operations:
    """A JSON object is one operation; a JSON array of 1 to MAX_BATCH_SIZE objects is a batch."""
    if isinstance(value, list):
        if not value:
            raise bad_request("A batch must hold at least one operation")
        if len(value) > MAX_BATCH_SIZE:
            raise bad_request(f"A batch may hold at most {MAX_BATCH_SIZE} operations, not {len(value)}")
        return Operations([operation_from_mapping(item) for item in value], batched=True)
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object or an array of them")
    return Operations([operation_from_mapping(value)], batched=False)


def decode_json(raw: bytes | str, what: str) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"{what} is not valid JSON") from exc


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, "REQUEST_TOO_LARGE", f"The request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestRejected(413, "REQUEST_TOO_LARGE", f"The request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def operations_from_json_body(request: Request) -> Operations:
    raw = await read_limited_body(request, MAX_JSON_BODY_BYTES)
    if not raw.strip():
        raise bad_request("The request body is empty")
    return operations_from_json(decode_json(raw, "The request body"))


def operation_from_query_string(request: Request) -> Operations:
    """GET: ``query``, ``operationName`` and the JSON-encoded ``variables`` and ``extensions``."""
    params = request.query_params
    body: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        encoded = params.get(name)
        if encoded:
            body[name] = decode_json(encoded, name)
    return Operations([operation_from_mapping(body)], batched=False)


# -- media types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaType:
    type: str
    params: dict[str, str] = field(default_factory=dict)


def parse_media_type(value: str) -> MediaType:
    kind, *raw_params = value.split(";")
    params = {}
    for raw in raw_params:
        name, _, param = raw.partition("=")
        params[name.strip().lower()] = param.strip().strip('"')
    return MediaType(kind.strip().lower(), params)


def request_media_type(request: Request) -> str:
    """The body's media type for a POST; JSON bodies must be UTF-8 (the default)."""
    header = request.headers.get("content-type")
    if not header:
        raise RequestRejected(415, "UNSUPPORTED_MEDIA_TYPE", f"Send the request as {JSON}")
    media = parse_media_type(header)
    if media.type == JSON:
        charset = media.params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise RequestRejected(
                415, "UNSUPPORTED_MEDIA_TYPE", f"JSON requests must be UTF-8 encoded, not {charset}"
            )
        return JSON
    if media.type == MULTIPART:
        return MULTIPART
    raise RequestRejected(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        f"Unsupported Content-Type {media.type}: send {JSON} (or {MULTIPART} for file uploads)",
    )


def _quality(media: MediaType) -> float:
    try:
        return max(0.0, min(1.0, float(media.params.get("q", "1"))))
    except ValueError:
        return 0.0


def response_media_type(accept: str | None) -> str:
    """The media type to answer with, per the Accept header (missing or ``*/*``: application/json).

    The highest quality wins; at equal quality the more specific range, then the one listed first.
    """
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    ranges = [parse_media_type(item) for item in accept.split(",") if item.strip()]
    for position, media in enumerate(ranges):
        quality = _quality(media)
        if quality <= 0:
            continue
        if media.type in (JSON, GRAPHQL_RESPONSE_JSON):
            candidate, specificity = media.type, 2
        elif media.type in ("*/*", "application/*"):
            candidate, specificity = JSON, 1
        else:
            continue
        rank = (quality, specificity, -position)
        if best is None or rank > best:
            best, chosen = rank, candidate
    if chosen is None:
        raise RequestRejected(
            406,
            "NOT_ACCEPTABLE",
            f"Responses are {JSON} or {GRAPHQL_RESPONSE_JSON}; the Accept header allows neither",
        )
    return chosen
