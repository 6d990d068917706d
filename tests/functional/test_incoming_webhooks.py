"""Incoming webhooks: Git providers queue syncs of the packages a repository backs, Stripe moves
customers through their lifecycle, customer tokens of scope webhook ask for syncs; every delivery
is recorded once, and a refused one changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.functional.conftest import Api, Backend, err, ok
from tests.support.git_http import GitHttpServer
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.db.models import WebhookDelivery
from cargoman.editions import EDITIONS
from cargoman.timeutil import utcnow

SECRETS = {
    "github_webhook_secret": "github-hook-secret-4b1d",
    "github_app_webhook_secret": "github-app-hook-secret-77aa",
    "gitlab_webhook_secret": "gitlab-hook-token-c0ff",
    "bitbucket_webhook_secret": "bitbucket-hook-secret-e9e9",
    "stripe_webhook_secret": "whsec_functional_0123",
}
SECRET_SETTINGS = {
    "github": "github_webhook_secret",
    "github-app": "github_app_webhook_secret",
    "gitlab": "gitlab_webhook_secret",
    "bitbucket": "bitbucket_webhook_secret",
    "stripe": "stripe_webhook_secret",
}


def _hub(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Hooks:
    """Sends deliveries signed the way each provider signs them."""

    client: Any

    def post(self, provider: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        response: httpx.Response = self.client.post(
            f"/api/webhooks/{provider}", content=body, headers={"Content-Type": "application/json", **headers}
        )
        return response

    def github(
        self,
        event: str,
        payload: dict[str, Any],
        delivery: str | None = None,
        provider: str = "github",
        secret: str | None = None,
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        key = secret or SECRETS[SECRET_SETTINGS[provider]]
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": _hub(key, body),
        }
        return self.post(provider, body, headers)

    def gitlab(
        self, event: str, payload: dict[str, Any], key: str | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": token or SECRETS["gitlab_webhook_secret"]}
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
        return self.post("gitlab", json.dumps(payload).encode(), headers)

    def bitbucket(self, event: str, payload: dict[str, Any], request_id: str | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {
            "X-Event-Key": event,
            "X-Request-UUID": request_id or str(uuid.uuid4()),
            "X-Hub-Signature": _hub(SECRETS["bitbucket_webhook_secret"], body),
        }
        return self.post("bitbucket", body, headers)

    def stripe(
        self, event_type: str, obj: dict[str, Any], event_id: str | None = None, at: int | None = None
    ) -> httpx.Response:
        event = {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        body = json.dumps(event).encode()
        timestamp = str(at if at is not None else int(time.time()))
        signature = hmac.new(
            SECRETS["stripe_webhook_secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return self.post("stripe", body, {"Stripe-Signature": f"t={timestamp},v1={signature}"})


@pytest.fixture
def hooks(api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Hooks:
    for name, value in SECRETS.items():
        monkeypatch.setattr(backend.settings, name, value)
    return Hooks(backend.client)


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "served") as server:
        yield server


@pytest.fixture
def hosted(git_server: GitHttpServer, make_library_repo: Callable[..., GitRepo]) -> Callable[..., GitRepo]:
    """Factory: a library repository served at ``{git_server.url}/{owner}/{repo}``."""

    def factory(owner: str = "acme", repo: str = "library", name: str = "acme/library") -> GitRepo:
        source = make_library_repo(name)
        target = git_server.root / owner / repo
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source.path), target)
        moved = GitRepo(target)
        moved._tick = source._tick
        return moved

    return factory


def _github_repository(server: GitHttpServer, owner: str = "Acme", repo: str = "Library") -> dict[str, Any]:
    """``repository`` as GitHub sends it, hosted on the test server (other case, other scheme)."""
    host = f"127.0.0.1:{server.port}"
    return {
        "id": 1296269,
        "name": repo,
        "full_name": f"{owner}/{repo}",
        "html_url": f"https://{host}/{owner}/{repo}",
        "clone_url": f"https://{host}/{owner}/{repo}.git",
        "ssh_url": f"git@127.0.0.1:{owner}/{repo}.git",
        "git_url": f"git://{host}/{owner}/{repo}.git",
    }


def _push(server: GitHttpServer, ref: str = "refs/tags/4.0.0", **repository: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": "a" * 40,
        "created": True,
        "deleted": False,
        "repository": repository or _github_repository(server),
        "pusher": {"name": "octocat"},
    }


def _release(repo: GitRepo, tag: str) -> None:
    repo.write(
        {"composer.json": composer_json("acme/library", license="MIT"), "src/New.php": f"<?php // {tag}\n"}
    )
    repo.commit(f"release {tag}")
    repo.tag(tag)


def _versions(api: Api, name: str = "acme/library") -> set[str]:
    return {v["version"] for v in ok(api.get(f"/packages/{name}"))["versions"]}


def _tasks(api: Api) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = ok(api.get("/tasks", params={"per_page": 100}))
    return tasks


def _deliveries(api: Api, name: str = "acme/library") -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = ok(api.get(f"/packages/{name}/webhook-deliveries"))
    return deliveries


def _delivery_rows(backend: Backend) -> int:
    from sqlalchemy import func, select

    from cargoman.db.models import WebhookDelivery

    with backend.runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)


def _add_hosted(
    api: Api, git_server: GitHttpServer, path: str = "acme/library", name: str = "acme/library"
) -> str:
    url = f"{git_server.url}/{path}"
    api.add_package(url, name=name)
    return url


# -- GitHub ----------------------------------------------------------------------------------------


def test_github_tag_push_syncs_the_new_version(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    repo = hosted()
    _add_hosted(api, git_server)
    _release(repo, "4.0.0")
    assert "4.0.0" not in _versions(api)

    data = ok(hooks.github("push", _push(git_server), delivery="d-push-1"))
    assert data["outcome"] == "queued"
    assert data["packages"] == ["acme/library"]
    assert data["delivery_id"] == "d-push-1"
    (task_id,) = data["task_ids"]
    task = api.wait_for_task(task_id)
    assert task["status"] == "completed" and task["kind"] == "sync_package"
    assert "4.0.0" in _versions(api)

    (delivery,) = _deliveries(api)
    assert delivery["provider"] == "github"
    assert delivery["event"] == "push"
    assert delivery["delivery_id"] == "d-push-1"
    assert delivery["verified"] is True
    assert delivery["outcome"] == "queued"
    assert delivery["message"] == "tag 4.0.0 pushed"
    assert delivery["task_ids"] == [task_id]


@pytest.mark.parametrize(
    "field",
    ["clone_url", "ssh_url", "git_url", "html_url", "html_url/"],
)
def test_each_spelling_of_the_repository_url_matches(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo], field: str
) -> None:
    hosted()
    _add_hosted(api, git_server)
    repository = _github_repository(git_server)
    url = repository[field.rstrip("/")] + ("/" if field.endswith("/") else "")
    data = ok(hooks.github("push", _push(git_server, full_name="Acme/Library", **{"clone_url": url})))
    assert data["outcome"] == "queued", data
    assert data["packages"] == ["acme/library"]


def test_a_repository_no_package_uses_queues_nothing(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    before = _tasks(api)
    other = _github_repository(git_server, "Acme", "Library-Extra")
    data = ok(hooks.github("push", _push(git_server, **other)))
    assert data["outcome"] == "no_match"
    assert data["task_ids"] == [] and data["packages"] == []
    assert _tasks(api) == before
    assert _deliveries(api) == []


def test_a_replayed_delivery_is_acted_on_once(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    first = ok(hooks.github("push", _push(git_server), delivery="d-replayed"))
    api.wait_for_task(first["task_ids"][0])
    tasks = _tasks(api)

    again = ok(hooks.github("push", _push(git_server), delivery="d-replayed"))
    assert again["outcome"] == "duplicate"
    assert again["task_ids"] == first["task_ids"]
    assert again["packages"] == ["acme/library"]
    assert _tasks(api) == tasks, "a replay must not queue another sync"
    assert len(_deliveries(api)) == 1
    assert _delivery_rows(backend) == 1


def test_a_signed_body_resent_under_a_new_delivery_id_is_a_replay(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    """Delivery ids travel in unsigned headers: the signed body itself identifies a replay."""
    hosted()
    _add_hosted(api, git_server)
    first = ok(hooks.github("push", _push(git_server), delivery="d-captured"))
    api.wait_for_task(first["task_ids"][0])
    tasks = _tasks(api)

    replay = ok(hooks.github("push", _push(git_server), delivery="d-made-up"))

    assert replay["outcome"] == "duplicate"
    assert replay["task_ids"] == first["task_ids"] and replay["packages"] == ["acme/library"]
    assert _tasks(api) == tasks, "a replay must not queue another sync"
    assert _delivery_rows(backend) == 1
    # Another event carrying the same body is a different delivery.
    assert ok(hooks.github("watch", _push(git_server), delivery="d-other-event"))["outcome"] == "ignored"


def test_concurrent_copies_of_one_delivery_queue_one_sync(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    """Copies racing each other: the unique delivery id lets exactly one through."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from cargoman.webhooks import intake
    from cargoman.webhooks.providers import GITHUB

    hosted()
    _add_hosted(api, git_server)
    api.wait_for_task(ok(api.post("/packages/acme/library/sync"), 202)["id"])
    tasks = _tasks(api)
    body = json.dumps(_push(git_server)).encode()
    headers = {
        "x-github-event": "push",
        "x-github-delivery": "d-raced",
        "x-hub-signature-256": _hub(SECRETS["github_webhook_secret"], body),
    }
    copies = 4
    barrier = Barrier(copies)

    def deliver(_: int) -> str:
        barrier.wait()
        result = intake.receive(backend.runtime, GITHUB, headers, body, now=time.time(), ip="127.0.0.1")
        return result.outcome

    with ThreadPoolExecutor(copies) as pool:
        outcomes = sorted(pool.map(deliver, range(copies)))
    assert outcomes == ["duplicate"] * (copies - 1) + ["queued"]
    assert _delivery_rows(backend) == 1
    new_tasks = [task for task in _tasks(api) if task not in tasks]
    assert len(new_tasks) == 1
    api.wait_for_task(new_tasks[0]["id"])


