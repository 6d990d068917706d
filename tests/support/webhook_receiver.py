"""A webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that records every request.

It answers each request with the status and body set on it (changeable while it runs), and
``wait_for(n)`` blocks until n requests arrived (or fails at a deadline): tests poll a condition,
never sleep.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # time.monotonic()


class WebhookReceiver:
    def __init__(self, status: int = 200, body: bytes = b'{"received":true}') -> None:
        self.status = status
        self.body = body
        self.extra_headers: dict[str, str] = {}
        self._requests: list[ReceivedRequest] = []
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver._record(ReceivedRequest(self.command, self.path, headers, body, time.monotonic()))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_POST = _answer
            do_GET = _answer

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test asserts on the recorded requests."""

        return Handler

    def _record(self, request: ReceivedRequest) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._arrived:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedRequest]:
        """The first ``count`` requests, once they arrived; AssertionError after ``timeout`` seconds."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self._requests) >= count, timeout)
            if not arrived:
                raise AssertionError(f"expected {count} webhook requests, got {len(self._requests)}")
            return list(self._requests[:count])

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
