"""OAuth connections to GitLab and Bitbucket over the REST API, against local fakes of both providers."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import MetaData, Table, inspect, select, update
from tests.functional.conftest import Api, Backend, err, ok
from tests.support.fake_oauth import FakeOAuthProvider
from tests.support.gitrepo import GitRepo

from cargoman.db.models import AuditEntry, OAuthConnection, OAuthState
from cargoman.oauth.credentials import OAuthCredentialSource
from cargoman.timeutil import utcnow

PROVIDERS = ("gitlab", "bitbucket")
WINDOW = 12  # no run of this many characters of a token may be stored or shown


@pytest.fixture
def fakes(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, FakeOAuthProvider]]:
    """Both providers running locally, and the registry configured with their client credentials."""
    started: dict[str, FakeOAuthProvider] = {}
    try:
        for name in PROVIDERS:
            callback = f"{backend.settings.base_url}/api/v1/oauth/{name}/callback"
            started[name] = FakeOAuthProvider(name, tmp_path / f"{name}-repositories", callback).start()  # type: ignore[arg-type]
        settings = backend.settings
        for name, fake in started.items():
            monkeypatch.setattr(settings, f"{name}_client_id", fake.client_id)
            monkeypatch.setattr(settings, f"{name}_client_secret", fake.client_secret)
            monkeypatch.setattr(settings, f"{name}_url", fake.url)
        monkeypatch.setattr(settings, "bitbucket_api_url", started["bitbucket"].url)
        yield started
    finally:
        for fake in started.values():
            fake.stop()


def _consent(authorization_url: str) -> str:
    """Follow the authorization URL as the browser would; the provider answers with a redirect."""
    response = httpx.get(authorization_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def _connect(api: Api, provider: str) -> dict[str, Any]:
    started = ok(api.post(f"/oauth/{provider}/initiate"))
    response = api.client.get(_consent(started["authorization_url"]))
    data: dict[str, Any] = ok(response)
    return data


def _stored(backend: Backend, model: type[Any]) -> list[Any]:
    with backend.runtime.session_factory() as session:
        return list(session.scalars(select(model)))


def _every_stored_text(backend: Backend) -> list[tuple[str, str, str]]:
    engine = backend.runtime.engine
    found: list[tuple[str, str, str]] = []
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names():
            table = Table(name, MetaData(), autoload_with=conn)
            for row in conn.execute(select(table)).mappings():
                found += [(name, column, str(value)) for column, value in row.items() if value is not None]
    return found


# -- the authorization flow -------------------------------------------------------------------------


def test_gitlab_authorization_code_flow_with_pkce(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]
) -> None:
    fake = fakes["gitlab"]
    started = ok(api.post("/oauth/gitlab/initiate"))
    url = urlsplit(started["authorization_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.url}/oauth/authorize"
    assert query["client_id"] == fake.client_id
    assert query["redirect_uri"] == "http://testserver/api/v1/oauth/gitlab/callback"
    assert query["response_type"] == "code"
    assert query["scope"] == "read_api read_repository"
    assert query["state"] == started["state"]
    assert query["code_challenge_method"] == "S256"

    # Only a digest of the state is stored, and the PKCE verifier only encrypted.
    [pending] = _stored(backend, OAuthState)
    assert pending.state_digest == hashlib.sha256(started["state"].encode()).hexdigest()
    assert pending.provider == "gitlab" and pending.actor == "root:root"
    assert pending.code_verifier_encrypted is not None and pending.code_verifier_encrypted.startswith("v1:")

    connected = ok(api.client.get(_consent(started["authorization_url"])))
    assert connected["connected"] is True and connected["status"] == "connected"
    assert connected["account_login"] == "jane.doe"
    assert connected["scopes"] == ["read_api", "read_repository"]

    # The fake checked the verifier against the challenge it was shown.
    assert fake.pkce_verified == 1
    [exchange] = fake.token_requests
    verifier = exchange["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == query["code_challenge"]
    assert exchange["redirect_uri"] == query["redirect_uri"]

    status = ok(api.get("/oauth/gitlab/status"))
    assert status["connected"] is True and status["configured"] is True
    assert status["account_login"] == "jane.doe" and status["base_url"] == fake.url
    assert status["connected_at"] is not None and status["expires_at"] is not None
    assert ok(api.get("/oauth/bitbucket/status"))["connected"] is False
    assert [c["provider"] for c in ok(api.get("/oauth/connections"))] == ["gitlab"]
    assert _stored(backend, OAuthState) == []  # the state is spent

    [entry] = [e for e in _stored(backend, AuditEntry) if e.action == "oauth.connect"]
    assert (entry.actor, entry.actor_kind, entry.resource_type) == ("root", "root", "oauth_connection")
    assert entry.after["account_login"] == "jane.doe"


def test_bitbucket_authorization_code_flow(api: Api, fakes: dict[str, FakeOAuthProvider]) -> None:
    fake = fakes["bitbucket"]
    started = ok(api.post("/oauth/bitbucket/initiate"))
    url = urlsplit(started["authorization_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.url}/site/oauth2/authorize"
    assert query == {"client_id": fake.client_id, "response_type": "code", "state": started["state"]}

    connected = ok(api.client.get(_consent(started["authorization_url"])))
    assert connected["account_login"] == "jane-doe"
    assert connected["scopes"] == ["repository", "account"]
    # Client credentials travel as HTTP Basic, not in the form.
    [exchange] = fake.token_requests
    assert exchange["grant_type"] == "authorization_code" and "client_secret" not in exchange
    assert ok(api.get("/oauth/bitbucket/status"))["connected"] is True


def test_a_state_is_single_use_and_belongs_to_one_provider(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]
) -> None:
    started = ok(api.post("/oauth/gitlab/initiate"))
    location = _consent(started["authorization_url"])
    code = parse_qs(urlsplit(location).query)["code"][0]

    # The GitLab state at Bitbucket's callback: refused, nothing exchanged, nothing stored.
    wrong = api.client.get(
        "/api/v1/oauth/bitbucket/callback", params={"code": code, "state": started["state"]}
    )
    assert "state" in err(wrong, 400, "VALIDATION_ERROR", "state")["message"]
    unknown = api.client.get("/api/v1/oauth/gitlab/callback", params={"code": code, "state": "forged-state"})
    err(unknown, 400, "VALIDATION_ERROR", "state")
    err(
        api.client.get("/api/v1/oauth/gitlab/callback", params={"code": code}),
        400,
        "VALIDATION_ERROR",
        "state",
    )
    assert fakes["gitlab"].token_requests == [] and fakes["bitbucket"].token_requests == []
    assert _stored(backend, OAuthConnection) == []

    ok(api.client.get(location))
    # Used once: the same redirect again is refused and the connection stays as it was.
    before = _stored(backend, OAuthConnection)
    err(api.client.get(location), 400, "VALIDATION_ERROR", "state")
    assert len(fakes["gitlab"].token_requests) == 1
    assert [row.id for row in _stored(backend, OAuthConnection)] == [row.id for row in before]


def test_an_expired_state_is_refused(api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]) -> None:
    started = ok(api.post("/oauth/bitbucket/initiate"))
    location = _consent(started["authorization_url"])
    with backend.runtime.engine.begin() as conn:
        conn.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    err(api.client.get(location), 400, "VALIDATION_ERROR", "state")
    assert fakes["bitbucket"].token_requests == []
    assert ok(api.get("/oauth/bitbucket/status"))["connected"] is False


def test_a_declined_authorization_connects_nothing(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]
) -> None:
    fakes["gitlab"].decline = True
    started = ok(api.post("/oauth/gitlab/initiate"))
    error = err(api.client.get(_consent(started["authorization_url"])), 400, "VALIDATION_ERROR", "error")
    assert "access_denied" in error["message"]
    assert _stored(backend, OAuthConnection) == [] and _stored(backend, OAuthState) == []


def test_the_callback_redirects_to_the_web_ui_when_one_is_configured(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "web_url", "https://admin.example.com")
    started = ok(api.post("/oauth/gitlab/initiate"))
    location = _consent(started["authorization_url"])
    response = api.client.get(location, follow_redirects=False)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "https://admin.example.com/?oauth_provider=gitlab&oauth_status=connected"
    )
    replay = api.client.get(location, follow_redirects=False)
    assert replay.status_code == 303
    outcome = parse_qs(urlsplit(replay.headers["location"]).query)
    assert outcome["oauth_status"] == ["error"] and "state" in outcome["oauth_error"][0]


def test_unconfigured_providers_and_unknown_ones_are_refused(api: Api, backend: Backend) -> None:
    assert backend.settings.gitlab_client_id is None
    message = err(api.post("/oauth/gitlab/initiate"), 409, "CONFLICT")["message"]
    assert "GITLAB_CLIENT_ID" in message and "GITLAB_CLIENT_SECRET" in message
    assert "BITBUCKET_CLIENT_ID" in err(api.post("/oauth/bitbucket/initiate"), 409, "CONFLICT")["message"]
    status = ok(api.get("/oauth/gitlab/status"))
    assert status == {
        "provider": "gitlab", "configured": False, "connected": False, "status": "not_connected", "id": None,
        "base_url": None, "account_login": None, "connected_at": None, "connected_by": None,
        "expires_at": None, "scopes": [],
    }  # fmt: skip
    err(api.post("/oauth/github/initiate"), 400, "VALIDATION_ERROR", "provider")
    err(api.post("/oauth/gitlab/disconnect"), 404, "NOT_FOUND")
    assert ok(api.get("/oauth/connections")) == []


def test_only_writers_may_connect_and_everyone_reads(api: Api, fakes: dict[str, FakeOAuthProvider]) -> None:
    _connect(api, "gitlab")
    ok(api.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    viewer = ok(api.post("/team/credentials", json={"name": "Reader", "level": "viewer"}), 201)["plain_token"]
    err(api.post("/oauth/gitlab/initiate", token=viewer), 403, "FORBIDDEN")
    err(api.post("/oauth/gitlab/disconnect", token=viewer), 403, "FORBIDDEN")
    assert ok(api.get("/oauth/gitlab/status", token=viewer))["connected"] is True
    err(api.get("/oauth/connections", token=None), 401, "UNAUTHORIZED")


# -- tokens: encrypted at rest, never shown --------------------------------------------------------


def test_tokens_are_stored_only_encrypted_and_never_shown(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]
) -> None:
    fakes["gitlab"].expires_in = 30  # inside the refresh margin: the first use below renews it
    shown = [str(_connect(api, "gitlab")), str(_connect(api, "bitbucket"))]
    _connect(api, "gitlab")  # a reconnection replaces the first connection's tokens
    with backend.runtime.unit_of_work("worker") as ctx:
        credential = OAuthCredentialSource().credential_for(ctx, f"{fakes['gitlab'].url}/acme/lib.git")
    assert credential is not None and credential.password == fakes["gitlab"].access_tokens[-1]
    assert fakes["gitlab"].grant_types()[-1] == "refresh_token"
    shown += [
        api.get(path).text
        for path in ("/oauth/gitlab/status", "/oauth/bitbucket/status", "/oauth/connections")
    ]

    issued = [token for fake in fakes.values() for token in fake.access_tokens + fake.refresh_tokens]
    assert len(set(issued)) == 8  # GitLab: connect, reconnect, refresh; Bitbucket: connect
    stored = _every_stored_text(backend)
    for token in issued:
        windows = {token[i : i + WINDOW] for i in range(len(token) - WINDOW + 1)}
        assert not [(table, column) for table, column, text in stored if any(w in text for w in windows)]
        assert not [text for text in shown if any(w in text for w in windows)]
    rows = {row.provider: row for row in _stored(backend, OAuthConnection)}
    assert set(rows) == {"gitlab", "bitbucket"}
    for row in rows.values():
        assert row.access_token_encrypted.startswith("v1:") and row.refresh_token_encrypted.startswith("v1:")


# -- disconnecting ---------------------------------------------------------------------------------


def test_disconnect_deletes_the_connection_and_revokes_at_gitlab(
    api: Api, backend: Backend, fakes: dict[str, FakeOAuthProvider]
) -> None:
    _connect(api, "gitlab")
    _connect(api, "bitbucket")
    access_token = fakes["gitlab"].access_tokens[-1]
    assert ok(api.post("/oauth/gitlab/disconnect")) == {
        "provider": "gitlab", "disconnected": True, "revoked_at_provider": True
    }  # fmt: skip
    assert fakes["gitlab"].revoked == [access_token]
    assert not fakes["gitlab"].valid_access_token(access_token)
    assert ok(api.get("/oauth/gitlab/status"))["connected"] is False
    err(api.post("/oauth/gitlab/disconnect"), 404, "NOT_FOUND")

    # Bitbucket Cloud documents no revocation endpoint: the connection is only forgotten.
    assert ok(api.post("/oauth/bitbucket/disconnect"))["revoked_at_provider"] is False
    assert ok(api.get("/oauth/connections")) == []
    actions = [e.action for e in _stored(backend, AuditEntry) if e.resource_type == "oauth_connection"]
    assert sorted(actions) == ["oauth.connect", "oauth.connect", "oauth.disconnect", "oauth.disconnect"]


# -- syncing a private repository through the connection ---------------------------------------------


def test_a_private_gitlab_repository_syncs_through_the_connection_and_failures_leak_no_token(
    api: Api,
    backend: Backend,
    fakes: dict[str, FakeOAuthProvider],
    make_library_repo: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fakes["gitlab"]
    source: GitRepo = make_library_repo("acme/private-lib", tags=("1.0.0", "1.1.0"))
    clone_url = fake.add_repository("acme/private-lib", source.path)

    _connect(api, "gitlab")
    package = api.add_package(clone_url)  # name read from the repository: the fetch is authenticated
    assert package["name"] == "acme/private-lib"
    detail = ok(api.get("/packages/acme/private-lib"))
    assert {"1.0.0", "1.1.0"} <= {v["version"] for v in detail["versions"]}
    assert ("oauth2", fake.access_tokens[-1]) in fake.git_logins

    # The provider stops accepting the token (without the registry knowing): the sync fails, cleanly.
    fake.expire_access_tokens()
    token = fake.access_tokens[-1]
    task = api.wait_for_task(ok(api.post("/packages/acme/private-lib/sync"), 202)["id"])
    assert task["status"] in ("failed", "pending") and task["error"]
    outputs = [str(task), api.get("/packages/acme/private-lib").text, api.get("/tasks").text, caplog.text]
    assert not [text for text in outputs if token in text]
    refresh_token = fake.refresh_tokens[-1]
    assert not [text for text in outputs if refresh_token in text]
