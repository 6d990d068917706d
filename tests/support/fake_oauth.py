"""Local stand-ins for GitLab and Bitbucket Cloud: their OAuth 2.0 endpoints, the account endpoint,
and private Git repositories over smart HTTP, speaking each provider's documented wire format.

GitLab (https://docs.gitlab.com/api/oauth2/): ``GET /oauth/authorize`` (PKCE S256 required here),
``POST /oauth/token`` (client credentials in the form; refresh tokens rotate), ``POST /oauth/revoke``,
``GET /api/v4/user``; Git accepts ``oauth2:<access token>``.
Bitbucket Cloud (https://developer.atlassian.com/cloud/bitbucket/oauth-2/):
``GET /site/oauth2/authorize`` (back to the consumer's configured callback URL),
``POST /site/oauth2/access_token`` (HTTP Basic client credentials), ``GET /2.0/user`` (the API host;
the same server here); Git accepts ``x-token-auth:<access token>``.

The consent screen approves at once (or declines, with ``decline``). Every request is recorded so
tests can assert what was sent and accepted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.git_http import GitBackend, GitRequest, add_bare_clone, basic_credentials

Flavor = Literal["gitlab", "bitbucket"]
GIT_USERNAMES: dict[str, str] = {"gitlab": "oauth2", "bitbucket": "x-token-auth"}
ACCOUNTS: dict[str, dict[str, Any]] = {
    "gitlab": {"id": 4242, "username": "jane.doe", "name": "Jane Doe", "state": "active"},
    "bitbucket": {
        "type": "user",
        "uuid": "{6b1d3f7e-2c54-4a8b-9b0e-1f2a3b4c5d6e}",
        "account_id": "557058:0a1b2c3d",
        "username": "jane-doe",
        "display_name": "Jane Doe",
    },
}
GITLAB_SCOPES = "read_api read_repository"
BITBUCKET_SCOPES = "repository account"


@dataclass
class Grant:
    """A pending authorization code."""

    code: str
    redirect_uri: str | None
    code_challenge: str | None
    used: bool = False


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    access_valid: bool = True
    refresh_valid: bool = True


@dataclass
class FakeOAuthProvider:
    """A GitLab or Bitbucket Cloud instance on 127.0.0.1 with one OAuth application registered."""

    flavor: Flavor
    root: Path  # bare repositories served over Git smart HTTP live below it
    callback_url: str  # the registered redirect URI (GitLab) / consumer callback URL (Bitbucket)
    client_id: str = field(default_factory=lambda: "client-" + secrets.token_hex(8))
    client_secret: str = field(default_factory=lambda: "secret-" + secrets.token_hex(16), repr=False)
    # Seconds of validity announced (`expires_in`) for the access tokens issued from now on.
    expires_in: int = 7200
    decline: bool = False
    # What was seen: authorize queries, token forms (grant_type, ...), git logins, revoked tokens.
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    git_logins: list[tuple[str, str] | None] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list, repr=False)
    pkce_verified: int = 0
    grants: dict[str, Grant] = field(default_factory=dict, repr=False)
    tokens: list[TokenPair] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _httpd: ThreadingHTTPServer | None = field(default=None, repr=False)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FakeOAuthProvider:
        self.root.mkdir(parents=True, exist_ok=True)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOAuthProvider:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------------

    def add_repository(self, path: str, source: Path) -> str:
        """Serve a bare clone of ``source`` at ``<url>/<path>.git``; returns that clone URL."""
        add_bare_clone(self.root, path, source)
        return f"{self.url}/{path}.git"

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as once its `expires_in` has passed)."""
        with self._lock:
            for pair in self.tokens:
                pair.access_valid = False

    def reject_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused (as after the user revoked the application)."""
        with self._lock:
            for pair in self.tokens:
                pair.refresh_valid = False

    @property
    def access_tokens(self) -> list[str]:
        return [pair.access_token for pair in self.tokens]

    @property
    def refresh_tokens(self) -> list[str]:
        return [pair.refresh_token for pair in self.tokens]

    def grant_types(self) -> list[str]:
        return [form.get("grant_type", "") for form in self.token_requests]

    # -- protocol ---------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        """(status, headers, JSON body) of the consent step."""
        with self._lock:
            self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return (
                400,
                {},
                {"error": "invalid_request", "error_description": "unknown client or response type"},
            )
        if self.flavor == "gitlab":
            if query.get("redirect_uri") != self.callback_url:
                return (
                    400,
                    {},
                    {"error": "invalid_redirect_uri", "error_description": "redirect URI mismatch"},
                )
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                return 400, {}, {"error": "invalid_request", "error_description": "code_challenge required"}
        target = self.callback_url
        state = query.get("state")
        if self.decline:
            outcome = {
                "error": "access_denied",
                "error_description": "The resource owner denied the request.",
            }
        else:
            code = secrets.token_hex(16)
            with self._lock:
                self.grants[code] = Grant(code, query.get("redirect_uri"), query.get("code_challenge"))
            outcome = {"code": code}
        if state is not None:
            outcome["state"] = state
        return 302, {"Location": f"{target}?{urlencode(outcome)}"}, None

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests.append(dict(form))
            client = (
                basic if self.flavor == "bitbucket" else (form.get("client_id"), form.get("client_secret"))
            )
            if client != (self.client_id, self.client_secret):
                if self.flavor == "bitbucket":
                    return 400, {
                        "error": "unauthorized_client",
                        "error_description": "Invalid OAuth client credentials",
                    }
                return 401, {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client, "
                    "no client authentication included, or unsupported authentication method.",
                }
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._exchange_code(form)
            if grant_type == "refresh_token":
                return self._refresh(form)
            return 400, {"error": "unsupported_grant_type", "error_description": "unsupported grant type"}

    def _exchange_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return _invalid_grant()
        grant.used = True
        if self.flavor == "gitlab":
            if form.get("redirect_uri") != grant.redirect_uri:
                return _invalid_grant()
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if not verifier or challenge != grant.code_challenge:
                return _invalid_grant()
            self.pkce_verified += 1
        return 200, self._issue("authorization_code")

    def _refresh(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        presented = form.get("refresh_token", "")
        pair = next((p for p in self.tokens if p.refresh_token == presented and p.refresh_valid), None)
        if pair is None:
            return _invalid_grant()
        if self.flavor == "gitlab":
            # GitLab rotates refresh tokens: the one just used is spent.
            pair.refresh_valid = False
            return 200, self._issue("refresh_token")
        # Bitbucket keeps the refresh token and issues a new access token.
        body = self._issue("refresh_token", refresh_token=pair.refresh_token)
        pair.refresh_valid = False
        return 200, body

    def _issue(self, how: str, refresh_token: str | None = None) -> dict[str, Any]:
        if self.flavor == "gitlab":
            pair = TokenPair(secrets.token_hex(32), refresh_token or secrets.token_hex(32))
            body: dict[str, Any] = {
                "access_token": pair.access_token,
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "refresh_token": pair.refresh_token,
                "scope": GITLAB_SCOPES,
                "created_at": 1_700_000_000,
            }
        else:
            pair = TokenPair(secrets.token_urlsafe(48), refresh_token or secrets.token_urlsafe(24))
            body = {
                "access_token": pair.access_token,
                "scopes": BITBUCKET_SCOPES,
                "expires_in": self.expires_in,
                "refresh_token": pair.refresh_token,
                "token_type": "bearer",
                "state": how,
            }
        self.tokens.append(pair)
        return body

    def revoke(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
                return 401, {"error": "invalid_client", "error_description": "Client authentication failed."}
            token = form.get("token", "")
            for pair in self.tokens:
                if token in (pair.access_token, pair.refresh_token):
                    pair.access_valid = pair.refresh_valid = False
                    self.revoked.append(token)
            return 200, {}

    def authorize_git(self, request: GitRequest) -> bool:
        """Git over HTTPS takes Basic ``<flavor's fixed username>:<access token>``."""
        login = request.credentials
        with self._lock:
            self.git_logins.append(login)
        return (
            login is not None and login[0] == GIT_USERNAMES[self.flavor] and self.valid_access_token(login[1])
        )

    def valid_access_token(self, token: str | None) -> bool:
        with self._lock:
            return any(pair.access_token == token and pair.access_valid for pair in self.tokens)


