"""A local stand-in for GitHub (api + Git over smart HTTP) speaking GitHub's documented wire format.

The API lives under ``/api/v3`` (as on GitHub Enterprise Server), repositories under
``/<owner>/<repo>.git``. App endpoints require an RS256 app JWT that verifies against the app's
public key; installation endpoints and Git require an installation token this fake issued and that has
not expired. Every request is recorded so tests can assert what was sent and accepted.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.support.git_http import GitBackend, GitRequest, add_bare_clone
from tests.support.gitrepo import git_env

API_PREFIX = "/api/v3"
TOKEN_USERNAME = "x-access-token"
DOCS = "https://docs.github.com/rest"
# GitHub refuses app JWTs valid for longer than ten minutes.
MAX_JWT_LIFETIME = 600


@dataclass(frozen=True)
class AppKeys:
    private_pem: str
    public_pem: str


def generate_app_keys() -> AppKeys:
    """A fresh RSA key pair, as GitHub generates for an app (PKCS#1 PEM private key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeys(private_pem, public_pem)


@dataclass
class RecordedRequest:
    method: str
    path: str
    # app_jwt | installation_token | basic | none
    auth_kind: str
    accepted: bool
    status: int
    token: str | None = None
    jwt_claims: dict[str, Any] | None = None
    api_version: str | None = None


@dataclass
class FakeInstallation:
    id: int
    account_login: str
    account_type: str = "Organization"
    repository_selection: str = "all"
    suspended: bool = False
    repositories: list[str] = field(default_factory=list)  # full names


@dataclass
class IssuedToken:
    installation_id: int
    expires_at: datetime


class FakeGitHub:
    """Start with ``with FakeGitHub(root, app_id, keys) as github:``; stopped on exit."""

    def __init__(self, root: Path, app_id: str, keys: AppKeys, slug: str = "cargoman-registry") -> None:
        self.root = root
        self.app_id = app_id
        self.slug = slug
        self.keys = keys
        self.token_lifetime = timedelta(hours=1)
        self.installations: dict[int, FakeInstallation] = {}
        self.repositories: dict[str, dict[str, Any]] = {}  # full name -> repository object
        self.tokens: dict[str, IssuedToken] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._next_repository_id = 100_000
        self.git = GitBackend(root, self.authorize_git, realm="GitHub")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.api_url = self.url + API_PREFIX
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- set-up ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget installations, repositories (and their bare clones), tokens and recorded requests."""
        shutil.rmtree(self.root, ignore_errors=True)
        with self._lock:
            self.installations.clear()
            self.repositories.clear()
            self.tokens.clear()
            self.requests.clear()
            self.token_lifetime = timedelta(hours=1)

    def add_installation(
        self, installation_id: int, account_login: str, account_type: str = "Organization"
    ) -> FakeInstallation:
        installation = FakeInstallation(installation_id, account_login, account_type)
        self.installations[installation_id] = installation
        return installation

    def add_repository(
        self, installation_id: int, full_name: str, source: Path, private: bool = True
    ) -> dict[str, Any]:
        """Serve a bare clone of the local repository ``source`` as ``full_name``."""
        add_bare_clone(self.root, full_name, source)
        owner, name = full_name.split("/")
        self._next_repository_id += 1
        repository = {
            "id": self._next_repository_id,
            "node_id": f"R_{self._next_repository_id}",
            "name": name,
            "full_name": full_name,
            "private": private,
            "owner": {"login": owner, "type": self.installations[installation_id].account_type},
            "html_url": f"{self.url}/{full_name}",
            "clone_url": f"{self.url}/{full_name}.git",
            "url": f"{self.api_url}/repos/{full_name}",
            "default_branch": "main",
        }
        self.repositories[full_name] = repository
        self.installations[installation_id].repositories.append(full_name)
        return repository

    # -- what tests assert -------------------------------------------------------------------------

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def token_requests(self, installation_id: int) -> list[RecordedRequest]:
        return self.requests_to("POST", f"{API_PREFIX}/app/installations/{installation_id}/access_tokens")

    def git_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if not r.path.startswith(API_PREFIX)]

    # -- authentication ----------------------------------------------------------------------------

    def verify_app_jwt(self, token: str) -> dict[str, Any] | None:
        """The claims if ``token`` is an app JWT GitHub would accept, else ``None``."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.keys.public_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        now = time.time()
        if str(claims["iss"]) != self.app_id:
            return None
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME or claims["iat"] > now + 60:
            return None
        return claims

    def installation_of(self, token: str) -> int | None:
        issued = self.tokens.get(token)
        if issued is None or issued.expires_at <= datetime.now(UTC):
            return None
        installation = self.installations.get(issued.installation_id)
        if installation is None or installation.suspended:
            return None
        return installation.id

    def issue_token(self, installation_id: int) -> tuple[str, datetime]:
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires_at = (datetime.now(UTC) + self.token_lifetime).replace(microsecond=0)
        self.tokens[token] = IssuedToken(installation_id, expires_at)
        return token, expires_at

    def authorize_git(self, request: GitRequest) -> bool:
        """Git takes Basic ``x-access-token:<installation token>`` for the installation's repositories."""
        username, password = request.credentials or ("", "")
        token = password if username == TOKEN_USERNAME and password else None
        installation_id = self.installation_of(token) if token is not None else None
        allowed = (
            installation_id is not None
            and request.repository in self.installations[installation_id].repositories
        )
        status = 200 if allowed else 401
        auth_kind = "basic" if token else "none"
        self.record(RecordedRequest(request.method, request.path, auth_kind, allowed, status, token))
        return allowed

    def record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    # -- payloads -----------------------------------------------------------------------------------

    def installation_json(self, installation: FakeInstallation) -> dict[str, Any]:
        login, kind = installation.account_login, installation.account_type
        account = {"login": login, "id": installation.id * 7, "type": kind}
        return {
            "id": installation.id,
            "account": account,
            "repository_selection": installation.repository_selection,
            "app_id": int(self.app_id),
            "app_slug": self.slug,
            "target_type": installation.account_type,
            "permissions": {"contents": "read", "metadata": "read"},
            "events": ["push", "create", "release"],
            "created_at": "2024-01-15T10:30:00Z",
            "updated_at": "2024-01-15T10:30:00Z",
            "suspended_at": "2024-02-01T00:00:00Z" if installation.suspended else None,
        }  # fmt: skip


def _handler(github: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        # -- routing --

        def _dispatch(self) -> None:
            path = urlsplit(self.path).path
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path.startswith(API_PREFIX + "/"):
                self._api(path[len(API_PREFIX) :], body)
            elif ".git/" in path:
                self._git(body)
            else:
                self._json(404, {"message": "Not Found"}, "none", path)

        def _api(self, route: str, body: bytes) -> None:
            parts = [unquote(p) for p in route.strip("/").split("/")]
            if parts[:2] == ["app", "installations"] and len(parts) in (3, 4):
                self._as_app(parts)
            elif parts == ["installation", "repositories"] and self.command == "GET":
                self._installation_repositories()
            elif parts[:1] == ["repos"] and len(parts) >= 5 and parts[3] == "contents":
                self._contents(f"{parts[1]}/{parts[2]}", "/".join(parts[4:]))
            else:
                self._json(404, {"message": "Not Found", "documentation_url": DOCS}, "none")

        # -- app endpoints (app JWT) --

        def _as_app(self, parts: list[str]) -> None:
            scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
            claims = github.verify_app_jwt(credential) if scheme.lower() == "bearer" else None
            if claims is None:
                message = "A JSON web token could not be decoded"
                self._json(401, {"message": message, "documentation_url": DOCS}, "app_jwt")
                return
            installation = github.installations.get(int(parts[2])) if parts[2].isdigit() else None
            if installation is None:
                self._json(404, {"message": "Not Found", "documentation_url": DOCS}, "app_jwt", claims=claims)
                return
            if len(parts) == 3 and self.command == "GET":
                self._json(200, github.installation_json(installation), "app_jwt", claims=claims)
            elif len(parts) == 4 and parts[3] == "access_tokens" and self.command == "POST":
                if installation.suspended:
                    message = "This installation has been suspended"
                    self._json(403, {"message": message, "documentation_url": DOCS}, "app_jwt", claims=claims)
                    return
                token, expires_at = github.issue_token(installation.id)
                payload = {
                    "token": token,
                    "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
                    "permissions": {"contents": "read", "metadata": "read"},
                    "repository_selection": installation.repository_selection,
                }
                self._json(201, payload, "app_jwt", claims=claims)
            else:
                self._json(404, {"message": "Not Found", "documentation_url": DOCS}, "app_jwt", claims=claims)

        # -- installation endpoints (installation token) --

        def _installation(self) -> tuple[int | None, str | None]:
            scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() not in ("bearer", "token"):
                return None, None
            return github.installation_of(credential), credential

        def _installation_repositories(self) -> None:
            installation_id, token = self._installation()
            if installation_id is None:
                self._json(
                    401,
                    {"message": "Bad credentials", "documentation_url": DOCS},
                    "installation_token",
                    token=token,
                )
                return
            query = parse_qs(urlsplit(self.path).query)
            per_page = min(int(query.get("per_page", ["30"])[0]), 100)
            page = max(int(query.get("page", ["1"])[0]), 1)
            installation = github.installations[installation_id]
            names = installation.repositories
            selected = names[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(names):
                next_url = f"{github.api_url}/installation/repositories?per_page={per_page}&page={page + 1}"
                headers["Link"] = f'<{next_url}>; rel="next"'
            payload = {
                "total_count": len(names),
                "repository_selection": installation.repository_selection,
                "repositories": [github.repositories[name] for name in selected],
            }
            self._json(200, payload, "installation_token", token=token, headers=headers)

        def _contents(self, full_name: str, path: str) -> None:
            installation_id, token = self._installation()
            if installation_id is None:
                self._json(
                    401,
                    {"message": "Bad credentials", "documentation_url": DOCS},
                    "installation_token",
                    token=token,
                )
                return
            if full_name not in github.installations[installation_id].repositories:
                self._json(
                    404,
                    {"message": "Not Found", "documentation_url": DOCS},
                    "installation_token",
                    token=token,
                )
                return
            shown = subprocess.run(
                ["git", "--git-dir", str(github.root / f"{full_name}.git"), "show", f"HEAD:{path}"],
                env=git_env(),
                capture_output=True,
                check=False,
            )
            if shown.returncode != 0:
                self._json(
                    404,
                    {"message": "Not Found", "documentation_url": DOCS},
                    "installation_token",
                    token=token,
                )
                return
            payload = {
                "type": "file",
                "encoding": "base64",
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "size": len(shown.stdout),
                "content": base64.encodebytes(shown.stdout).decode(),
            }
            self._json(200, payload, "installation_token", token=token)

        # -- Git smart HTTP (Basic x-access-token:<installation token>) --

        def _git(self, body: bytes) -> None:
            github.git.handle(self, body)

        # -- responses --

        def _json(
            self,
            status: int,
            payload: dict[str, Any],
            auth_kind: str,
            path: str | None = None,
            *,
            claims: dict[str, Any] | None = None,
            token: str | None = None,
            headers: dict[str, str] | None = None,
        ) -> None:
            github.record(
                RecordedRequest(
                    self.command,
                    path or urlsplit(self.path).path,
                    auth_kind,
                    status < 400,
                    status,
                    token,
                    claims,
                    self.headers.get("X-GitHub-Api-Version"),
                )
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
