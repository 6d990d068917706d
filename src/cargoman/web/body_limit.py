"""Request bodies with a size limit, refused as soon as they are known to exceed it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import Message


def capped_request(request: Request, max_body: int, too_large: Callable[[], Exception]) -> Request:
    """``request`` whose body raises ``too_large()`` past ``max_body`` bytes.

    A declared Content-Length over the limit is refused at once; otherwise reading stops at the
    chunk that takes the received total past it (chunked or understated bodies).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise too_large()
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_body:
                raise too_large()
        return message

    return Request(request.scope, limited_receive)
