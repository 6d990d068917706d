"""The GitHub App REST API and installation events against a local fake GitHub."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tests.functional.conftest import Api, Backend, err, ok, start_backend
from tests.support.fake_github import API_PREFIX, FakeGitHub, generate_app_keys
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.db.models import AuditEntry
from cargoman.github_app.events import handle_installation_event
from cargoman.github_app.removal import remove_installation
from cargoman.github_app.tokens import TOKEN_CACHE

APP_ID = "271828"
ACME = 5001


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGitHub]:
    with FakeGitHub(tmp_path_factory.mktemp("github"), APP_ID, generate_app_keys()) as fake:
        yield fake


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def github_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, github: FakeGitHub
) -> Iterator[Backend]:
    with start_backend(
        request,
        tmp_path_factory.mktemp(f"github-app-{request.param}"),
        github_app_id=APP_ID,
        # As an env file often carries it: one line with literal \n escapes.
        github_app_private_key=github.keys.private_pem.strip().replace("\n", "\\n"),
        github_app_slug=github.slug,
        github_url=github.url,
        github_api_url=github.api_url,
    ) as started:
        yield started


@pytest.fixture
def gh(github_backend: Backend, github: FakeGitHub) -> Api:
    github_backend.reset()
    github.reset()
    TOKEN_CACHE.clear()
    return Api(github_backend.client)


@pytest.fixture
def acme(github: FakeGitHub, make_git_repo: Callable[..., GitRepo]) -> dict[str, str]:
    """Installation ACME on org `acme` with two Composer repositories and one without composer.json."""
    github.add_installation(ACME, "acme")
    urls = {}
    for name in ("billing", "reports"):
        repo = make_git_repo(name)
        repo.write({"composer.json": composer_json(f"acme/{name}"), "src/A.php": "<?php\n"})
        repo.commit("first")
        repo.tag("1.0.0")
        urls[name] = github.add_repository(ACME, f"acme/{name}", repo.path)["clone_url"]
    website = make_git_repo("website")
    website.write({"index.html": "<html></html>"})
    website.commit("site")
    urls["website"] = github.add_repository(ACME, "acme/website", website.path)["clone_url"]
    return urls


def _event(backend: Backend, name: str, payload: dict[str, Any]) -> str:
    with backend.runtime.unit_of_work("github-app", actor_kind="system") as ctx:
        return handle_installation_event(ctx, name, payload)


def _audit(backend: Backend) -> list[dict[str, Any]]:
    """Audit entries as stored (the audit API is not part of the Community edition)."""
    with backend.runtime.session_factory() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [
            {"action": r.action, "resource_type": r.resource_type, "before": r.before, "after": r.after}
            for r in rows
        ]


def _installation_payload(github: FakeGitHub, installation_id: int) -> dict[str, Any]:
    return github.installation_json(github.installations[installation_id])


def test_status_and_install_url(gh: Api, github: FakeGitHub) -> None:
    assert ok(gh.get("/github-app/status")) == {
        "configured": True,
        "app_id": int(APP_ID),
        "app_slug": "cargoman-registry",
    }
    url = ok(gh.get("/github-app/install-url"))["url"]
    assert url == f"{github.url}/apps/cargoman-registry/installations/new"


def test_not_configured_is_a_clear_error(api: Api) -> None:
    assert ok(api.get("/github-app/status"))["configured"] is False
    error = err(api.get("/github-app/install-url"), 409, "GITHUB_APP_NOT_CONFIGURED")
    assert "GITHUB_APP_ID" in error["message"]
    err(
        api.post("/github-app/installations/claim", json={"installation_id": 1}),
        409,
        "GITHUB_APP_NOT_CONFIGURED",
    )


def test_claim_fetches_the_installation_from_github_with_a_verified_jwt(
    gh: Api, github_backend: Backend, github: FakeGitHub, acme: dict[str, str]
) -> None:
    claimed = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))

    assert claimed["github_installation_id"] == ACME
    assert (claimed["account_login"], claimed["account_type"]) == ("acme", "Organization")
    assert claimed["status"] == "active" and claimed["claimed"] is True
    (request,) = github.requests_to("GET", f"{API_PREFIX}/app/installations/{ACME}")
    assert request.accepted and request.jwt_claims is not None and request.jwt_claims["iss"] == APP_ID
    assert ok(gh.get("/github-app/installations")) == {"installations": [claimed]}
    assert ok(gh.get(f"/github-app/installations/{claimed['id']}")) == claimed
    assert ok(gh.get(f"/github-app/installations/by-github-id/{ACME}")) == claimed
    assert "github_app_installation.claim" in [e["action"] for e in _audit(github_backend)]


def test_claim_of_an_installation_github_does_not_know_is_not_found(gh: Api) -> None:
    err(gh.post("/github-app/installations/claim", json={"installation_id": 123}), 404, "NOT_FOUND")
    err(gh.post("/github-app/installations/claim", json={"installation_id": 0}), 400, "VALIDATION_ERROR")
    err(gh.get("/github-app/installations/ghi_missing"), 404, "NOT_FOUND")
    err(gh.get("/github-app/installations/by-github-id/123"), 404, "NOT_FOUND")
    assert ok(gh.get("/github-app/installations")) == {"installations": []}


def test_repositories_are_listed_with_the_installation_token(
    gh: Api, github: FakeGitHub, acme: dict[str, str]
) -> None:
    installation = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))

    repositories = ok(gh.get(f"/github-app/installations/{installation['id']}/repositories"))["repositories"]

    assert [r["full_name"] for r in repositories] == ["acme/billing", "acme/reports", "acme/website"]
    assert all(r["private"] and r["default_branch"] == "main" for r in repositories)
    (listing,) = github.requests_to("GET", f"{API_PREFIX}/installation/repositories")
    assert listing.accepted and listing.token in github.tokens


def test_installation_sync_adds_only_composer_repositories_and_syncs_them_privately(
    gh: Api,
    github_backend: Backend,
    github: FakeGitHub,
    acme: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    installation = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))
    gh.add_package(acme["reports"], name="acme/reports", wait=True)  # registered before: skipped

    result = ok(gh.post(f"/github-app/installations/{installation['id']}/sync"))

    assert result["repositories"] == 3
    assert [(a["repository"], a["package"]) for a in result["added"]] == [("acme/billing", "acme/billing")]
    assert {s["repository"]: s["reason"] for s in result["skipped"]} == {
        "acme/reports": "already registered as acme/reports",
        "acme/website": "no composer.json on the default branch",
    }
    task = gh.wait_for_task(result["added"][0]["sync_task"])
    assert task["status"] == "completed", task
    package = ok(gh.get("/packages/acme/billing"))
    assert package["repository_url"] == acme["billing"]
    assert "1.0.0" in [v["version"] for v in package["versions"]]
    # The fake accepted the clone only with an installation token it issued, as x-access-token.
    fetches = [r for r in github.git_requests() if "acme/billing" in r.path and r.accepted]
    assert fetches and all(r.token in github.tokens for r in fetches)
    # One token for the claim's sync, the listing, the contents and both repositories' fetches.
    assert len(github.token_requests(ACME)) == 1

    tokens = list(github.tokens)
    outputs = [
        json.dumps(ok(gh.get("/tasks"))),
        json.dumps(_audit(github_backend), default=str),
        json.dumps(result),
        json.dumps(ok(gh.get("/packages/acme/billing"))),
        caplog.text,
    ]
    for text in outputs:
        assert not any(token in text for token in tokens)
        assert "PRIVATE KEY" not in text


def test_sync_of_an_unclaimed_or_suspended_installation_is_refused(
    gh: Api, github_backend: Backend, github: FakeGitHub, acme: dict[str, str]
) -> None:
    _event(
        github_backend,
        "installation",
        {"action": "created", "installation": _installation_payload(github, ACME)},
    )
    pending = ok(gh.get(f"/github-app/installations/by-github-id/{ACME}"))
    assert pending["claimed"] is False
    err(gh.post(f"/github-app/installations/{pending['id']}/sync"), 409, "CONFLICT")

    ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))
    _event(github_backend, "installation", {"action": "suspend", "installation": {"id": ACME}})
    err(gh.get(f"/github-app/installations/{pending['id']}/repositories"), 409, "CONFLICT")
    assert github.requests_to("GET", f"{API_PREFIX}/installation/repositories") == []


def test_installation_events_are_recorded(gh: Api, github_backend: Backend, github: FakeGitHub) -> None:
    github.add_installation(ACME, "acme")
    payload = _installation_payload(github, ACME)

    created = _event(github_backend, "installation", {"action": "created", "installation": payload})
    record = ok(gh.get(f"/github-app/installations/by-github-id/{ACME}"))
    assert "recorded (waiting to be claimed)" in created
    # Anyone may install a public app: an event never claims it, in any tenant mode.
    assert record["claimed"] is False and record["status"] == "active"

    _event(github_backend, "installation", {"action": "suspend", "installation": {"id": ACME}})
    suspended = ok(gh.get(f"/github-app/installations/{record['id']}"))
    assert suspended["status"] == "suspended" and suspended["suspended_at"] is not None

    _event(github_backend, "installation", {"action": "unsuspend", "installation": {"id": ACME}})
    assert ok(gh.get(f"/github-app/installations/{record['id']}"))["status"] == "active"

    changed = _event(
        github_backend,
        "installation_repositories",
        {
            "action": "added",
            "installation": {"id": ACME},
            "repository_selection": "selected",
            "repositories_added": [{"id": 1, "full_name": "acme/new-lib"}],
            "repositories_removed": [],
        },
    )
    assert "1 repositories added" in changed
    assert ok(gh.get(f"/github-app/installations/{record['id']}"))["repository_selection"] == "selected"

    _event(github_backend, "installation", {"action": "deleted", "installation": {"id": ACME}})
    assert ok(gh.get(f"/github-app/installations/{record['id']}"))["status"] == "deleted"
    # A deleted installation stays deleted whatever arrives after it.
    _event(github_backend, "installation", {"action": "unsuspend", "installation": {"id": ACME}})
    assert ok(gh.get(f"/github-app/installations/{record['id']}"))["status"] == "deleted"
    accepted = _event(
        github_backend, "installation", {"action": "new_permissions_accepted", "installation": payload}
    )
    assert accepted.startswith("ignored")
    assert ok(gh.get(f"/github-app/installations/{record['id']}"))["status"] == "deleted"

    actions = [
        entry["action"]
        for entry in _audit(github_backend)
        if entry["resource_type"] == "github_app_installation"
    ]
    for action in ("create", "suspend", "unsuspend", "repositories", "delete"):
        assert f"github_app_installation.{action}" in actions
    assert _event(
        github_backend, "installation", {"action": "deleted", "installation": {"id": 999}}
    ).startswith("ignored")


def test_github_refusing_the_app_is_reported_without_secrets(
    gh: Api, github_backend: Backend, github: FakeGitHub, acme: dict[str, str]
) -> None:
    real_key = github.keys
    github.keys = generate_app_keys()  # GitHub now holds another public key for the app
    try:
        error = err(
            gh.post("/github-app/installations/claim", json={"installation_id": ACME}),
            502,
            "GITHUB_API_ERROR",
        )
    finally:
        github.keys = real_key
    assert "401" in error["message"]
    assert "eyJ" not in error["message"] and "PRIVATE KEY" not in error["message"]
    assert ok(gh.get("/github-app/installations")) == {"installations": []}


def test_routes_require_credentials(gh: Api) -> None:
    err(gh.get("/github-app/installations", token=None), 401, "UNAUTHORIZED")
    err(
        gh.post("/github-app/installations/claim", token=None, json={"installation_id": ACME}),
        401,
        "UNAUTHORIZED",
    )


def test_validate_reads_a_private_repository_with_the_installation_token(
    gh: Api, github: FakeGitHub, acme: dict[str, str]
) -> None:
    ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))
    gh.add_package(acme["billing"], name="acme/billing", wait=True)
    fetches_before = len([r for r in github.git_requests() if "acme/billing" in r.path and r.accepted])

    report = ok(gh.post("/packages/acme/billing/validate"))

    assert report["valid"] is True and report["refs_checked"] >= 1, report
    fetches = [r for r in github.git_requests() if "acme/billing" in r.path and r.accepted]
    assert len(fetches) > fetches_before and all(r.token in github.tokens for r in fetches)


@pytest.mark.parametrize("tenant_mode", ["single", "multi"])
def test_an_installation_created_on_github_waits_for_a_claim(
    gh: Api, github_backend: Backend, github: FakeGitHub, acme: dict[str, str], tenant_mode: str
) -> None:
    github_backend.settings.tenant_mode = tenant_mode  # type: ignore[assignment]
    try:
        _event(
            github_backend,
            "installation",
            {"action": "created", "installation": _installation_payload(github, ACME)},
        )
    finally:
        github_backend.settings.tenant_mode = "single"
    pending = ok(gh.get(f"/github-app/installations/by-github-id/{ACME}"))
    assert pending["claimed"] is False and pending["claimed_at"] is None
    err(gh.get(f"/github-app/installations/{pending['id']}/repositories"), 409, "CONFLICT")

    claimed = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))

    assert claimed["id"] == pending["id"] and claimed["claimed"] is True


def test_events_do_not_revive_an_installation_an_administrator_removed(
    gh: Api, github_backend: Backend, github: FakeGitHub, acme: dict[str, str]
) -> None:
    installation = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))
    with github_backend.runtime.unit_of_work("admin") as ctx:
        remove_installation(ctx, installation["id"])  # what removeGitHubAppInstallation does
    payload = _installation_payload(github, ACME)

    for action in ("new_permissions_accepted", "created"):
        message = _event(github_backend, "installation", {"action": action, "installation": payload})
        assert message == f"ignored: installation {ACME} was deleted"
        assert ok(gh.get(f"/github-app/installations/{installation['id']}"))["status"] == "deleted"
    err(gh.get(f"/github-app/installations/{installation['id']}/repositories"), 409, "CONFLICT")

    # Only a claim brings it back.
    revived = ok(gh.post("/github-app/installations/claim", json={"installation_id": ACME}))
    assert revived["id"] == installation["id"] and revived["status"] == "active"
