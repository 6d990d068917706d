"""GraphQL webhooks against a real server process: a real sync triggers the stored query, whose signed
result reaches a local receiver; failures are retried and recorded; a revoked creator stops them.

One server (enterprise edition, loopback targets allowed, 3 attempts, 0.2 s retry base) serves the
module; each test registers its own webhooks and receiver and deletes the webhooks afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.server import RegistryServer
from tests.support.webhook_receiver import ReceivedRequest, WebhookReceiver

from cargoman.graphql_webhooks import signing

pytestmark = pytest.mark.e2e

DEADLINE = 60.0
RETRY_BASE_SECONDS = 0.2
MAX_ATTEMPTS = 3
PACKAGE_QUERY = """
query($packageName: String!) {
  package(name: $packageName) { name syncStatus versions { version reference } }
  stats { packages }
}
"""
CREATE = """
mutation($config: WebhookInput!) { createWebhook(config: $config) { id secret events } }
"""
WEBHOOK = """
query($id: ID!) {
  webhook(id: $id) {
    active disabledReason
    deliveries(first: 20) {
      totalCount
      edges { node {
        eventId event attempt status requestUrl requestHeaders requestBody
        responseStatus responseBody error nextAttemptAt
      } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    env = {
        "EDITION": "enterprise",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "WEBHOOK_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
        "TASK_NUM_WORKERS": "2",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    running = RegistryServer(tmp_path_factory.mktemp("graphql-webhooks-e2e"), env=env)
    with running:
        try:
            yield running
        finally:
            print(running.log_tail())


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def webhooks(server: RegistryServer) -> Iterator[Callable[..., dict[str, Any]]]:
    """Factory: create a webhook (with the admin token unless ``token=``); deleted after the test."""
    created: list[str] = []

    def create(url: str, query: str, token: str | None = None) -> dict[str, Any]:
        config = {"url": url, "events": ["PACKAGE_SYNCED"], "query": query}
        hook: dict[str, Any] = graphql(server, CREATE, {"config": config}, token)["createWebhook"]
        created.append(hook["id"])
        return hook

    yield create
    for webhook_id in created:
        graphql(server, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": webhook_id})


def graphql(
    server: RegistryServer, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    response = server.request(
        "POST", "/graphql", bearer=token or server.admin_token, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def api_data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def release_repo(tmp_path: Path, name: str, tags: tuple[str, ...]) -> GitRepo:
    repo = GitRepo.init(tmp_path / name.replace("/", "-"))
    for tag in tags:
        repo.write({"composer.json": composer_json(name), "src/Lib.php": f"<?php // {tag}\n"})
        repo.commit(f"release {tag}")
        repo.tag(tag)
    return repo


def add_package(server: RegistryServer, repo: GitRepo) -> None:
    created = api_data(server.api("POST", "/packages", json={"repository_url": str(repo.path)}), 201)
    server.wait_task(created["sync_task"]["id"])


def sync(server: RegistryServer, name: str) -> None:
    task = api_data(server.api("POST", f"/packages/{name}/sync"), 202)
    server.wait_task(task["id"])


def webhook_state(server: RegistryServer, webhook_id: str) -> dict[str, Any]:
    state: dict[str, Any] = graphql(server, WEBHOOK, {"id": webhook_id})["webhook"]
    return state


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def deliveries_settled(server: RegistryServer) -> bool:
    """No delivery task waits or runs (a retry not yet due counts as waiting)."""
    for status in ("pending", "running"):
        tasks = api_data(server.api("GET", f"/tasks?status={status}&per_page=100"))
        if any(task["kind"] == "graphql_webhook_delivery" for task in tasks):
            return False
    return True


def assert_signed(request: ReceivedRequest, secret: str) -> None:
    headers = request.headers
    assert headers["x-cargoman-event"] == "PACKAGE_SYNCED"
    assert signing.verify(
        secret, headers["x-cargoman-timestamp"], request.body, headers["x-cargoman-signature"]
    )


def test_a_real_sync_delivers_the_signed_query_result(
    server: RegistryServer,
    receiver: WebhookReceiver,
    webhooks: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    hook = webhooks(receiver.url, PACKAGE_QUERY)
    repo = release_repo(tmp_path, "acme/webhooked", ("1.0.0", "1.2.0"))
    add_package(server, repo)

    [request] = receiver.wait_for(1, timeout=DEADLINE)
    assert_signed(request, hook["secret"])
    payload = json.loads(request.body)
    assert "errors" not in payload, payload
    package = payload["data"]["package"]
    assert package["name"] == "acme/webhooked"
    assert package["syncStatus"] == "READY"
    assert [v["version"] for v in package["versions"]] == ["1.2.0", "1.0.0", "dev-main"]
    assert package["versions"][0]["reference"] == repo.rev_parse("1.2.0")

    state = wait_until(
        lambda: (found := webhook_state(server, hook["id"]))["deliveries"]["totalCount"] == 1 and found,
        "the delivery record",
    )
    record = state["deliveries"]["edges"][0]["node"]
    assert (record["event"], record["attempt"], record["status"]) == ("PACKAGE_SYNCED", 1, "DELIVERED")
    assert record["eventId"] == request.headers["x-cargoman-delivery"]
    assert record["requestUrl"] == receiver.url
    assert record["requestBody"].encode() == request.body
    sent = dict(header.split(": ", 1) for header in record["requestHeaders"])
    for name in ("X-Cargoman-Signature", "X-Cargoman-Timestamp", "X-Cargoman-Delivery", "X-Cargoman-Event"):
        assert sent[name] == request.headers[name.lower()]
    assert (record["responseStatus"], record["responseBody"]) == (200, '{"received":true}')
    assert hook["secret"] not in json.dumps(state)


def test_a_failing_receiver_gets_each_retry_recorded(
    server: RegistryServer,
    receiver: WebhookReceiver,
    webhooks: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    receiver.status, receiver.body = 500, b'{"error":"down"}'
    add_package(server, release_repo(tmp_path, "acme/flaky", ("1.0.0",)))
    hook = webhooks(receiver.url, PACKAGE_QUERY)
    sync(server, "acme/flaky")

    requests = receiver.wait_for(MAX_ATTEMPTS, timeout=DEADLINE)
    # Exponential backoff: each retry waits at least base * 2^(attempt-1) after the failed attempt.
    gaps = [later.received_at - earlier.received_at for earlier, later in pairwise(requests)]
    assert gaps[0] >= RETRY_BASE_SECONDS and gaps[1] >= 2 * RETRY_BASE_SECONDS, gaps
    for request in requests:
        assert_signed(request, hook["secret"])
        assert json.loads(request.body)["data"]["package"]["name"] == "acme/flaky"
    assert len({request.headers["x-cargoman-delivery"] for request in requests}) == 1
    wait_until(lambda: deliveries_settled(server), "the retries to end")
    assert len(receiver.requests) == MAX_ATTEMPTS

    records = [edge["node"] for edge in webhook_state(server, hook["id"])["deliveries"]["edges"]]
    assert [record["attempt"] for record in records] == [3, 2, 1]
    assert {record["status"] for record in records} == {"FAILED"}
    assert {(record["responseStatus"], record["responseBody"]) for record in records} == {
        (500, '{"error":"down"}')
    }
    assert records[0]["nextAttemptAt"] is None
    assert all(record["nextAttemptAt"] is not None for record in records[1:])
    # What each attempt sent is what the receiver got (oldest attempt first).
    for record, request in zip(reversed(records), requests, strict=True):
        assert record["requestBody"].encode() == request.body
        sent = dict(header.split(": ", 1) for header in record["requestHeaders"])
        assert sent["X-Cargoman-Signature"] == request.headers["x-cargoman-signature"]


def test_a_webhook_whose_creator_is_revoked_stops(
    server: RegistryServer,
    receiver: WebhookReceiver,
    webhooks: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    add_package(server, release_repo(tmp_path, "acme/watched", ("1.0.0",)))
    team = api_data(server.api("GET", "/team/credentials"))
    if not team:
        api_data(server.api("POST", "/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    created = api_data(server.api("POST", "/team/credentials", json={"name": "CI", "level": "admin"}), 201)
    hook = webhooks(receiver.url, PACKAGE_QUERY, token=created["plain_token"])

    sync(server, "acme/watched")
    [first] = receiver.wait_for(1, timeout=DEADLINE)
    assert_signed(first, hook["secret"])
    wait_until(lambda: deliveries_settled(server), "the first delivery")

    api_data(server.api("DELETE", f"/team/credentials/{created['credential']['id']}"))
    sync(server, "acme/watched")
    state = wait_until(
        lambda: not (found := webhook_state(server, hook["id"]))["active"] and found, "the webhook to stop"
    )
    assert "revoked" in state["disabledReason"]
    wait_until(lambda: deliveries_settled(server), "the refused delivery")
    sync(server, "acme/watched")
    wait_until(lambda: deliveries_settled(server), "the dispatcher")
    assert len(receiver.requests) == 1
    assert webhook_state(server, hook["id"])["deliveries"]["totalCount"] == 1
