"""The cleanup task removes archive objects no version points at, once they are old enough."""

from __future__ import annotations

import os
import time

from tests.functional.conftest import Api, Backend, ok
from tests.support.gitrepo import GitRepo


def test_cleanup_deletes_old_orphans_and_keeps_referenced_and_recent_objects(
    api: Api, backend: Backend, library_repo: GitRepo
) -> None:
    api.add_package(library_repo.url)
    storage = backend.runtime.storage
    referenced = {v["dist"]["sha1"] for v in ok(api.get("/packages/acme/library"))["versions"]}
    storage.put_bytes("dist/default/acme/library/deadbeef.zip", b"left by a killed sync")
    storage.put_bytes("dist/default/acme/library/cafebabe.zip", b"a sync still running")
    old_path = storage.local_path("dist/default/acme/library/deadbeef.zip")
    assert old_path is not None
    two_hours_ago = time.time() - 7200
    os.utime(old_path, (two_hours_ago, two_hours_ago))

    task = ok(api.post("/tasks/cleanup"), 202)
    finished = api.wait_for_task(task["id"])
    assert finished["status"] == "completed"
    assert finished["result"]["orphan_archives_deleted"] == 1
    assert not storage.exists("dist/default/acme/library/deadbeef.zip")
    assert storage.exists("dist/default/acme/library/cafebabe.zip")
    # Every version still downloads, with the digest it advertises.
    package = ok(api.get("/packages/acme/library"))
    assert {v["dist"]["sha1"] for v in package["versions"]} == referenced
    for version in package["versions"]:
        assert api.get(f"/packages/acme/library/download/{version['version']}").status_code == 200
