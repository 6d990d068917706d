"""A server killed in the middle of a sync: the task completes after a restart, and no reader ever
sees a version whose archive is missing or half written.

The sync task is running (archives being built and stored) when the whole server process group gets
SIGKILL. After the restart the task's heartbeat is stale (TASK_STALE_AFTER is 2 s here), a worker
takes it up again and finishes it. Meanwhile a poller reads the package through the REST API the
whole time and downloads every listed version, checking the bytes against the listed SHA-1.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

PACKAGE = "acme/big"
TAGS = [f"1.{minor}.0" for minor in range(60)]
# Incompressible filler makes every archive cost real work, so the sync runs for seconds.
FILLER = os.urandom(1024 * 1024)
DEADLINE = 120.0


def _build_repo(repo: GitRepo) -> None:
    repo.write({"composer.json": composer_json(PACKAGE), "data/filler.bin": FILLER})
    for tag in TAGS:
        repo.write({"src/Version.php": f"<?php // {tag}\n"})
        repo.commit(f"release {tag}")
        repo.tag(tag)


class ArchivePoller:
    """Reads the package over and over; records every listed version whose archive does not match."""

    def __init__(self, server: RegistryServer) -> None:
        self.server = server
        self.verified: dict[tuple[str, str], bool] = {}
        self.problems: list[str] = []
        self.polls_with_answer = 0
        self.max_versions_seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._admin_download: bool | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            # While the server is down (killed, restarting) nothing is visible, so nothing to check.
            with contextlib.suppress(httpx.TransportError):
                self.check_once()
            self._stop.wait(0.05)

    def _uses_admin_download(self) -> bool:
        """The REST admin download when this build has it, else the Composer dist URL."""
        if self._admin_download is None:
            paths = self.server.request("GET", "/openapi.json").json()["paths"]
            self._admin_download = "/api/v1/packages/{vendor}/{name}/download/{version}" in paths
        return self._admin_download

    def _archive(self, version: dict[str, Any]) -> httpx.Response:
        if self._uses_admin_download():
            return self.server.api(
                "GET", f"/packages/{PACKAGE}/download/{quote(version['version'], safe='')}"
            )
        return self.server.request(
            "GET",
            f"/dist/{PACKAGE}/{quote(version['version'], safe='')}.zip",
            basic_token=self.server.admin_token,
        )

    def check_once(self) -> None:
        response = self.server.api("GET", f"/packages/{PACKAGE}", timeout=10)
        if response.status_code != 200:
            self.problems.append(f"GET package answered {response.status_code}: {response.text[:200]}")
            return
        versions = response.json()["data"]["versions"]
        self.polls_with_answer += 1
        self.max_versions_seen = max(self.max_versions_seen, len(versions))
        for version in versions:
            sha1 = version["dist"]["sha1"]
            if not sha1:
                self.problems.append(f"{version['version']} is listed without a dist sha1")
                continue
            key = (version["version"], sha1)
            if key in self.verified:
                continue
            archive = self._archive(version)
            if archive.status_code != 200:
                self.problems.append(f"{version['version']}: archive answered {archive.status_code}")
            elif hashlib.sha1(archive.content).hexdigest() != sha1:
                self.problems.append(f"{version['version']}: archive bytes do not hash to {sha1}")
            self.verified[key] = True


def _task(server: RegistryServer, task_id: str) -> dict[str, Any]:
    response = server.api("GET", f"/tasks/{task_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _stored_archives(server: RegistryServer) -> list[Path]:
    return (
        list((server.storage_path / "dist").rglob("*.zip")) if (server.storage_path / "dist").exists() else []
    )


def test_sync_killed_midway_completes_after_restart_without_half_written_versions(
    start_registry: Callable[..., RegistryServer], make_git_repo: Callable[..., GitRepo]
) -> None:
    repo = make_git_repo("big")
    _build_repo(repo)
    server = start_registry(env={"TASK_STALE_AFTER": "2", "TASK_NUM_WORKERS": "1"})
    created = server.api("POST", "/packages", json={"repository_url": str(repo.path), "name": PACKAGE})
    assert created.status_code == 201, created.text
    task_id = created.json()["data"]["sync_task"]["id"]
    poller = ArchivePoller(server)
    poller.start()
    try:
        # Kill while the task runs and has stored some, but not all, of its archives.
        deadline = time.monotonic() + DEADLINE
        while not (_task(server, task_id)["status"] == "running" and _stored_archives(server)):
            assert _task(server, task_id)["status"] in ("pending", "running"), _task(server, task_id)
            assert time.monotonic() < deadline, "the sync never got to storing archives"
            time.sleep(0.01)
        server.kill()
        assert 0 < len(_stored_archives(server)) < len(TAGS) + 1, "killed too late: the sync had finished"

        server.restart()
        deadline = time.monotonic() + DEADLINE
        while (task := _task(server, task_id))["status"] != "completed":
            assert task["status"] in ("pending", "running"), task
            assert time.monotonic() < deadline, f"the sync did not complete after the restart: {task}"
            time.sleep(0.1)
        assert task["attempts"] == 2, task  # claimed before the crash, and again after it
        assert task["error"] is None
    finally:
        poller.stop()

    # One last full pass now that everything is in place.
    poller.check_once()
    assert poller.problems == []
    package = server.api("GET", f"/packages/{PACKAGE}").json()["data"]
    listed = {v["version"] for v in package["versions"]}
    assert listed == {*TAGS, "dev-main"}
    assert package["sync_status"] == "ready"
    assert {version for version, _ in poller.verified} == listed
    assert poller.polls_with_answer > 1
