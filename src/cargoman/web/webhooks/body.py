"""The raw request body, read up to a limit: signatures are computed over the exact bytes."""

from __future__ import annotations

from fastapi import Request

from cargoman.errors import CargomanError


class PayloadTooLarge(CargomanError):
    code = "VALIDATION_ERROR"
    status = 413


async def read_body(request: Request, limit: int) -> bytes:
    too_large = PayloadTooLarge(f"body: the payload is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
