"""A real server takes signed webhooks: a GitHub tag push makes the new release installable with the
real composer client, and Stripe's payment failure locks the customer's composer out (403)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe, urls_with_status
from tests.support.git_http import GitHttpServer
from tests.support.gitrepo import GitRepo, composer_json, release_repo
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

GITHUB_SECRET = "e2e-github-webhook-secret"
STRIPE_SECRET = "whsec_e2e_stripe_secret"


@dataclass
class Setup:
    server: RegistryServer
    git: GitHttpServer
    repo: GitRepo


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    base = tmp_path_factory.mktemp("webhooks-e2e")
    repo = release_repo(base / "served" / "acme" / "lib", "acme/lib", ["v1.0.0"])
    env = {"GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET}
    with GitHttpServer(base / "served") as git:
        server = RegistryServer(base / "server", env=env).start()
        try:
            created = server.api(
                "POST", "/packages", json={"repository_url": f"{git.url}/acme/lib", "name": "acme/lib"}
            )
            assert created.status_code == 201, created.text
            server.wait_task(created.json()["data"]["sync_task"]["id"])
            yield Setup(server, git, repo)
        finally:
            server.stop()


def _customer(server: RegistryServer, external_id: str | None = None) -> tuple[str, str]:
    body: dict[str, Any] = {"name": "Webhook e2e customer"}
    if external_id is not None:
        body["external_id"] = external_id
    created = server.api("POST", "/customers", json=body)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    granted = server.api(
        "POST", f"/customers/{data['id']}/packages", json={"package": "acme/lib", "constraint": "*"}
    )
    assert granted.status_code == 201, granted.text
    return data["id"], data["token"]


def _post_github(server: RegistryServer, event: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/e2e",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    return server.request("POST", "/api/webhooks/github", content=body, headers=headers)


def _post_stripe(server: RegistryServer, event_type: str, obj: dict[str, Any]) -> httpx.Response:
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": event_type, "data": {"object": obj}}
    body = json.dumps(event).encode()
    timestamp = str(int(time.time()))
    v1 = hmac.new(STRIPE_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={v1}"}
    return server.request("POST", "/api/webhooks/stripe", content=body, headers=headers)


def test_a_signed_github_tag_push_makes_the_new_release_installable(setup: Setup, tmp_path: Path) -> None:
    _, token = _customer(setup.server)
    setup.repo.write(
        {
            "composer.json": composer_json(
                "acme/lib", description="acme/lib library", autoload={"psr-4": {"Acme\\Lib\\": "src/"}}
            ),
            "src/Version.php": "<?php\nnamespace Acme\\Lib;\nconst VERSION = 'v1.1.0';\n",
        }
    )
    after = setup.repo.commit("release v1.1.0")
    setup.repo.tag("v1.1.0")

    host = f"127.0.0.1:{setup.git.port}"
    payload = {
        "ref": "refs/tags/v1.1.0",
        "before": "0" * 40,
        "after": after,
        "created": True,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "commits": [],
        "head_commit": None,
        "repository": {
            "id": 1296269,
            "name": "Lib",
            "full_name": "Acme/Lib",
            "private": True,
            # Spellings the registry never saw: https instead of http, other case, .git, ssh.
            "html_url": f"https://{host}/Acme/Lib",
            "clone_url": f"https://{host}/Acme/Lib.git",
            "ssh_url": "git@127.0.0.1:Acme/Lib.git",
        },
        "pusher": {"name": "octocat", "email": "octocat@example.com"},
        "sender": {"login": "octocat"},
    }
    answered = _post_github(setup.server, "push", payload)
    assert answered.status_code == 200, answered.text
    data = answered.json()["data"]
    assert data["outcome"] == "queued", data
    assert data["packages"] == ["acme/lib"]
    (task_id,) = data["task_ids"]
    setup.server.wait_task(task_id)

    project = ComposerProject(tmp_path / "project", setup.server.url, token)
    result = project.require("acme/lib:^1.1")
    assert result.returncode == 0, describe(result)
    assert project.installed() == {"acme/lib": "1.1.0"}
    assert "v1.1.0" in (project.vendor_dir / "acme/lib/src/Version.php").read_text()

    (delivery,) = setup.server.api("GET", "/packages/acme/lib/webhook-deliveries").json()["data"]
    assert (delivery["provider"], delivery["event"], delivery["outcome"]) == ("github", "push", "queued")
    assert delivery["task_ids"] == [task_id]


def test_a_stripe_payment_failure_locks_composer_out(setup: Setup, tmp_path: Path) -> None:
    customer_id, token = _customer(setup.server, external_id="cus_E2E_webhook")
    project = ComposerProject(tmp_path / "project", setup.server.url, token)
    first = project.require("acme/lib:^1.0")
    assert first.returncode == 0, describe(first)

    failed = _post_stripe(
        setup.server, "invoice.payment_failed", {"id": "in_e2e", "customer": "cus_E2E_webhook"}
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["data"]["outcome"] == "suspended"

    project.remove_vendor(lock=True)
    project.clear_cache()
    refused = project.update(verbose=True)
    assert refused.returncode != 0, describe(refused)
    assert urls_with_status(refused, 403), describe(refused)
    direct = setup.server.request("GET", "/packages.json", basic_token=token)
    assert direct.status_code == 403
    assert "Stripe invoice in_e2e: payment failed" in direct.json()["error"]["message"]

    paid = _post_stripe(setup.server, "invoice.paid", {"id": "in_e2e", "customer": "cus_E2E_webhook"})
    assert paid.json()["data"]["outcome"] == "reactivated", paid.text
    again = project.update()
    assert again.returncode == 0, describe(again)
    customer = setup.server.api("GET", f"/customers/{customer_id}").json()["data"]
    assert customer["status"] == "active"
