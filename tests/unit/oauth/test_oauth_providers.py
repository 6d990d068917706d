"""The GitLab and Bitbucket OAuth wire formats, against local fakes of both providers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.support.fake_oauth import FakeOAuthProvider

from cargoman.config import Settings
from cargoman.oauth.errors import OAuthGrantRejected, OAuthNotConfigured, OAuthProviderError
from cargoman.oauth.pkce import new_code_verifier, s256_challenge
from cargoman.oauth.providers import BitbucketProvider, GitLabProvider, OAuthProvider, provider_for
from cargoman.timeutil import utcnow

CALLBACK = "http://registry.test/api/v1/oauth/{}/callback"


@pytest.fixture(params=["gitlab", "bitbucket"])
def fake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeOAuthProvider]:
    with FakeOAuthProvider(request.param, tmp_path, CALLBACK.format(request.param)) as provider:
        yield provider


def _provider(fake: FakeOAuthProvider, secret: str | None = None) -> OAuthProvider:
    settings = Settings(
        **{
            f"{fake.flavor}_client_id": fake.client_id,
            f"{fake.flavor}_client_secret": secret or fake.client_secret,
            f"{fake.flavor}_url": fake.url,
            "bitbucket_api_url": fake.url,
        }
    )
    return provider_for(settings, fake.flavor)


def _authorize(provider: OAuthProvider, fake: FakeOAuthProvider, verifier: str | None) -> str:
    url = provider.authorization_url(
        "state-1", fake.callback_url, s256_challenge(verifier) if verifier else None
    )
    location = httpx.get(url, follow_redirects=False).headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["state-1"]
    return query["code"][0]


def test_a_code_becomes_tokens_and_an_account(fake: FakeOAuthProvider) -> None:
    provider = _provider(fake)
    verifier = new_code_verifier() if provider.uses_pkce else None
    code = _authorize(provider, fake, verifier)
    before = utcnow()
    grant = provider.exchange_code(code, fake.callback_url, verifier)

    assert (grant.access_token, grant.refresh_token) == (fake.access_tokens[0], fake.refresh_tokens[0])
    assert grant.expires_at is not None and 7190 <= (grant.expires_at - before).total_seconds() <= 7210
    expected_scopes = (
        ("read_api", "read_repository") if fake.flavor == "gitlab" else ("repository", "account")
    )
    assert grant.scopes == expected_scopes
    assert grant.access_token not in repr(grant) and grant.refresh_token not in repr(grant)

    account = provider.fetch_account(grant.access_token)
    assert account.login == ("jane.doe" if fake.flavor == "gitlab" else "jane-doe")

    renewed = provider.refresh(grant.refresh_token or "", fake.callback_url)
    assert renewed.access_token == fake.access_tokens[-1] != grant.access_token
    # A spent or unknown refresh token is a rejected grant, not a transient failure.
    with pytest.raises(OAuthGrantRejected):
        provider.refresh("not-a-refresh-token", fake.callback_url)


def test_a_code_is_single_use(fake: FakeOAuthProvider) -> None:
    provider = _provider(fake)
    verifier = new_code_verifier() if provider.uses_pkce else None
    code = _authorize(provider, fake, verifier)
    provider.exchange_code(code, fake.callback_url, verifier)
    with pytest.raises(OAuthGrantRejected, match="invalid_grant"):
        provider.exchange_code(code, fake.callback_url, verifier)


def test_gitlab_refuses_a_code_without_the_matching_verifier(tmp_path: Path) -> None:
    with FakeOAuthProvider("gitlab", tmp_path, CALLBACK.format("gitlab")) as fake:
        provider = _provider(fake)
        code = _authorize(provider, fake, new_code_verifier())
        with pytest.raises(OAuthGrantRejected):
            provider.exchange_code(code, fake.callback_url, new_code_verifier())
        assert fake.pkce_verified == 0 and fake.access_tokens == []


def test_wrong_client_credentials_name_the_setting_but_not_the_secret(fake: FakeOAuthProvider) -> None:
    provider = _provider(fake, secret="wrong-secret-value")
    verifier = new_code_verifier() if provider.uses_pkce else None
    code = _authorize(provider, fake, verifier)
    with pytest.raises(OAuthProviderError) as refused:
        provider.exchange_code(code, fake.callback_url, verifier)
    assert not isinstance(refused.value, OAuthGrantRejected)
    message = str(refused.value)
    assert f"{fake.flavor.upper()}_CLIENT_SECRET" in message
    assert "wrong-secret-value" not in message and code not in message


def test_an_unreachable_provider_is_a_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = GitLabProvider("id", "secret", f"http://127.0.0.1:{port}")
    with pytest.raises(OAuthProviderError, match="GitLab could not be reached"):
        provider.refresh("some-refresh-token", CALLBACK.format("gitlab"))


def test_authorization_urls() -> None:
    gitlab = GitLabProvider("app-id", "secret", "https://gitlab.example.com/")
    url = urlsplit(gitlab.authorization_url("s", "https://r.example/cb", "challenge"))
    assert (url.scheme, url.netloc, url.path) == ("https", "gitlab.example.com", "/oauth/authorize")
    assert parse_qs(url.query) == {
        "client_id": ["app-id"], "redirect_uri": ["https://r.example/cb"], "response_type": ["code"],
        "state": ["s"], "scope": ["read_api read_repository"], "code_challenge": ["challenge"],
        "code_challenge_method": ["S256"],
    }  # fmt: skip
    bitbucket = BitbucketProvider("key", "secret", "https://bitbucket.org", "https://api.bitbucket.org")
    url = urlsplit(bitbucket.authorization_url("s", "https://r.example/cb", None))
    assert url.path == "/site/oauth2/authorize"
    assert parse_qs(url.query) == {"client_id": ["key"], "response_type": ["code"], "state": ["s"]}


def test_without_client_credentials_nothing_starts() -> None:
    for name, variable in (("gitlab", "GITLAB_CLIENT_ID"), ("bitbucket", "BITBUCKET_CLIENT_SECRET")):
        provider = provider_for(
            Settings(gitlab_client_secret="only-a-secret", bitbucket_client_id="only-an-id"), name
        )
        assert not provider.configured
        with pytest.raises(OAuthNotConfigured, match=variable):
            provider.authorization_url("s", "https://r.example/cb", None)
