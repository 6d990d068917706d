"""GraphQL subscriptions end to end: the npm graphql-ws client against a real server process.

packageSynced arrives within 1 s of the sync task's end (its ``finished_at``), filtered by name;
customerActivity reports a real Composer download and a suspension, filtered by customer.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.server import RegistryServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

JS_DIR = Path(__file__).resolve().parents[1] / "js"
EVENT_DEADLINE = 20.0  # how long to wait for an event at all; timeliness is asserted separately

SYNCED = """subscription($name: String) {
  packageSynced(name: $name) { package status versionsAdded versionsRemoved error taskId syncedAt }
}"""
ACTIVITY = """subscription($customerId: ID) {
  customerActivity(customerId: $customerId) { customerId kind packageName version tokenId status }
}"""


class SubscriptionClient:
    """``node tests/js/subscribe.mjs``: one graphql-ws connection; its JSON lines, read on a thread."""

    def __init__(self, server: RegistryServer, token: str, subscriptions: dict[str, dict[str, Any]]) -> None:
        config = {
            "url": f"ws://127.0.0.1:{server.port}/graphql",
            "token": token,
            "subscriptions": subscriptions,
        }
        self.process = subprocess.Popen(
            ["node", str(JS_DIR / "subscribe.mjs"), json.dumps(config)],
            cwd=JS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.pending: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def expect(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The first line ``wanted`` accepts; lines passed over stay for later calls, in order."""
        for index, line in enumerate(self.pending):
            if wanted(line):
                return self.pending.pop(index)
        deadline = time.monotonic() + EVENT_DEADLINE
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                stderr = self.stop()
                raise AssertionError(
                    f"no {what} within {EVENT_DEADLINE} s; got {self.pending}; stderr: {stderr}"
                ) from None
            if wanted(line):
                return line
            self.pending.append(line)

    def event(self, name: str) -> tuple[dict[str, Any], float]:
        """The next event of subscription ``name``: its data and when it arrived (epoch seconds)."""
        line = self.expect(lambda line: line["type"] in ("next", "error") and line.get("name") == name, name)
        assert line["type"] == "next", line
        data: dict[str, Any] = line["payload"]["data"]
        return data, line["at"]

    def stop(self) -> str:
        """Close stdin (the client disposes of its connection and exits); its stderr."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        assert self.process.stderr is not None
        return self.process.stderr.read()


@pytest.fixture
def clients() -> Iterator[Callable[..., SubscriptionClient]]:
    started: list[SubscriptionClient] = []

    def start(
        server: RegistryServer, token: str, subscriptions: dict[str, dict[str, Any]]
    ) -> SubscriptionClient:
        client = SubscriptionClient(server, token, subscriptions)
        started.append(client)
        return client

    yield start
    for client in started:
        client.stop()


def _data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _release(repo: GitRepo, name: str, tag: str) -> None:
    repo.write({"composer.json": composer_json(name), "src/Version.php": f"<?php // {tag}\n"})
    repo.commit(f"release {tag}")
    repo.tag(tag)


def _add_package(server: RegistryServer, repo: GitRepo) -> None:
    created = _data(server.api("POST", "/packages", json={"repository_url": str(repo.path)}), 201)
    server.wait_task(created["sync_task"]["id"])


def _sync(server: RegistryServer, name: str) -> dict[str, Any]:
    task = _data(server.api("POST", f"/packages/{name}/sync"), 202)
    finished: dict[str, Any] = server.wait_task(task["id"])
    return finished


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@pytest.fixture
def registry(
    start_registry: Callable[..., RegistryServer], make_git_repo: Callable[..., GitRepo]
) -> tuple[RegistryServer, GitRepo]:
    if shutil.which("node") is None or not (JS_DIR / "node_modules" / "graphql-ws").is_dir():
        pytest.fail("node and `npm ci --prefix tests/js` are required")
    server = start_registry(env={"EDITION": "pro"})
    library = make_git_repo("acme-library")
    _release(library, "acme/library", "1.0.0")
    other = make_git_repo("acme-other")
    _release(other, "acme/other", "1.0.0")
    _add_package(server, library)
    _add_package(server, other)
    return server, library


def test_package_synced_arrives_within_one_second_of_the_sync_end(
    registry: tuple[RegistryServer, GitRepo], clients: Callable[..., SubscriptionClient]
) -> None:
    server, library = registry
    client = clients(
        server,
        server.admin_token,
        {
            "library": {"query": SYNCED, "variables": {"name": "acme/library"}},
            "all": {"query": SYNCED},
        },
    )
    client.expect(lambda line: line["type"] == "ready", "ready")

    other_task = _sync(server, "acme/other")
    _release(library, "acme/library", "1.1.0")
    library_task = _sync(server, "acme/library")

    data, arrived = client.event("library")
    event = data["packageSynced"]
    # The other package's sync ended first, yet the filtered subscription's first event is its own.
    assert event == {
        "package": "acme/library",
        "status": "SUCCEEDED",
        "versionsAdded": ["1.1.0"],
        "versionsRemoved": [],
        "error": None,
        "taskId": library_task["id"],
        "syncedAt": library_task["finished_at"],
    }
    finished = _epoch(library_task["finished_at"])
    print(f"packageSynced arrived {arrived - finished:.3f} s after the sync task finished")
    assert arrived - finished <= 1.0, f"packageSynced arrived {arrived - finished:.3f} s after the sync ended"

    unfiltered = [client.event("all")[0]["packageSynced"] for _ in range(2)]
    assert [(e["package"], e["taskId"]) for e in unfiltered] == [
        ("acme/other", other_task["id"]),
        ("acme/library", library_task["id"]),
    ]


def test_customer_activity_reports_a_composer_download_and_a_suspension(
    registry: tuple[RegistryServer, GitRepo], clients: Callable[..., SubscriptionClient], tmp_path: Path
) -> None:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    server, _ = registry
    customers = {}
    for name in ("Alice", "Bob"):
        customer = _data(server.api("POST", "/customers", json={"name": name}), 201)
        grant = {"package": "acme/library", "constraint": "*"}
        _data(server.api("POST", f"/customers/{customer['id']}/packages", json=grant), 201)
        customers[name] = customer
    alice, bob = customers["Alice"], customers["Bob"]
    client = clients(
        server, server.admin_token, {"alice": {"query": ACTIVITY, "variables": {"customerId": alice["id"]}}}
    )
    client.expect(lambda line: line["type"] == "ready", "ready")

    # Bob downloads first: his activity must never reach Alice's subscription.
    bob_download = server.request("GET", "/dist/acme/library/1.0.0.zip", basic_token=bob["token"])
    assert bob_download.status_code == 200
    project = ComposerProject(tmp_path / "alice", server.url, alice["token"])
    installed = project.require("acme/library:^1.0")
    assert installed.returncode == 0, describe(installed)

    kinds: dict[str, dict[str, Any]] = {}
    while not {"DOWNLOAD", "TOKEN_USED"} <= set(kinds):
        activity = client.event("alice")[0]["customerActivity"]
        assert activity["customerId"] == alice["id"], activity
        kinds[activity["kind"]] = activity
    assert (kinds["DOWNLOAD"]["packageName"], kinds["DOWNLOAD"]["version"]) == ("acme/library", "1.0.0")
    assert kinds["DOWNLOAD"]["tokenId"] == kinds["TOKEN_USED"]["tokenId"] is not None

    _data(server.api("POST", f"/customers/{bob['id']}/suspend", json={}))
    _data(server.api("POST", f"/customers/{alice['id']}/suspend", json={"reason": "unpaid"}))
    while True:
        activity = client.event("alice")[0]["customerActivity"]
        assert activity["customerId"] == alice["id"], activity  # never Bob's suspension
        if activity["kind"] == "STATUS_CHANGED":
            break
    assert activity["status"] == "SUSPENDED"


def test_customer_tokens_cannot_subscribe(
    registry: tuple[RegistryServer, GitRepo], clients: Callable[..., SubscriptionClient]
) -> None:
    server, _ = registry
    customer = _data(server.api("POST", "/customers", json={"name": "Mallory"}), 201)
    client = clients(server, customer["token"], {"synced": {"query": SYNCED}})
    closed = client.expect(lambda line: line["type"] == "closed", "close")
    assert closed["code"] == 4403 and closed["reason"].startswith("FORBIDDEN"), closed
