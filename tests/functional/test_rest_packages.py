"""REST: packages -- add from Git (sync task), list, get, sync, delete, yank/unyank, and GET /tasks/{id}."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.functional.conftest import (
    ADMIN_TOKEN,
    Api,
    Backend,
    err,
    ok,
    p2_versions,
)
from tests.support.gitrepo import GitRepo, composer_json

PACKAGE_FIELDS = {
    "id",
    "name",
    "repository_url",
    "type",
    "description",
    "sync_status",
    "sync_error",
    "last_synced_at",
    "created_at",
    "updated_at",
}
TASK_FIELDS = {
    "id",
    "kind",
    "status",
    "attempts",
    "max_attempts",
    "payload",
    "result",
    "error",
    "run_after",
    "created_at",
    "started_at",
    "finished_at",
}


def _package_names(api: Api) -> list[str]:
    return [p["name"] for p in ok(api.get("/packages", params={"per_page": 100}))]


# -- happy paths ----------------------------------------------------------------------------------


def test_add_package_reads_its_name_and_the_sync_task_stores_versions(
    api: Api, library_repo: GitRepo
) -> None:
    created = ok(api.post("/packages", json={"repository_url": library_repo.url}), 201)
    assert set(created) == PACKAGE_FIELDS | {"sync_task"}
    assert created["id"].startswith("pkg_")
    assert created["name"] == "acme/library"  # read from composer.json
    assert created["repository_url"] == library_repo.url
    assert created["type"] == "git"
    assert created["sync_status"] == "pending"
    task = created["sync_task"]
    assert set(task) == TASK_FIELDS
    assert task["kind"] == "sync_package"
    assert task["payload"]["package"] == "acme/library"
    assert task["payload"]["package_id"] == created["id"]

    finished = api.wait_for_task(task["id"])
    assert finished["status"] == "completed", finished
    assert finished["error"] is None
    assert finished["attempts"] == 1
    assert finished["finished_at"] is not None
    assert sorted(finished["result"]["added"]) == ["1.0.0", "1.1.0", "2.0.0", "dev-main"]
    assert finished["result"]["warnings"] == 1
    assert ok(api.get(f"/tasks/{task['id']}")) == finished

    package = ok(api.get("/packages/acme/library"))
    assert set(package) == PACKAGE_FIELDS | {"default_branch", "sync_warnings", "versions"}
    assert package["sync_status"] == "ready"
    assert package["sync_error"] is None
    assert package["last_synced_at"] is not None
    assert package["default_branch"] == "main"
    assert package["description"] == "acme/library library"
    assert [v["version"] for v in package["versions"]] == ["2.0.0", "1.1.0", "1.0.0", "dev-main"]

    for version in package["versions"]:
        is_branch = version["version"] == "dev-main"
        assert version["kind"] == ("branch" if is_branch else "tag")
        assert version["ref_name"] == ("main" if is_branch else version["version"])
        assert version["reference"] == library_repo.rev_parse(version["ref_name"])
        assert version["yanked"] is False
        assert version["composer"] == {"description": "acme/library library", "license": "MIT"}
        dist = version["dist"]
        assert dist["url"] == f"http://testserver/dist/acme/library/{version['version']}.zip"
        # The archive served is the one the hashes describe.
        archive = api.composer(dist["url"].removeprefix("http://testserver"), ADMIN_TOKEN)
        assert archive.status_code == 200, archive.text
        body = archive.content
        assert dist["size"] == len(body) > 0
        assert dist["sha1"] == hashlib.sha1(body).hexdigest()
        assert dist["sha256"] == hashlib.sha256(body).hexdigest()
        assert dist["md5"] == hashlib.md5(body).hexdigest()
    assert package["versions"][0]["version_normalized"] == "2.0.0.0"

    (warning,) = package["sync_warnings"]
    assert warning["ref"] == "3.0.0"
    assert warning["kind"] == "tag"
    assert warning["reference"] == library_repo.rev_parse("3.0.0")
    assert "composer.json" in warning["message"]


def test_add_package_with_explicit_name_and_list_packages(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    widget = make_library_repo("acme/widget", tags=("1.0.0",))
    anvil = make_library_repo("acme/anvil", tags=("0.1.0",))
    first = api.add_package(widget.url, name="Acme/Widget")
    assert first["name"] == "acme/widget"
    second = ok(api.post("/packages", json={"repository_url": anvil.url, "type": "github"}), 201)
    assert second["type"] == "github"
    assert api.wait_for_task(second["sync_task"]["id"])["status"] == "completed"

    listed = api.get("/packages").json()
    assert listed["error"] is None
    assert listed["pagination"] == {"page": 1, "per_page": 20, "total": 2, "total_pages": 1}
    assert [p["name"] for p in listed["data"]] == ["acme/anvil", "acme/widget"]  # by name
    assert all(set(p) == PACKAGE_FIELDS for p in listed["data"])
    assert {p["sync_status"] for p in listed["data"]} == {"ready"}

    page2 = api.get("/packages", params={"page": 2, "per_page": 1}).json()
    assert page2["pagination"] == {"page": 2, "per_page": 1, "total": 2, "total_pages": 2}
    assert [p["name"] for p in page2["data"]] == ["acme/widget"]
    assert [v["version"] for v in ok(api.get("/packages/acme/widget"))["versions"]] == ["1.0.0", "dev-main"]
    # Lookups are case-insensitive.
    assert ok(api.get("/packages/ACME/Widget"))["id"] == first["id"]


def test_sync_returns_202_and_a_task_that_picks_up_new_and_removed_tags(
    api: Api, library_repo: GitRepo
) -> None:
    created = api.add_package(library_repo.url)
    library_repo.write({"composer.json": composer_json("acme/library", description="newer", license="MIT")})
    library_repo.commit("release 2.1.0")
    library_repo.tag("2.1.0")
    library_repo.delete_tag("1.0.0")

    response = api.post("/packages/acme/library/sync")
    task = ok(response, 202)
    assert set(task) == TASK_FIELDS
    assert task["kind"] == "sync_package"
    assert task["payload"]["package_id"] == created["id"]
    assert task["status"] in ("pending", "running", "completed")
    assert task["id"] != created["sync_task"]["id"]

    finished = api.wait_for_task(task["id"])
    assert finished["status"] == "completed", finished
    assert finished["result"]["added"] == ["2.1.0"]
    assert finished["result"]["removed"] == ["1.0.0"]
    package = ok(api.get("/packages/acme/library"))
    assert [v["version"] for v in package["versions"]] == ["2.1.0", "2.0.0", "1.1.0", "dev-main"]
    assert package["description"] == "newer"  # from the default branch
    assert p2_versions(api, "acme/library", ADMIN_TOKEN) == ["2.1.0", "2.0.0", "1.1.0"]


def test_sync_failure_is_reported_on_the_task_and_the_package(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/fragile", tags=("1.0.0",))
    api.add_package(repo.url)
    shutil.rmtree(repo.path)

    task = ok(api.post("/packages/acme/fragile/sync"), 202)
    finished = api.wait_for_task(task["id"])
    assert finished["status"] in ("pending", "failed"), finished  # pending = waiting for its retry
    assert finished["attempts"] == 1
    assert finished["error"]
    package = ok(api.get("/packages/acme/fragile"))
    assert package["sync_status"] == "error"
    assert package["sync_error"]
    # The versions of the last good sync stay.
    assert [v["version"] for v in package["versions"]] == ["1.0.0", "dev-main"]


def test_delete_package(api: Api, backend: Backend, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/library"}), 201)
    assert list(backend.settings.storage_path.rglob("*.zip")), "the sync stored no archive"

    assert ok(api.delete("/packages/acme/library")) == {"deleted": True}

    err(api.get("/packages/acme/library"), 404, "NOT_FOUND")
    err(api.delete("/packages/acme/library"), 404, "NOT_FOUND")
    assert _package_names(api) == []
    assert ok(api.get(f"/customers/{customer['id']}/packages")) == []
    assert api.composer("/p2/acme/library.json", ADMIN_TOKEN).status_code == 404
    assert api.composer("/dist/acme/library/1.0.0.zip", ADMIN_TOKEN).status_code == 404
    assert api.composer("/packages.json", customer["token"]).json()["available-packages"] == []
    assert list(backend.settings.storage_path.rglob("*.zip")) == [], "archives of a deleted package remain"

    # The name is free again, and a new sync starts from scratch.
    again = api.add_package(library_repo.url)
    assert again["name"] == "acme/library"
    assert len(ok(api.get("/packages/acme/library"))["versions"]) == 4


def test_yank_and_unyank(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/library"}), 201)

    yanked = ok(api.post("/packages/acme/library/yank/1.1.0"))
    assert yanked["version"] == "1.1.0"
    assert yanked["yanked"] is True
    assert yanked["dist"]["sha256"]
    versions = {v["version"]: v["yanked"] for v in ok(api.get("/packages/acme/library"))["versions"]}
    assert versions == {"2.0.0": False, "1.1.0": True, "1.0.0": False, "dev-main": False}
    assert p2_versions(api, "acme/library", customer["token"]) == ["2.0.0", "1.0.0"]
    assert p2_versions(api, "acme/library", ADMIN_TOKEN) == ["2.0.0", "1.0.0"]
    # The archive is kept, though no longer offered.
    assert api.composer("/dist/acme/library/1.1.0.zip", customer["token"]).status_code == 404
    # Yanking twice is harmless.
    assert ok(api.post("/packages/acme/library/yank/1.1.0"))["yanked"] is True

    # By normalized version too.
    unyanked = ok(api.post("/packages/acme/library/unyank/1.1.0.0"))
    assert unyanked["version"] == "1.1.0"
    assert unyanked["yanked"] is False
    assert p2_versions(api, "acme/library", customer["token"]) == ["2.0.0", "1.1.0", "1.0.0"]
    assert api.composer("/dist/acme/library/1.1.0.zip", customer["token"]).status_code == 200
    assert ok(api.post("/packages/acme/library/unyank/1.1.0"))["yanked"] is False


# -- bad input ------------------------------------------------------------------------------------


def test_add_package_rejects_bad_input_and_writes_nothing(
    api: Api, tmp_path: Path, make_git_repo: Callable[..., GitRepo], make_library_repo: Callable[..., GitRepo]
) -> None:
    good = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(good.url)
    nameless = make_git_repo("nameless")
    nameless.write({"README.md": "no composer.json here\n"})
    nameless.commit("initial")
    url = good.url

    cases: list[tuple[Any, str]] = [
        ({}, "repository_url"),
        ({"name": "acme/other"}, "repository_url"),
        ({"repository_url": 123}, "repository_url"),
        ({"repository_url": None}, "repository_url"),
        ({"repository_url": ""}, "repository_url"),
        ({"repository_url": "ext::sh -c touch% /tmp/pwned"}, "repository_url"),
        ({"repository_url": "ftp://example.com/repo.git"}, "repository_url"),
        ({"repository_url": "relative/path", "name": "acme/rel"}, "repository_url"),
        ({"repository_url": "-uhttps://example.com/x", "name": "acme/opt"}, "repository_url"),
        ({"repository_url": (tmp_path / "missing").as_uri()}, "repository_url"),
        ({"repository_url": nameless.url}, "name"),
        ({"repository_url": url, "type": "svn"}, "type"),
        ({"repository_url": url, "type": 1}, "type"),
        ({"repository_url": url, "name": 123}, "name"),
        ({"repository_url": url, "name": "Not Valid"}, "name"),
        ({"repository_url": url, "name": "acme"}, "name"),
        ({"repository_url": url, "name": "acme/lib/extra"}, "name"),
        ({"repository_url": url, "name": "acme/" + "x" * 300}, "name"),
        ({"repository_url": url, "name": "acme/other", "vcs": "git"}, "vcs"),
        ([url], "body"),
    ]
    for body, field in cases:
        err(api.post("/packages", json=body), 400, "VALIDATION_ERROR", field)
    not_json = api.post(
        "/packages", content=b"repository_url=x", headers={"Content-Type": "application/json"}
    )
    err(not_json, 400, "VALIDATION_ERROR", "body")

    # Same package again: by its discovered name, and by an explicit name in another case.
    err(api.post("/packages", json={"repository_url": url}), 409, "CONFLICT")
    err(api.post("/packages", json={"repository_url": url, "name": "ACME/Library"}), 409, "CONFLICT")

    assert _package_names(api) == ["acme/library"]


def test_list_packages_rejects_bad_query(api: Api) -> None:
    for params, field in (
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
    ):
        err(api.get("/packages", params=params), 400, "VALIDATION_ERROR", field)


def test_unknown_package_version_or_task_is_not_found(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(repo.url)
    for method, path in (
        ("GET", "/packages/acme/ghost"),
        ("DELETE", "/packages/acme/ghost"),
        ("POST", "/packages/acme/ghost/sync"),
        ("POST", "/packages/acme/ghost/yank/1.0.0"),
        ("POST", "/packages/acme/ghost/unyank/1.0.0"),
        ("POST", "/packages/acme/library/yank/9.9.9"),
        ("POST", "/packages/acme/library/unyank/9.9.9"),
        ("POST", "/packages/acme/library/yank/3.0.0"),
        ("GET", "/tasks/task_missing"),
    ):
        err(api.request(method, path), 404, "NOT_FOUND")
    assert [v["yanked"] for v in ok(api.get("/packages/acme/library"))["versions"]] == [False, False]