def test_a_deleted_tag_is_removed_by_the_sync(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    repo = hosted()
    _add_hosted(api, git_server)
    assert "2.0.0" in _versions(api)
    repo.delete_tag("2.0.0")
    payload = {
        "ref": "2.0.0",
        "ref_type": "tag",
        "pusher_type": "user",
        "repository": _github_repository(git_server),
    }
    data = ok(hooks.github("delete", payload))
    assert data["outcome"] == "queued"
    assert data["message"] == "tag 2.0.0 deleted"
    api.wait_for_task(data["task_ids"][0])
    assert "2.0.0" not in _versions(api)
    assert "1.1.0" in _versions(api)


def test_ping_is_recorded_on_the_package_without_a_sync(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    before = _tasks(api)
    payload = {"zen": "Design for failure.", "hook_id": 42, "repository": _github_repository(git_server)}
    data = ok(hooks.github("ping", payload, delivery="d-ping"))
    assert data["outcome"] == "ping"
    assert data["task_ids"] == []
    assert _tasks(api) == before
    (delivery,) = _deliveries(api)
    assert (delivery["event"], delivery["outcome"], delivery["delivery_id"]) == ("ping", "ping", "d-ping")


def test_unhandled_events_are_recorded_as_ignored(api: Api, hooks: Hooks, git_server: GitHttpServer) -> None:
    data = ok(hooks.github("issues", {"action": "opened", "repository": _github_repository(git_server)}))
    assert data["outcome"] == "ignored"
    assert "issues" in data["message"]
    assert _tasks(api) == []


def test_one_delivery_syncs_every_package_of_the_repository(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server, name="acme/library")
    # The same repository registered a second time, under another spelling of its URL.
    api.add_package(
        git_server.url.replace("http://", "http://ci@") + "/acme/library", name="acme/library-copy"
    )
    data = ok(hooks.github("push", _push(git_server), delivery="d-two"))
    assert data["packages"] == ["acme/library", "acme/library-copy"]
    assert len(data["task_ids"]) == 2
    for name in ("acme/library", "acme/library-copy"):
        (delivery,) = _deliveries(api, name)
        assert delivery["delivery_id"] == "d-two"
        assert sorted(delivery["task_ids"]) == sorted(data["task_ids"])
    for task_id in data["task_ids"]:
        api.wait_for_task(task_id)


# -- refusals: nothing recorded, nothing queued -----------------------------------------------------


@pytest.mark.parametrize("provider", sorted(SECRET_SETTINGS))
def test_an_unset_secret_refuses_every_delivery(
    api: Api, backend: Backend, hooks: Hooks, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setattr(backend.settings, SECRET_SETTINGS[provider], None)
    response = hooks.post(provider, b"{}", {"X-GitHub-Event": "push", "X-Gitlab-Event": "Push Hook"})
    error = err(response, 401, "UNAUTHORIZED")
    assert SECRET_SETTINGS[provider].upper() in error["message"]
    assert "not configured" in error["message"]
    assert _tasks(api) == [] and _delivery_rows(backend) == 0


def test_a_bad_signature_is_refused_and_nothing_happens(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    before = _tasks(api)
    body = json.dumps(_push(git_server)).encode()
    wrong = _hub("not-the-secret", body)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-forged", "X-Hub-Signature-256": wrong}
    error = err(hooks.post("github", body, headers), 401, "UNAUTHORIZED")
    assert "X-Hub-Signature-256 does not match" in error["message"]
    unsigned = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-unsigned"}
    assert (
        "missing X-Hub-Signature-256"
        in err(hooks.post("github", body, unsigned), 401, "UNAUTHORIZED")["message"]
    )
    assert _tasks(api) == before
    assert _delivery_rows(backend) == 0
    # The forged delivery id was not burnt: the real delivery with that id still works.
    assert ok(hooks.github("push", _push(git_server), delivery="d-forged"))["outcome"] == "queued"


@pytest.mark.parametrize(("body", "reason"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object")])
def test_a_malformed_payload_is_a_validation_error(
    api: Api, backend: Backend, hooks: Hooks, body: bytes, reason: str
) -> None:
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-malformed",
        "X-Hub-Signature-256": _hub(SECRETS["github_webhook_secret"], body),
    }
    error = err(hooks.post("github", body, headers), 400, "VALIDATION_ERROR", field="body")
    assert reason in error["message"]
    assert _delivery_rows(backend) == 0


def test_the_event_header_is_required(backend: Backend, hooks: Hooks) -> None:
    body = b"{}"
    headers = {"X-Hub-Signature-256": _hub(SECRETS["github_webhook_secret"], body)}
    err(hooks.post("github", body, headers), 400, "VALIDATION_ERROR", field="X-GitHub-Event")
    assert _delivery_rows(backend) == 0


def test_form_encoded_github_deliveries_are_read(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(_push(git_server))}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-form",
        "X-Hub-Signature-256": _hub(SECRETS["github_webhook_secret"], body),
    }
    assert ok(hooks.post("github", body, headers))["outcome"] == "queued"


# -- GitHub App, GitLab, Bitbucket -----------------------------------------------------------------


def test_github_app_push_and_published_release_sync(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    hosted()
    _add_hosted(api, git_server)
    installation = {"installation": {"id": 424242, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}}
    push = ok(hooks.github("push", {**_push(git_server), **installation}, provider="github-app"))
    assert push["outcome"] == "queued" and push["provider"] == "github-app"
    release = {
        "action": "published",
        "release": {"tag_name": "2.0.0", "draft": False},
        "repository": _github_repository(git_server),
        **installation,
    }
    published = ok(hooks.github("release", release, provider="github-app"))
    assert published["outcome"] == "queued"
    assert published["message"] == "release 2.0.0 published"
    edited = ok(hooks.github("release", {**release, "action": "edited"}, provider="github-app"))
    assert edited["outcome"] == "ignored"
    # The GitHub App's secret signs its deliveries; the repository webhook secret does not.
    err(
        hooks.github(
            "push", _push(git_server), provider="github-app", secret=SECRETS["github_webhook_secret"]
        ),
        401,
        "UNAUTHORIZED",
    )
    for task_id in {*push["task_ids"], *published["task_ids"]}:
        api.wait_for_task(task_id)


def test_github_app_installation_events_are_handed_to_the_installation_records(hooks: Hooks) -> None:
    payload = {
        "action": "created",
        "installation": {
            "id": 5550001,
            "account": {"login": "acme-org", "type": "Organization"},
            "repository_selection": "selected",
        },
        "repositories": [],
    }
    data = ok(hooks.github("installation", payload, provider="github-app", delivery="d-install"))
    assert data["outcome"] == "applied"
    assert "5550001" in data["message"]
    # A stranger may install a public app: the installation waits for an administrator's claim.
    assert data["message"].endswith("recorded (waiting to be claimed)")
    assert (
        ok(hooks.github("installation", payload, provider="github-app", delivery="d-install"))["outcome"]
        == "duplicate"
    )


def _gitlab_payload(server: GitHttpServer, ref: str, after: str = "b" * 40) -> dict[str, Any]:
    host = f"127.0.0.1:{server.port}"
    return {
        "object_kind": "tag_push",
        "event_name": "tag_push",
        "ref": ref,
        "before": "0" * 40,
        "after": after,
        "project": {
            "path_with_namespace": "acme/library",
            "web_url": f"https://{host}/acme/library",
            "git_ssh_url": "git@127.0.0.1:acme/library.git",
            "git_http_url": f"https://{host}/acme/library.git",
        },
    }


def test_gitlab_tag_push_syncs_and_the_token_is_checked(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    repo = hosted()
    _add_hosted(api, git_server)
    _release(repo, "5.0.0")
    refused = hooks.gitlab(
        "Tag Push Hook", _gitlab_payload(git_server, "refs/tags/5.0.0"), token="wrong-token"
    )
    assert "X-Gitlab-Token" in err(refused, 401, "UNAUTHORIZED")["message"]
    assert _delivery_rows(backend) == 0

    data = ok(hooks.gitlab("Tag Push Hook", _gitlab_payload(git_server, "refs/tags/5.0.0"), key="gl-key-1"))
    assert (data["outcome"], data["delivery_id"], data["message"]) == (
        "queued",
        "gl-key-1",
        "tag 5.0.0 pushed",
    )
    api.wait_for_task(data["task_ids"][0])
    assert "5.0.0" in _versions(api)
    replay = hooks.gitlab("Tag Push Hook", _gitlab_payload(git_server, "refs/tags/5.0.0"), key="gl-key-1")
    assert ok(replay)["outcome"] == "duplicate"

    repo.delete_tag("5.0.0")
    deleted = ok(
        hooks.gitlab("Tag Push Hook", _gitlab_payload(git_server, "refs/tags/5.0.0", after="0" * 40))
    )
    assert deleted["message"] == "tag 5.0.0 deleted"
    api.wait_for_task(deleted["task_ids"][0])
    assert "5.0.0" not in _versions(api)
    assert [d["provider"] for d in _deliveries(api)] == ["gitlab", "gitlab"]


def test_gitlab_events_other_than_pushes_are_ignored(hooks: Hooks, git_server: GitHttpServer) -> None:
    data = ok(hooks.gitlab("Merge Request Hook", _gitlab_payload(git_server, "refs/heads/main")))
    assert data["outcome"] == "ignored"


def test_bitbucket_push_syncs(
    api: Api, hooks: Hooks, git_server: GitHttpServer, hosted: Callable[..., GitRepo]
) -> None:
    repo = hosted()
    _add_hosted(api, git_server)
    _release(repo, "6.0.0")
    payload = {
        "actor": {"display_name": "Octo"},
        "repository": {
            "full_name": "acme/library",
            "links": {"html": {"href": f"https://127.0.0.1:{git_server.port}/acme/library"}},
        },
        "push": {"changes": [{"new": {"type": "tag", "name": "6.0.0"}, "old": None}]},
    }
    data = ok(hooks.bitbucket("repo:push", payload, request_id="bb-1"))
    assert (data["outcome"], data["delivery_id"], data["message"]) == ("queued", "bb-1", "tag 6.0.0")
    api.wait_for_task(data["task_ids"][0])
    assert "6.0.0" in _versions(api)
    assert ok(hooks.bitbucket("repo:push", payload, request_id="bb-1"))["outcome"] == "duplicate"
    body = json.dumps(payload).encode()
    tampered = {
        "X-Event-Key": "repo:push",
        "X-Hub-Signature": _hub(SECRETS["bitbucket_webhook_secret"], body + b" "),
    }
    err(hooks.post("bitbucket", body, tampered), 401, "UNAUTHORIZED")


# -- Stripe ------------------------------------------------------------------------------------------


def _stripe_customer(api: Api, external_id: str = "cus_Stripe123") -> dict[str, Any]:
    return api.create_customer("Stripe customer", external_id=external_id)


def _status(api: Api, customer: dict[str, Any]) -> tuple[str, str | None]:
    data = ok(api.get(f"/customers/{customer['id']}"))
    return data["status"], data["status_reason"]


def _subscription(status: str, customer: str = "cus_Stripe123") -> dict[str, Any]:
    return {"id": "sub_1", "object": "subscription", "customer": customer, "status": status}


def test_stripe_events_move_the_customer_through_the_lifecycle(
    api: Api, hooks: Hooks, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/library")
    api.add_package(str(repo.path), name="acme/library")
    customer = _stripe_customer(api)
    ok(
        api.post(
            f"/customers/{customer['id']}/packages", json={"package": "acme/library", "constraint": "^1.0"}
        ),
        201,
    )

    failed = ok(
        hooks.stripe(
            "invoice.payment_failed", {"id": "in_1", "object": "invoice", "customer": "cus_Stripe123"}
        )
    )
    assert failed["outcome"] == "suspended"
    assert _status(api, customer) == ("suspended", "Stripe invoice in_1: payment failed")
    refused = api.composer("/packages.json", customer["token"])
    assert refused.status_code == 403 and "payment failed" in refused.text

    assert (
        ok(hooks.stripe("invoice.paid", {"id": "in_1", "customer": "cus_Stripe123"}))["outcome"]
        == "reactivated"
    )
    assert _status(api, customer) == ("active", None)
    assert api.composer("/packages.json", customer["token"]).status_code == 200

    past_due = ok(hooks.stripe("customer.subscription.updated", _subscription("past_due")))
    assert past_due["outcome"] == "suspended"
    assert _status(api, customer) == ("suspended", "Stripe subscription sub_1: payment past due")
    assert (
        ok(hooks.stripe("customer.subscription.updated", _subscription("active")))["outcome"] == "reactivated"
    )
    assert _status(api, customer)[0] == "active"

    deleted = ok(hooks.stripe("customer.subscription.deleted", _subscription("canceled")))
    assert deleted["outcome"] == "frozen"
    frozen = ok(api.get(f"/customers/{customer['id']}"))
    assert frozen["status"] == "frozen"
    assert [(f["package"], f["version"]) for f in frozen["frozen_versions"]] == [("acme/library", "1.1.0")]
    # A paid invoice arriving after the cancellation does not revive the subscription.
    assert (
        ok(hooks.stripe("invoice.paid", {"id": "in_2", "customer": "cus_Stripe123"}))["outcome"]
        == "unchanged"
    )
    assert _status(api, customer)[0] == "frozen"


def test_deleted_subscription_expires_when_configured(
    api: Api, backend: Backend, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "stripe_subscription_deleted_action", "expire")
    customer = _stripe_customer(api)
    assert (
        ok(hooks.stripe("customer.subscription.deleted", _subscription("canceled")))["outcome"] == "expired"
    )
    assert _status(api, customer)[0] == "expired"
    assert api.composer("/packages.json", customer["token"]).status_code == 403


def test_stripe_events_for_unknown_customers_are_ignored(api: Api, hooks: Hooks) -> None:
    customer = _stripe_customer(api)
    data = ok(hooks.stripe("invoice.payment_failed", {"id": "in_1", "customer": "cus_Somebody_Else"}))
    assert data["outcome"] == "ignored"
    assert "cus_Somebody_Else" in data["message"]
    assert _status(api, customer)[0] == "active"
    assert (
        ok(hooks.stripe("charge.refunded", {"id": "ch_1", "customer": "cus_Stripe123"}))["outcome"]
        == "ignored"
    )


def test_a_stale_stripe_signature_is_refused_and_changes_nothing(
    api: Api, backend: Backend, hooks: Hooks
) -> None:
    customer = _stripe_customer(api)
    stale = int(time.time()) - backend.settings.stripe_webhook_tolerance - 60
    response = hooks.stripe("invoice.payment_failed", {"id": "in_1", "customer": "cus_Stripe123"}, at=stale)
    assert "300 seconds" in err(response, 401, "UNAUTHORIZED")["message"]
    assert _status(api, customer) == ("active", None)
    assert _delivery_rows(backend) == 0


def test_a_replayed_stripe_event_is_applied_once(api: Api, hooks: Hooks) -> None:
    customer = _stripe_customer(api)
    event = ("invoice.payment_failed", {"id": "in_1", "customer": "cus_Stripe123"}, "evt_once")
    assert ok(hooks.stripe(*event))["outcome"] == "suspended"
    ok(api.post(f"/customers/{customer['id']}/reactivate"))
    replay = ok(hooks.stripe(*event))
    assert replay["outcome"] == "duplicate"
    assert "suspended" in replay["message"]
    assert _status(api, customer)[0] == "active"


def test_stripe_events_need_an_id_type_and_object(backend: Backend, hooks: Hooks) -> None:
    body = json.dumps({"type": "invoice.paid", "data": {"object": {}}}).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(
        SECRETS["stripe_webhook_secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
    )
    response = hooks.post("stripe", body, {"Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}"})
    err(response, 400, "VALIDATION_ERROR", field="id")
    assert _delivery_rows(backend) == 0


# -- customer tokens of scope webhook ---------------------------------------------------------------


def _token(api: Api, customer: dict[str, Any], scope: str, package_scopes: list[str] | None = None) -> str:
    body: dict[str, Any] = {"name": f"{scope} token", "scope": scope}
    if package_scopes is not None:
        body["package_scopes"] = package_scopes
    created = ok(api.post(f"/customers/{customer['id']}/tokens", json=body), 201)
    token: str = created["plain_token"]
    return token


def _sync_with(api: Api, token: str | None, name: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    response: httpx.Response = api.client.post(f"/api/webhooks/packages/{name}", headers=headers)
    return response


@pytest.fixture
def ci_setup(api: Api, make_library_repo: Callable[..., GitRepo]) -> dict[str, Any]:
    """acme/library and acme/tools granted, other/secret not; a webhook token scoped to acme/lib*."""
    for name in ("acme/library", "acme/tools", "other/secret"):
        api.add_package(str(make_library_repo(name).path), name=name)
    customer = api.create_customer("CI customer")
    for name in ("acme/library", "acme/tools"):
        ok(api.post(f"/customers/{customer['id']}/packages", json={"package": name, "constraint": "*"}), 201)
    return {"customer": customer, "token": _token(api, customer, "webhook", ["acme/lib*"])}


def test_a_webhook_token_syncs_a_package_in_its_scopes(api: Api, ci_setup: dict[str, Any]) -> None:
    tasks = _tasks(api)
    data = ok(_sync_with(api, ci_setup["token"], "acme/library", key="build-17"), 202)
    assert (data["provider"], data["event"], data["outcome"]) == ("customer-token", "sync", "queued")
    assert data["packages"] == ["acme/library"]
    assert api.wait_for_task(data["task_ids"][0])["status"] == "completed"
    assert len(_tasks(api)) == len(tasks) + 1
    (delivery,) = _deliveries(api)
    assert delivery["provider"] == "customer-token" and delivery["task_ids"] == data["task_ids"]

    replay = ok(_sync_with(api, ci_setup["token"], "acme/library", key="build-17"), 202)
    assert replay["outcome"] == "duplicate" and replay["task_ids"] == data["task_ids"]
    assert len(_tasks(api)) == len(tasks) + 1


@pytest.mark.parametrize("name", ["acme/tools", "other/secret", "acme/unknown"])
def test_packages_outside_the_token_answer_as_unknown(api: Api, ci_setup: dict[str, Any], name: str) -> None:
    """Granted but outside the scopes, not granted, or not there at all: the same answer."""
    tasks = _tasks(api)
    error = err(_sync_with(api, ci_setup["token"], name), 404, "NOT_FOUND")
    assert error["message"] == f"Package {name} not found"
    assert _tasks(api) == tasks


def test_only_webhook_and_admin_tokens_of_active_customers_may_sync(
    api: Api, backend: Backend, ci_setup: dict[str, Any]
) -> None:
    customer = ci_setup["customer"]
    download = err(_sync_with(api, _token(api, customer, "download"), "acme/library"), 403, "FORBIDDEN")
    assert download["message"] == "Tokens of scope 'download' cannot request package syncs"
    err(_sync_with(api, _token(api, customer, "developer"), "acme/library"), 403, "FORBIDDEN")
    admin_scope = ok(_sync_with(api, customer["token"], "acme/tools"), 202)  # the first token: scope admin
    assert admin_scope["packages"] == ["acme/tools"]
    api.wait_for_task(admin_scope["task_ids"][0])

    err(_sync_with(api, None, "acme/library"), 401, "UNAUTHORIZED")
    err(_sync_with(api, api.admin_token, "acme/library"), 401, "UNAUTHORIZED")
    err(_sync_with(api, "tok_" + "x" * 40, "acme/library"), 401, "UNAUTHORIZED")

    ok(api.post(f"/customers/{customer['id']}/suspend", json={"reason": "unpaid"}))
    assert "suspended" in err(_sync_with(api, ci_setup["token"], "acme/library"), 403, "FORBIDDEN")["message"]
    assert _delivery_rows(backend) == 1


def test_webhook_tokens_still_cannot_download(api: Api, ci_setup: dict[str, Any]) -> None:
    assert api.composer("/packages.json", ci_setup["token"]).status_code == 403


def test_the_editions_daily_webhook_limit_refuses_further_deliveries(
    api: Api, backend: Backend, hooks: Hooks, git_server: GitHttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = EDITIONS["community"].limits.webhooks_per_day
    assert backend.settings.edition == "community" and limit == 10
    customer = _stripe_customer(api)
    repository = _github_repository(git_server)
    for hook_id in range(limit):
        assert ok(hooks.github("ping", {"hook_id": hook_id, "repository": repository}))
    rows = _delivery_rows(backend)

    refused = hooks.github("ping", {"zen": "One too many.", "repository": repository})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert "10 webhook deliveries a day" in refused.json()["error"]["message"]
    assert _delivery_rows(backend) == rows and _tasks(api) == []

    # Billing events keep customers' access right whatever the Git providers sent.
    assert ok(hooks.stripe("invoice.payment_failed", {"id": "in_1", "customer": "cus_Stripe123"}))
    assert _status(api, customer)[0] == "suspended"

    # Deliveries older than a day no longer count; Enterprise has no limit.
    with backend.runtime.session_factory.begin() as session:
        session.execute(update(WebhookDelivery).values(created_at=utcnow() - timedelta(days=1, seconds=1)))
    assert ok(hooks.github("ping", {"zen": "A new day.", "repository": repository}))
    monkeypatch.setattr(backend.settings, "edition", "enterprise")
    for hook_id in range(limit + 1):
        assert ok(hooks.github("ping", {"hook_id": 100 + hook_id, "repository": repository}))
