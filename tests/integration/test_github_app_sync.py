"""Syncing a private GitHub repository with the installation token of the registry's GitHub App."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import open_runtime
from tests.support.fake_github import FakeGitHub, generate_app_keys
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.git_credentials import resolve_credential
from cargoman.github_app import installations
from cargoman.github_app.events import handle_installation_event
from cargoman.github_app.tokens import TOKEN_CACHE
from cargoman.gitsync.errors import GitError
from cargoman.packages import repository
from cargoman.packages.service import add_package
from cargoman.packages.sync import sync_package
from cargoman.runtime import Runtime

APP_ID = "31337"
INSTALLATION = 9001
DEPLOY_TOKEN = "deploy-token-never-shown-4711"


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def github(tmp_path: Path) -> Iterator[FakeGitHub]:
    TOKEN_CACHE.clear()
    with FakeGitHub(tmp_path / "github", APP_ID, generate_app_keys()) as fake:
        yield fake
    TOKEN_CACHE.clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, tmp_path: Path, github: FakeGitHub) -> Iterator[Runtime]:
    with open_runtime(
        request,
        tmp_path,
        github_app_id=APP_ID,
        github_app_private_key=github.keys.private_pem,
        github_url=github.url,
        github_api_url=github.api_url,
        git_auth_user="deployer",
        git_auth_token=DEPLOY_TOKEN,
    ) as rt:
        yield rt


@pytest.fixture
def private_repo(make_git_repo: Callable[..., GitRepo], github: FakeGitHub) -> str:
    """acme/private-lib with tags 1.0.0 and 1.1.0, served privately by the fake; its clone URL."""
    repo = make_git_repo("private-lib")
    for tag in ("1.0.0", "1.1.0"):
        repo.write({"composer.json": composer_json("acme/private-lib"), "src/A.php": f"<?php // {tag}\n"})
        repo.commit(f"release {tag}")
        repo.tag(tag)
    github.add_installation(INSTALLATION, "acme")
    clone_url: str = github.add_repository(INSTALLATION, "acme/private-lib", repo.path)["clone_url"]
    return clone_url


def _claim(runtime: Runtime) -> None:
    with runtime.unit_of_work("admin", actor_kind="root") as ctx:
        installations.claim(ctx, INSTALLATION)


def _add(runtime: Runtime, url: str) -> str:
    with runtime.unit_of_work("admin", actor_kind="root") as ctx:
        return add_package(ctx, url, "github", name="acme/private-lib").package.id


def test_private_repository_syncs_with_the_installation_token(
    runtime: Runtime, github: FakeGitHub, private_repo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _claim(runtime)
    package_id = _add(runtime, private_repo)

    report = sync_package(runtime, DEFAULT_TENANT_ID, package_id)

    assert sorted(report.added) == ["1.0.0", "1.1.0", "dev-main"]
    (issued,) = github.tokens
    accepted = [r for r in github.git_requests() if r.accepted]
    assert accepted and all(r.token == issued for r in accepted)
    assert not any(r.token == DEPLOY_TOKEN for r in github.git_requests())
    assert len(github.token_requests(INSTALLATION)) == 1
    assert all(r.accepted and r.jwt_claims for r in github.token_requests(INSTALLATION))
    assert issued not in caplog.text and DEPLOY_TOKEN not in caplog.text

    # A second sync within the token's lifetime reuses the cached token.
    sync_package(runtime, DEFAULT_TENANT_ID, package_id)
    assert len(github.token_requests(INSTALLATION)) == 1


def test_without_a_claimed_installation_the_sync_fails_without_leaking_credentials(
    runtime: Runtime, github: FakeGitHub, private_repo: str
) -> None:
    package_id = _add(runtime, private_repo)  # the installation exists on GitHub but is not claimed

    with pytest.raises(GitError) as raised:
        sync_package(runtime, DEFAULT_TENANT_ID, package_id)

    with runtime.unit_of_work("test") as ctx:
        package = repository.get(ctx.session, DEFAULT_TENANT_ID, package_id)
        assert package is not None
        assert package.sync_status == "error"
        error = package.sync_error or ""
    assert "git fetch" in error or "git clone" in error
    assert DEPLOY_TOKEN not in error and DEPLOY_TOKEN not in str(raised.value)
    assert "ghs_" not in error
    # The deploy credentials (the resolver's last resort) were tried and refused.
    assert github.git_requests() and not any(r.accepted for r in github.git_requests())


def test_resolver_prefers_the_installation_token_over_deploy_credentials(
    runtime: Runtime, github: FakeGitHub, private_repo: str
) -> None:
    _claim(runtime)
    with runtime.unit_of_work("test") as ctx:
        for_app_repo = resolve_credential(ctx, private_repo)
        for_other_owner = resolve_credential(ctx, f"{github.url}/someone-else/lib.git")
        for_other_host = resolve_credential(ctx, "https://git.example.com/acme/private-lib.git")
        over_ssh = resolve_credential(ctx, "git@github.com:acme/private-lib.git")

    assert for_app_repo is not None and for_app_repo.source == "github_app"
    assert for_app_repo.username == "x-access-token" and for_app_repo.password in github.tokens
    for credential in (for_other_owner, for_other_host, over_ssh):
        assert credential is not None and credential.source == "deploy"
        assert (credential.username, credential.password) == ("deployer", DEPLOY_TOKEN)
    assert "password" not in repr(for_app_repo) and for_app_repo.password not in repr(for_app_repo)


def test_a_suspended_installation_no_longer_supplies_tokens(
    runtime: Runtime, github: FakeGitHub, private_repo: str
) -> None:
    _claim(runtime)
    with runtime.unit_of_work("github-app", actor_kind="system") as ctx:
        event = {"action": "suspend", "installation": {"id": INSTALLATION}}
        handle_installation_event(ctx, "installation", event)
    with runtime.unit_of_work("test") as ctx:
        credential = resolve_credential(ctx, private_repo)

    assert credential is not None and credential.source == "deploy"
