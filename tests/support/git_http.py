"""Serve local repositories over git's smart HTTP protocol (``git http-backend``) on 127.0.0.1.

Webhook payloads name repositories by their hosting URL, so tests register packages under
``http://127.0.0.1:<port>/<owner>/<repo>`` and send payloads with other spellings of that URL.
Fakes of hosting providers route their ``.git/`` requests to a `GitBackend` with their own
authorization rule.
"""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from tests.support.gitrepo import git_env


def add_bare_clone(root: Path, path: str, source: Path) -> Path:
    """A bare clone of the local repository ``source`` at ``<root>/<path>.git``, served from ``root``."""
    target = root / f"{path}.git"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "--bare", "--quiet", str(source), str(target)],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    return target


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(username, password)`` of a Basic ``Authorization`` header, None for anything else."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return username, password


@dataclass(frozen=True)
class GitRequest:
    """One smart-HTTP request, as handed to an authorization rule and to the CGI."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes

    @classmethod
    def read(cls, handler: BaseHTTPRequestHandler, body: bytes | None = None) -> GitRequest:
        """The request ``handler`` is answering; ``body`` when the handler already consumed it."""
        path, _, query = handler.path.partition("?")
        if body is None:
            body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        return cls(handler.command, path, query, handler.headers, body)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")

    @property
    def credentials(self) -> tuple[str, str] | None:
        return basic_credentials(self.authorization)

    @property
    def repository(self) -> str:
        """The served path without ``.git``: ``owner/repo`` for ``/owner/repo.git/info/refs``."""
        return self.path.lstrip("/").partition(".git/")[0]


# Decides whether a request may reach the repositories; it may also record what it saw.
Authorize = Callable[[GitRequest], bool]


class GitBackend:
    """Answers smart-HTTP requests for the repositories below ``root``.

    Without ``authorize`` every request is served; with it, refused requests get a Basic
    challenge for ``realm`` and accepted ones run as the Basic username (``REMOTE_USER``).
    """

    def __init__(self, root: Path, authorize: Authorize | None = None, realm: str = "git") -> None:
        self.root = root
        self.authorize = authorize
        self.realm = realm

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes | None = None) -> None:
        request = GitRequest.read(handler, body)
        if self.authorize is not None and not self.authorize(request):
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", f'Basic realm="{self.realm}"')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        status, headers, payload = self.run(request)
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def run(self, request: GitRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body ``git http-backend`` answers ``request`` with."""
        cgi_env = {
            "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": request.method, "PATH_INFO": request.path, "QUERY_STRING": request.query,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(request.body)),
            "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
        }  # fmt: skip
        credentials = request.credentials
        if self.authorize is not None and credentials is not None:
            cgi_env["REMOTE_USER"] = credentials[0]
        result = subprocess.run(
            ["git", "http-backend"], input=request.body, env=git_env(cgi_env), capture_output=True
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, headers = (200, []) if result.returncode == 0 else (500, [])
        for line in head.decode(errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        return status, headers, payload


class GitHttpServer:
    """Serves every repository below ``root`` as ``{url}/<relative path>`` until stopped."""

    def __init__(self, root: Path, authorize: Authorize | None = None, realm: str = "git") -> None:
        self.root = root
        self.backend = GitBackend(root, authorize, realm)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        backend = self.backend

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                backend.handle(self)

            def do_POST(self) -> None:
                backend.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
