"""Git syncs of private repositories through GitLab and Bitbucket OAuth connections (local fakes)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from tests.support.fake_oauth import GIT_USERNAMES, FakeOAuthProvider
from tests.support.gitrepo import GitRepo, release_repo

from cargoman.db.models import AuditEntry
from cargoman.git_credentials import GitCredential
from cargoman.gitsync.errors import GitError
from cargoman.oauth import service
from cargoman.oauth.credentials import OAuthCredentialSource
from cargoman.oauth.errors import ReauthorizationRequired
from cargoman.packages import service as packages
from cargoman.packages.sync import sync_package
from cargoman.runtime import Runtime

NAME = "acme/private-widget"
TAGS = ("1.0.0", "1.1.0")


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(params=["gitlab", "bitbucket"])
def fake(
    request: pytest.FixtureRequest, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOAuthProvider]:
    """One provider running locally, with the registry configured as its OAuth client."""
    name = request.param
    callback = f"{runtime.settings.base_url}/api/v1/oauth/{name}/callback"
    with FakeOAuthProvider(name, tmp_path / "provider", callback) as provider:
        monkeypatch.setattr(runtime.settings, f"{name}_client_id", provider.client_id)
        monkeypatch.setattr(runtime.settings, f"{name}_client_secret", provider.client_secret)
        monkeypatch.setattr(runtime.settings, f"{name}_url", provider.url)
        monkeypatch.setattr(runtime.settings, "bitbucket_api_url", provider.url)
        yield provider


@pytest.fixture
def private_url(fake: FakeOAuthProvider, tmp_path: Path) -> str:
    source: GitRepo = release_repo(tmp_path / "source", NAME, TAGS)
    return fake.add_repository("acme/private-widget", source.path)


def _connect(runtime: Runtime, fake: FakeOAuthProvider) -> None:
    """initiate -> the provider's consent redirect -> callback, as the REST routes do."""
    with runtime.unit_of_work("root", actor_kind="root") as ctx:
        started = service.initiate(ctx, fake.flavor)
    location = httpx.get(started.authorization_url, follow_redirects=False).headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    service.complete(runtime, fake.flavor, query["state"], query["code"])


def _add_package(runtime: Runtime, url: str) -> str:
    with runtime.unit_of_work("root", actor_kind="root") as ctx:
        return packages.add_package(ctx, url, "git", NAME).package.id


def _versions(runtime: Runtime) -> set[str]:
    with runtime.unit_of_work("test") as ctx:
        return {v.version for v in packages.get_package(ctx, NAME, with_versions=True).versions}


def test_a_private_repository_syncs_with_the_connection_token(
    runtime: Runtime, fake: FakeOAuthProvider, private_url: str
) -> None:
    _connect(runtime, fake)
    package_id = _add_package(runtime, private_url)
    sync_package(runtime, "default", package_id)

    assert set(TAGS) <= _versions(runtime)
    accepted = [login for login in fake.git_logins if login is not None]
    assert accepted and set(accepted) == {(GIT_USERNAMES[fake.flavor], fake.access_tokens[-1])}