def _invalid_grant() -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid, expired, revoked, does not match "
        "the redirection URI used in the authorization request, or was issued to another client.",
    }


def _handler(fake: FakeOAuthProvider) -> type[BaseHTTPRequestHandler]:
    flavor = fake.flavor
    authorize_path = "/oauth/authorize" if flavor == "gitlab" else "/site/oauth2/authorize"
    token_path = "/oauth/token" if flavor == "gitlab" else "/site/oauth2/access_token"
    user_path = "/api/v4/user" if flavor == "gitlab" else "/2.0/user"
    git = GitBackend(fake.root, fake.authorize_git)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == authorize_path:
                params = {k: v[0] for k, v in parse_qs(query).items()}
                status, headers, body = fake.authorize(params)
                self._send(status, body, headers)
            elif path == user_path:
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not fake.valid_access_token(token):
                    self._send(
                        401, {"message": "401 Unauthorized"} if flavor == "gitlab" else {"type": "error"}
                    )
                else:
                    self._send(200, ACCOUNTS[flavor])
            elif ".git/" in path:
                self._git()
            else:
                self._send(404, {"message": "404 Not Found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == token_path:
                self._send(*fake.token(self._form(), basic_credentials(self.headers.get("Authorization"))))
            elif path == "/oauth/revoke" and flavor == "gitlab":
                self._send(*fake.revoke(self._form()))
            elif ".git/" in path:
                self._git()
            else:
                self._send(404, {"message": "404 Not Found"})

        def _form(self) -> dict[str, str]:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            return {k: v[0] for k, v in parse_qs(body).items()}

        def _send(
            self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
        ) -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _git(self) -> None:
            git.handle(self)

    return Handler
