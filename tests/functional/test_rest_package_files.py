"""REST: package files -- the stored archive of each version, listed, deleted, rebuilt by a sync."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from tests.functional.conftest import Api, Backend, err, ok
from tests.support.gitrepo import GitRepo
from tests.support.uploads import package_zip, upload
from tests.support.uploads import stored_objects as stored_in

from cargoman.composer.metadata import expand
from cargoman.db.models import AuditEntry

FILE_FIELDS = {
    "id",
    "package",
    "version",
    "version_normalized",
    "source",
    "file_name",
    "size",
    "md5",
    "sha1",
    "sha256",
    "created_at",
}


def stored_objects(backend: Backend) -> list[str]:
    return stored_in(backend.settings.storage_path)


def _files(api: Api, package: str) -> dict[str, dict[str, Any]]:
    return {f["version"]: f for f in ok(api.get(f"/packages/{package}/files", params={"per_page": 100}))}


def _p2_dists(api: Api, package: str) -> dict[str, Any]:
    response = api.composer(f"/p2/{package}.json", api.admin_token)
    assert response.status_code == 200, response.text
    return {entry["version"]: entry.get("dist") for entry in expand(response.json()["packages"][package])}


def test_files_list_every_stored_archive_with_its_digests(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    files = _files(api, "acme/library")
    # Tag 3.0.0 has a broken composer.json, so it has no version and no file.
    assert set(files) == {"1.0.0", "1.1.0", "2.0.0", "dev-main"}
    for version, item in files.items():
        assert set(item) == FILE_FIELDS
        assert item["package"] == "acme/library"
        assert item["source"] == "git"
        assert item["file_name"] == f"acme-library-{version}.zip"
        archive = api.composer(f"/dist/acme/library/{version}.zip", api.admin_token)
        assert archive.status_code == 200
        assert item["size"] == len(archive.content)
        assert item["sha1"] == hashlib.sha1(archive.content).hexdigest()
        assert item["sha256"] == hashlib.sha256(archive.content).hexdigest()
        assert item["md5"] == hashlib.md5(archive.content).hexdigest()


def test_files_are_paginated_and_unknown_packages_are_404(api: Api) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        ok(upload(api, "acme/widget", package_zip(), version=version), 201)
    response = api.get("/packages/acme/widget/files", params={"per_page": 2, "page": 2})
    assert [f["version"] for f in ok(response)] == ["1.2.0"]
    assert response.json()["pagination"] == {"page": 2, "per_page": 2, "total": 3, "total_pages": 2}
    assert all(f["source"] == "upload" for f in ok(api.get("/packages/acme/widget/files")))
    err(api.get("/packages/acme/missing/files"), 404, "NOT_FOUND")


def test_deleting_a_file_hides_the_dist_until_the_next_sync_rebuilds_it(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/library", tags=("1.0.0", "1.1.0"))
    api.add_package(repo.url)
    original = _files(api, "acme/library")["1.0.0"]
    objects_before = stored_objects(backend)

    ok(api.delete("/packages/acme/library/files/1.0.0"))
    assert len(stored_objects(backend)) == len(objects_before) - 1
    assert "1.0.0" not in _files(api, "acme/library")
    assert api.composer("/dist/acme/library/1.0.0.zip", api.admin_token).status_code == 404
    dists = _p2_dists(api, "acme/library")
    assert dists["1.0.0"] is None and dists["1.1.0"] is not None
    detail = {v["version"]: v for v in ok(api.get("/packages/acme/library"))["versions"]}
    assert detail["1.0.0"]["dist"] == {"url": None, "sha1": None, "sha256": None, "md5": None, "size": None}
    err(api.delete("/packages/acme/library/files/1.0.0"), 404, "NOT_FOUND")

    with backend.runtime.session_factory() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "version.file.delete"))
    assert (entry.actor, entry.resource_id, entry.after) == ("root", "acme/library:1.0.0", None)
    assert entry.before is not None and entry.before["sha256"] == original["sha256"]

    task = ok(api.post("/packages/acme/library/sync"), 202)
    result = api.wait_for_task(task["id"])
    assert result["status"] == "completed", result
    assert result["result"]["updated"] == ["1.0.0"]
    rebuilt = _files(api, "acme/library")["1.0.0"]
    assert rebuilt["sha256"] == original["sha256"]  # git archive of the same commit
    assert stored_objects(backend) == objects_before
    archive = api.composer("/dist/acme/library/1.0.0.zip", api.admin_token)
    assert hashlib.sha1(archive.content).hexdigest() == original["sha1"]
    assert _p2_dists(api, "acme/library")["1.0.0"]["shasum"] == original["sha1"]


def test_an_archive_shared_with_another_version_is_kept(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    # Without a broken tag on top, dev-main and 2.0.0 are the same commit and share one archive.
    repo = make_library_repo("acme/library", tags=("1.0.0", "2.0.0"))
    api.add_package(repo.url)
    objects_before = stored_objects(backend)
    ok(api.delete("/packages/acme/library/files/2.0.0"))
    assert stored_objects(backend) == objects_before
    assert api.composer("/dist/acme/library/2.0.0.zip", api.admin_token).status_code == 404
    assert api.composer("/dist/acme/library/dev-main.zip", api.admin_token).status_code == 200


def test_an_uploaded_version_whose_file_was_deleted_can_be_uploaded_again(api: Api, backend: Backend) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    ok(api.delete("/packages/acme/widget/files/1.0.0"))
    assert stored_objects(backend) == []
    assert api.composer("/dist/acme/widget/1.0.0.zip", api.admin_token).status_code == 404
    again = ok(upload(api, "acme/widget", package_zip(extra={"NEW": "x"}), version="1.0.0"), 201)
    assert again["package_created"] is False
    assert _files(api, "acme/widget")["1.0.0"]["sha256"] == again["version"]["dist"]["sha256"]
    assert api.composer("/dist/acme/widget/1.0.0.zip", api.admin_token).status_code == 200
    # Now it has a file again, so a second upload of 1.0.0 is a conflict.
    err(upload(api, "acme/widget", package_zip(), version="1.0.0"), 409, "CONFLICT")


def test_delete_file_errors(api: Api) -> None:
    err(api.delete("/packages/acme/missing/files/1.0.0"), 404, "NOT_FOUND")
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    err(api.delete("/packages/acme/widget/files/9.9.9"), 404, "NOT_FOUND")
    # Both the pretty and the normalized form name the version.
    ok(api.delete("/packages/acme/widget/files/1.0.0.0"))
