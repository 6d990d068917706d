"""The OAuth 2.0 wire formats of GitLab and Bitbucket Cloud: authorize URL, token grants, the account.

Tokens only ever travel in request bodies or headers, never in a URL, and no error message repeats
them (or the authorization code, or the client secret).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from cargoman.config import Settings
from cargoman.oauth.errors import OAuthGrantRejected, OAuthNotConfigured, OAuthProviderError
from cargoman.timeutil import utcnow

ProviderName = Literal["gitlab", "bitbucket"]
HTTP_TIMEOUT = 15.0
_DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class TokenGrant:
    """What a token endpoint issued."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ProviderAccount:
    id: str
    login: str


class OAuthProvider(ABC):
    """One provider, bound to its instance URL and the client credentials from the settings."""

    name: ProviderName
    title: str
    # The user name Git sends with the access token as password over HTTPS.
    git_username: str

    def __init__(self, client_id: str | None, client_secret: str | None, base_url: str) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self._client_secret)

    def require_configured(self) -> None:
        if not self.configured:
            prefix = self.name.upper()
            raise OAuthNotConfigured(
                f"{self.title} OAuth is not configured: set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET"
            )

    @property
    def client_secret(self) -> str:
        self.require_configured()
        assert self._client_secret is not None
        return self._client_secret

    @property
    def uses_pkce(self) -> bool:
        return False

    @abstractmethod
    def authorization_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """Where the administrator's browser goes to grant access."""

    @abstractmethod
    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Trade the authorization code for tokens."""

    @abstractmethod
    def refresh(self, refresh_token: str, redirect_uri: str) -> TokenGrant:
        """New tokens for a refresh token."""

    @abstractmethod
    def fetch_account(self, access_token: str) -> ProviderAccount:
        """The account the token acts as."""

    def revoke(self, access_token: str) -> bool:
        """Revoke the token at the provider; False when the provider offers no way to."""
        return False

    # -- HTTP ------------------------------------------------------------------------------------

    def _post_form(
        self, url: str, form: dict[str, str], basic_auth: tuple[str, str] | None = None
    ) -> httpx.Response:
        auth = httpx.BasicAuth(*basic_auth) if basic_auth is not None else httpx.USE_CLIENT_DEFAULT
        try:
            return _http_client().post(url, data=form, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OAuthProviderError(f"{self.title} could not be reached ({type(exc).__name__})") from None

    def _get_json(self, url: str, access_token: str) -> dict[str, Any]:
        try:
            response = _http_client().get(
                url, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise OAuthProviderError(f"{self.title} could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise OAuthProviderError(
                f"{self.title} refused the account request (HTTP {response.status_code})"
            )
        return _json_object(response, self.title)

    def _token_grant(self, response: httpx.Response) -> TokenGrant:
        if response.status_code != 200:
            raise self._token_error(response)
        body = _json_object(response, self.title)
        access_token = body.get("access_token")
        token_type = str(body.get("token_type", "bearer")).lower()
        if not isinstance(access_token, str) or not access_token or token_type != "bearer":
            raise OAuthProviderError(f"{self.title} answered the token request without a bearer access token")
        refresh_token = body.get("refresh_token")
        expires_in = body.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = utcnow() + timedelta(seconds=float(expires_in))
        return TokenGrant(
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            expires_at=expires_at,
            scopes=_scopes(body),
        )

    def _token_error(self, response: httpx.Response) -> OAuthProviderError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        detail = f"{error}" + (f": {str(description)[:_DESCRIPTION_LIMIT]}" if description else "")
        if error == "invalid_grant":
            return OAuthGrantRejected(f"{self.title} rejected the grant ({detail})")
        if error in ("invalid_client", "unauthorized_client"):
            prefix = self.name.upper()
            return OAuthProviderError(
                f"{self.title} refused the client credentials ({detail}); "
                f"check {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET"
            )
        return OAuthProviderError(
            f"{self.title} refused the token request (HTTP {response.status_code}"
            + (f", {detail})" if error else ")")
        )


class GitLabProvider(OAuthProvider):
    """GitLab.com or self-managed GitLab (GITLAB_URL); authorization code flow with PKCE."""

    name: ProviderName = "gitlab"
    title = "GitLab"
    git_username = "oauth2"
    scopes = "read_api read_repository"

    @property
    def uses_pkce(self) -> bool:
        return True

    def authorization_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        self.require_configured()
        assert self.client_id is not None
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "scope": self.scopes,
        }
        if code_challenge is not None:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.base_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        form = self._client_form() | {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        return self._token_grant(self._post_form(f"{self.base_url}/oauth/token", form))

    def refresh(self, refresh_token: str, redirect_uri: str) -> TokenGrant:
        form = self._client_form() | {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "redirect_uri": redirect_uri,
        }
        return self._token_grant(self._post_form(f"{self.base_url}/oauth/token", form))

    def fetch_account(self, access_token: str) -> ProviderAccount:
        body = self._get_json(f"{self.base_url}/api/v4/user", access_token)
        login = body.get("username")
        if body.get("id") is None or not isinstance(login, str):
            raise OAuthProviderError("GitLab answered the user request without an id and username")
        return ProviderAccount(id=str(body["id"]), login=login)

    def revoke(self, access_token: str) -> bool:
        form = self._client_form() | {"token": access_token}
        response = self._post_form(f"{self.base_url}/oauth/revoke", form)
        return response.status_code == 200

    def _client_form(self) -> dict[str, str]:
        assert self.client_id is not None
        return {"client_id": self.client_id, "client_secret": self.client_secret}


class BitbucketProvider(OAuthProvider):
    """Bitbucket Cloud. Its OAuth 2.0 documentation describes no PKCE, so none is sent; the client
    authenticates with its secret (HTTP Basic) at the token endpoint instead, and the consent
    screen returns to the callback URL configured on the OAuth consumer."""

    name: ProviderName = "bitbucket"
    title = "Bitbucket"
    git_username = "x-token-auth"

    def __init__(
        self,
        client_id: str | None,
        client_secret: str | None,
        base_url: str,
        api_url: str,
    ) -> None:
        super().__init__(client_id, client_secret, base_url)
        self.api_url = api_url.rstrip("/")

    def authorization_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        self.require_configured()
        assert self.client_id is not None
        query = {"client_id": self.client_id, "response_type": "code", "state": state}
        return f"{self.base_url}/site/oauth2/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        form = {"grant_type": "authorization_code", "code": code}
        return self._token_grant(self._post_form(self._token_url, form, basic_auth=self._basic_auth()))

    def refresh(self, refresh_token: str, redirect_uri: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_grant(self._post_form(self._token_url, form, basic_auth=self._basic_auth()))

    def fetch_account(self, access_token: str) -> ProviderAccount:
        body = self._get_json(f"{self.api_url}/2.0/user", access_token)
        account_id = body.get("uuid") or body.get("account_id")
        login = body.get("username") or body.get("nickname") or body.get("display_name")
        if not isinstance(account_id, str) or not isinstance(login, str):
            raise OAuthProviderError("Bitbucket answered the user request without a uuid and username")
        return ProviderAccount(id=account_id, login=login)

    @property
    def _token_url(self) -> str:
        return f"{self.base_url}/site/oauth2/access_token"

    def _basic_auth(self) -> tuple[str, str]:
        assert self.client_id is not None
        return (self.client_id, self.client_secret)


def provider_for(settings: Settings, name: str, base_url: str | None = None) -> OAuthProvider:
    """The provider ``name`` for these settings; ``base_url`` overrides the configured instance
    (a stored connection keeps talking to the instance that issued its tokens)."""
    if name == "gitlab":
        return GitLabProvider(
            settings.gitlab_client_id,
            settings.gitlab_client_secret,
            base_url or settings.gitlab_url,
        )
    if name == "bitbucket":
        return BitbucketProvider(
            settings.bitbucket_client_id,
            settings.bitbucket_client_secret,
            base_url or settings.bitbucket_url,
            settings.bitbucket_api_url,
        )
    raise ValueError(f"unknown OAuth provider {name!r}")


@functools.cache
def _http_client() -> httpx.Client:
    """One pooled client for the process (building one loads the CA bundle, which is slow)."""
    return httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)


def _json_object(response: httpx.Response, title: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise OAuthProviderError(f"{title} answered with something other than a JSON object")
    return body


def _scopes(body: dict[str, Any]) -> tuple[str, ...]:
    # GitLab names the granted scopes `scope`, Bitbucket `scopes`; both separate them by spaces.
    raw = body.get("scope", body.get("scopes"))
    if isinstance(raw, str):
        return tuple(part for part in raw.replace(",", " ").split() if part)
    return ()
