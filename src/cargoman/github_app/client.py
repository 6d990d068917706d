"""GitHub's REST API as the app (app JWT) and as an installation (installation token)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from cargoman.errors import NotFound
from cargoman.github_app.app_jwt import app_jwt
from cargoman.github_app.config import AppConfig, GitHubApiError

API_VERSION = "2022-11-28"
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
PER_PAGE = 100
# A runaway Link chain stops here (100 pages of 100 repositories).
MAX_PAGES = 100


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at.isoformat()})"


class GitHubAppClient:
    """One client per operation; pass ``transport`` to route requests elsewhere (tests)."""

    def __init__(self, config: AppConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._http = httpx.Client(
            base_url=config.api_url,
            timeout=TIMEOUT,
            transport=transport,
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
            follow_redirects=False,
        )

    def __enter__(self) -> GitHubAppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    # -- as the app ----------------------------------------------------------------------------

    def get_installation(self, installation_id: int) -> dict[str, Any]:
        response = self._request("GET", f"/app/installations/{installation_id}", self._app_auth())
        if response.status_code == 404:
            raise NotFound(f"GitHub App installation {installation_id} not found on GitHub")
        return _json_object(self._checked(response, "read the installation"))

    def create_installation_token(self, installation_id: int) -> InstallationToken:
        path = f"/app/installations/{installation_id}/access_tokens"
        response = self._request("POST", path, self._app_auth())
        if response.status_code == 404:
            raise NotFound(f"GitHub App installation {installation_id} not found on GitHub")
        body = _json_object(self._checked(response, "create an installation access token"))
        token, expires_at = body.get("token"), body.get("expires_at")
        if not isinstance(token, str) or not token or not isinstance(expires_at, str):
            raise GitHubApiError("GitHub answered an installation token request without token or expiry")
        try:
            expiry = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            raise GitHubApiError("GitHub answered an installation token with an unreadable expiry") from None
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=UTC)
        return InstallationToken(token=token, expires_at=expiry)

    # -- as an installation --------------------------------------------------------------------

    def installation_repositories(self, token: str) -> list[dict[str, Any]]:
        """Every repository the installation can access, following GitHub's Link pagination."""
        repositories: list[dict[str, Any]] = []
        url: str | None = f"/installation/repositories?per_page={PER_PAGE}"
        for _ in range(MAX_PAGES):
            if url is None:
                return repositories
            response = self._request("GET", url, _token_auth(token))
            body = _json_object(self._checked(response, "list the installation's repositories"))
            page = body.get("repositories")
            if not isinstance(page, list):
                raise GitHubApiError("GitHub answered a repository list without 'repositories'")
            repositories += [repo for repo in page if isinstance(repo, dict)]
            url = self._next_page(response)
        raise GitHubApiError(f"the installation lists more than {MAX_PAGES} pages of repositories")

    def file_contents(self, token: str, full_name: str, path: str) -> bytes | None:
        """The file at ``path`` on the default branch, or ``None`` when the repository has none."""
        owner, _, name = full_name.partition("/")
        url = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/contents/{quote(path)}"
        response = self._request("GET", url, _token_auth(token))
        if response.status_code == 404:
            return None
        body = self._checked(response, f"read {path} of {full_name}")
        if not isinstance(body, dict) or body.get("type") != "file":
            return None
        try:
            return base64.b64decode(str(body.get("content", "")))
        except (binascii.Error, ValueError):
            raise GitHubApiError(f"GitHub answered {path} of {full_name} with unreadable content") from None

    # -- plumbing ------------------------------------------------------------------------------

    def _app_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {app_jwt(self.config)}"}

    def _request(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        try:
            return self._http.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            # The exception text may hold the URL but never a header, so no credential leaks here.
            raise GitHubApiError(f"cannot reach the GitHub API: {type(exc).__name__}") from None

    def _checked(self, response: httpx.Response, action: str) -> Any:
        if response.status_code >= 400:
            raise GitHubApiError(f"GitHub refused to {action}: {_describe(response)}")
        try:
            return response.json()
        except json.JSONDecodeError:
            raise GitHubApiError(f"GitHub answered a request to {action} with invalid JSON") from None

    def _next_page(self, response: httpx.Response) -> str | None:
        next_link = response.links.get("next", {}).get("url")
        if not next_link:
            return None
        # The token goes only to the configured API host, whatever a Link header says.
        base, target = urlsplit(self.config.api_url), urlsplit(next_link)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise GitHubApiError("GitHub's pagination link points at another host")
        return next_link


def _token_auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GitHubApiError("GitHub answered with something other than a JSON object")
    return body


def _describe(response: httpx.Response) -> str:
    message = ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"][:200]
    except json.JSONDecodeError:
        pass
    return f"HTTP {response.status_code}" + (f" ({message})" if message else "")