def test_without_a_connection_the_sync_fails_and_shows_no_token(
    runtime: Runtime, fake: FakeOAuthProvider, private_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _connect(runtime, fake)
    with runtime.unit_of_work("root", actor_kind="root") as ctx:
        service.disconnect(ctx, fake.flavor)
    token = fake.access_tokens[-1]
    package_id = _add_package(runtime, private_url)

    with pytest.raises(GitError) as failure:
        sync_package(runtime, "default", package_id)
    assert fake.git_logins and all(login is None for login in fake.git_logins)
    with runtime.unit_of_work("test") as ctx:
        package = packages.get_package(ctx, NAME)
        stored_error = package.sync_error or ""
    assert package.sync_status == "error" and "git" in stored_error
    for text in (str(failure.value), failure.value.stderr, stored_error, caplog.text):
        assert token not in text and fake.refresh_tokens[-1] not in text


def test_an_expiring_token_is_refreshed_before_the_fetch(
    runtime: Runtime, fake: FakeOAuthProvider, private_url: str
) -> None:
    fake.expires_in = 30  # inside the refresh margin: renewed before its next use
    _connect(runtime, fake)
    fake.expires_in = 7200
    fake.expire_access_tokens()  # the first token no longer works at the provider
    package_id = _add_package(runtime, private_url)

    sync_package(runtime, "default", package_id)
    assert set(TAGS) <= _versions(runtime)
    assert fake.grant_types() == ["authorization_code", "refresh_token"]
    first, renewed = fake.access_tokens
    accepted = [login for login in fake.git_logins if login is not None]
    assert first != renewed and {password for _, password in accepted} == {renewed}

    sync_package(runtime, "default", package_id)  # the renewed token is stored: no second refresh
    assert fake.grant_types() == ["authorization_code", "refresh_token"]
    with runtime.unit_of_work("test") as ctx:
        status = service.status(ctx, fake.flavor)
    assert status.connected and not status.needs_reauthorization


def test_concurrent_users_of_an_expiring_token_refresh_it_once(
    runtime: Runtime, fake: FakeOAuthProvider
) -> None:
    fake.expires_in = 30
    _connect(runtime, fake)
    fake.expires_in = 7200
    url = f"{fake.url}/acme/private-widget.git"
    barrier = threading.Barrier(3)
    results: list[GitCredential | BaseException | None] = []

    def fetch_credential() -> None:
        barrier.wait()
        try:
            with runtime.unit_of_work("worker") as ctx:
                results.append(OAuthCredentialSource().credential_for(ctx, url))
        except BaseException as exc:  # reported below
            results.append(exc)

    threads = [threading.Thread(target=fetch_credential) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert fake.grant_types() == ["authorization_code", "refresh_token"], results
    renewed = fake.access_tokens[-1]
    assert [getattr(r, "password", r) for r in results] == [renewed] * 3


def test_a_refused_refresh_asks_for_a_new_authorization(
    runtime: Runtime, fake: FakeOAuthProvider, private_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.expires_in = 30
    _connect(runtime, fake)
    fake.reject_refresh_tokens()
    package_id = _add_package(runtime, private_url)

    with pytest.raises(ReauthorizationRequired) as refused:
        sync_package(runtime, "default", package_id)
    message = str(refused.value)
    assert f"/api/v1/oauth/{fake.flavor}/initiate" in message and "authorized again" in message
    with runtime.unit_of_work("test") as ctx:
        status = service.status(ctx, fake.flavor)
        package = packages.get_package(ctx, NAME)
        entries = list(ctx.session.scalars(select(AuditEntry).where(AuditEntry.action.like("oauth.%"))))
    assert status.connected and status.needs_reauthorization
    assert package.sync_status == "error" and package.sync_error == message
    assert [e.action for e in entries] == ["oauth.connect", "oauth.reauthorization_required"]
    for token in fake.access_tokens + fake.refresh_tokens:
        assert token not in message and token not in caplog.text

    # Nothing left to renew with: later syncs fail the same way without asking the provider again.
    with pytest.raises(ReauthorizationRequired):
        sync_package(runtime, "default", package_id)
    assert fake.grant_types() == ["authorization_code", "refresh_token"]
    # Authorizing again repairs it.
    _connect(runtime, fake)
    sync_package(runtime, "default", package_id)
    assert set(TAGS) <= _versions(runtime)


def test_the_connection_answers_only_for_its_own_instance(runtime: Runtime, fake: FakeOAuthProvider) -> None:
    _connect(runtime, fake)
    port = urlsplit(fake.url).port
    source = OAuthCredentialSource()
    with runtime.unit_of_work("worker") as ctx:
        own = source.credential_for(ctx, f"{fake.url}/acme/widget.git")
        assert own is not None and own.source == "oauth"
        assert (own.username, own.password) == (GIT_USERNAMES[fake.flavor], fake.access_tokens[-1])
        assert source.credential_for(ctx, f"http://127.0.0.1:{port + 1}/acme/widget.git") is None
        assert source.credential_for(ctx, "https://example.com/acme/widget.git") is None
        assert source.credential_for(ctx, "git@127.0.0.1:acme/widget.git") is None
    with runtime.unit_of_work("worker", "other-tenant") as ctx:
        assert source.credential_for(ctx, f"{fake.url}/acme/widget.git") is None
