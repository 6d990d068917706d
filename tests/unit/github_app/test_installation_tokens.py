"""Installation tokens come from GitHub once and are reused until shortly before they expire."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from tests.support.fake_github import API_PREFIX, FakeGitHub, generate_app_keys

from cargoman.errors import NotFound
from cargoman.github_app.client import GitHubAppClient
from cargoman.github_app.config import AppConfig, GitHubApiError
from cargoman.github_app.tokens import InstallationTokenCache
from cargoman.timeutil import utcnow


def test_token_is_requested_with_a_verified_app_jwt_and_github_headers(
    fake_github: FakeGitHub, app_config: AppConfig
) -> None:
    fake_github.add_installation(77, "acme")

    token = InstallationTokenCache().token(app_config, 77)

    (request,) = fake_github.token_requests(77)
    assert request.accepted and request.auth_kind == "app_jwt"
    assert request.jwt_claims is not None and str(request.jwt_claims["iss"]) == app_config.app_id
    assert request.api_version == "2022-11-28"
    assert token.startswith("ghs_") and token in fake_github.tokens


def test_cached_token_is_reused_until_near_expiry(fake_github: FakeGitHub, app_config: AppConfig) -> None:
    fake_github.add_installation(77, "acme")
    cache = InstallationTokenCache()

    first = cache.token(app_config, 77)
    assert [cache.token(app_config, 77) for _ in range(3)] == [first] * 3
    assert len(fake_github.token_requests(77)) == 1

    # A token GitHub issues with less than the refresh margin left is replaced on every use.
    cache.clear()
    fake_github.token_lifetime = timedelta(minutes=4)
    short_lived = cache.token(app_config, 77)
    renewed = cache.token(app_config, 77)
    assert renewed != short_lived
    assert len(fake_github.token_requests(77)) == 3


def test_token_is_renewed_once_the_clock_nears_expiry(fake_github: FakeGitHub, app_config: AppConfig) -> None:
    fake_github.add_installation(77, "acme")
    now = [utcnow()]
    cache = InstallationTokenCache(clock=lambda: now[0])

    first = cache.token(app_config, 77)
    now[0] += timedelta(minutes=54)
    assert cache.token(app_config, 77) == first
    now[0] += timedelta(minutes=2)  # 56 minutes into a one-hour token: within the 5-minute margin
    assert cache.token(app_config, 77) != first
    assert len(fake_github.token_requests(77)) == 2


def test_concurrent_callers_share_one_request(fake_github: FakeGitHub, app_config: AppConfig) -> None:
    fake_github.add_installation(77, "acme")
    cache = InstallationTokenCache()
    results: list[str] = []
    start = threading.Barrier(8)

    def fetch() -> None:
        start.wait()
        results.append(cache.token(app_config, 77))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 8
    assert len(fake_github.token_requests(77)) == 1


def test_unknown_installation_is_not_found(fake_github: FakeGitHub, app_config: AppConfig) -> None:
    with pytest.raises(NotFound):
        InstallationTokenCache().token(app_config, 404404)


def test_wrong_key_is_refused_by_github_and_reported_without_secrets(
    fake_github: FakeGitHub, app_config: AppConfig
) -> None:
    fake_github.add_installation(77, "acme")
    other_key = generate_app_keys().private_pem
    impostor = AppConfig(app_config.app_id, other_key, None, app_config.web_url, app_config.api_url)

    with pytest.raises(GitHubApiError) as raised:
        InstallationTokenCache().token(impostor, 77)

    assert "401" in raised.value.message
    (request,) = fake_github.requests_to("POST", f"{API_PREFIX}/app/installations/77")
    assert not request.accepted
    assert "PRIVATE KEY" not in raised.value.message and "eyJ" not in raised.value.message


def test_unreachable_github_is_a_clear_error(app_config: AppConfig) -> None:
    unreachable = AppConfig(
        app_config.app_id, app_config.private_key, None, "http://127.0.0.1:9", "http://127.0.0.1:9"
    )

    with GitHubAppClient(unreachable) as client, pytest.raises(GitHubApiError, match="cannot reach"):
        client.get_installation(1)


class _GuardedDict(dict):  # type: ignore[type-arg]
    """Records, for every read, write and walk, whether the cache's guard was held."""

    def __init__(self, guard: Any) -> None:
        super().__init__()
        self.guard = guard
        self.unguarded: list[str] = []

    def _check(self, operation: str) -> None:
        if not self.guard.locked():
            self.unguarded.append(operation)

    def get(self, *args: Any) -> Any:
        self._check("get")
        return super().get(*args)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check("set")
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._check("delete")
        super().__delitem__(key)

    def __iter__(self) -> Any:
        self._check("iterate")
        return super().__iter__()


def test_the_token_dict_is_only_touched_under_the_guard(
    fake_github: FakeGitHub, app_config: AppConfig
) -> None:
    """forget() walks the dict from the thread that committed a deletion while fetches store tokens:
    unless both hold the one guard, the walk can meet a dict changing size under it."""
    fake_github.add_installation(77, "acme")
    fake_github.add_installation(78, "beta")
    cache = InstallationTokenCache()
    tokens = _GuardedDict(cache._guard)
    cache._tokens = tokens

    cache.token(app_config, 77)
    cache.token(app_config, 78)
    cache.token(app_config, 77)
    cache.forget(77)

    assert tokens.unguarded == []
    assert [key[2] for key in tokens] == [78]
