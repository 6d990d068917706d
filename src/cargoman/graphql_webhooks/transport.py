"""One HTTP POST to a webhook target: no redirects, no proxies from the environment, bounded reads."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from cargoman.graphql_webhooks.targets import PinnedTarget

MAX_RECORDED_BODY = 64 * 1024
USER_AGENT = "Cargoman-Webhooks/1"


@dataclass(frozen=True)
class Response:
    status: int | None
    headers: dict[str, str] | None
    body: str | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def truncate(text: str, limit: int = MAX_RECORDED_BODY) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode(errors="ignore")


def _read_capped(response: httpx.Response, deadline: float) -> tuple[bytes, str | None]:
    """At most MAX_RECORDED_BODY bytes of the body; an error when it is not read before the deadline."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RECORDED_BODY:
            break
        if time.monotonic() > deadline:
            return b"".join(chunks), "the response body was not received in time"
    return b"".join(chunks)[:MAX_RECORDED_BODY], None


def _joined_headers(headers: httpx.Headers) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def post(target: PinnedTarget, headers: dict[str, str], body: bytes, timeout: float) -> Response:
    """POST ``body`` to the checked address of ``target``; never raises for network trouble."""
    started = time.monotonic()
    deadline = started + timeout
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST",
            target.connect_url,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions=target.extensions,
        )
        try:
            response = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return Response(None, None, None, f"{type(exc).__name__}: {exc}", elapsed)
        try:
            content, error = _read_capped(response, deadline)
        except httpx.HTTPError as exc:
            content, error = b"", f"{type(exc).__name__}: {exc}"
        finally:
            response.close()
        elapsed = int((time.monotonic() - started) * 1000)
        return Response(
            status=response.status_code,
            headers=_joined_headers(response.headers),
            body=content.decode(errors="replace"),
            error=error,
            duration_ms=elapsed,
        )
