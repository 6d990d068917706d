"""REST: monorepos -- a root with a glob, one child package per folder, synced together from one fetch."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, err, ok, p2_versions
from tests.support.gitrepo import GitRepo, composer_json

GLOB = "packages/*/composer.json"


def build_monorepo(repo: GitRepo) -> GitRepo:
    """acme/alpha in packages/alpha (tags 1.0.0, 1.1.0); acme/beta in packages/beta (main only, added after
    1.1.0); a folder without a valid composer.json at 1.1.0; a README per package and one at the root."""
    repo.write(
        {
            "README.md": "The whole monorepo",
            "packages/alpha/composer.json": composer_json("acme/alpha", description="Alpha", license="MIT"),
            "packages/alpha/src/Alpha.php": "<?php // alpha 1.0.0\n",
            "packages/alpha/README.md": "# Alpha\n",
            "tools/build.sh": "#!/bin/sh\n",
        }
    )
    repo.commit("alpha 1.0.0")
    repo.tag("1.0.0")
    repo.write(
        {
            "packages/alpha/src/Alpha.php": "<?php // alpha 1.1.0\n",
            "packages/broken/composer.json": "{ not json",
        }
    )
    repo.commit("alpha 1.1.0")
    repo.tag("1.1.0")
    repo.write(
        {
            "packages/broken/composer.json": None,
            "packages/beta/composer.json": composer_json("acme/beta", description="Beta"),
            "packages/beta/src/Beta.php": "<?php // beta\n",
        }
    )
    repo.commit("add beta")
    return repo


def add_monorepo(api: Api, repo: GitRepo, name: str = "acme/mono") -> dict[str, Any]:
    created = ok(
        api.post("/packages", json={"repository_url": repo.url, "name": name, "monorepo": GLOB}), 201
    )
    task = api.wait_for_task(created["sync_task"]["id"])
    assert task["status"] == "completed", task
    created["sync_task"] = task
    return created


def _zip_names(content: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename for info in archive.infolist() if not info.is_dir()}


def test_monorepo_root_creates_one_package_per_folder(
    api: Api, make_git_repo: Callable[..., GitRepo]
) -> None:
    repo = build_monorepo(make_git_repo("mono"))
    created = add_monorepo(api, repo)
    assert created["name"] == "acme/mono"
    result = created["sync_task"]["result"]
    assert sorted(result["children"]) == ["acme/alpha", "acme/beta"]
    assert sorted(result["children"]["acme/alpha"]["added"]) == ["1.0.0", "1.1.0", "dev-main"]
    assert result["children"]["acme/beta"]["added"] == ["dev-main"]

    info = ok(api.get("/packages/acme/mono/monorepo"))
    assert info["package"]["name"] == "acme/mono"
    assert info["package"]["sync_status"] == "ready"
    assert info["glob"] == GLOB
    assert info["default_branch"] == "main"
    assert info["children_count"] == 2
    children = {c["name"]: c for c in info["children"]}
    assert children["acme/alpha"]["subdir"] == "packages/alpha"
    assert children["acme/alpha"]["version_count"] == 3
    assert children["acme/beta"]["subdir"] == "packages/beta"
    assert children["acme/beta"]["version_count"] == 1
    # The folder whose composer.json is broken at 1.1.0 is reported on the root.
    (warning,) = info["sync_warnings"]
    assert warning["ref"] == "1.1.0" and warning["message"].startswith("packages/broken: ")

    # The root has no versions of its own; each child is an ordinary package.
    assert ok(api.get("/packages/acme/mono"))["versions"] == []
    alpha = ok(api.get("/packages/acme/alpha"))
    assert [v["version"] for v in alpha["versions"]] == ["1.1.0", "1.0.0", "dev-main"]
    assert alpha["description"] == "Alpha"
    assert alpha["repository_url"] == repo.url
    assert alpha["versions"][0]["composer"] == {"description": "Alpha", "license": "MIT"}


def test_children_list_is_paginated(api: Api, make_git_repo: Callable[..., GitRepo]) -> None:
    add_monorepo(api, build_monorepo(make_git_repo("mono")))
    page = api.get("/packages/acme/mono/monorepo/children", params={"per_page": 1}).json()
    assert page["error"] is None
    assert page["pagination"] == {"page": 1, "per_page": 1, "total": 2, "total_pages": 2}
    (alpha,) = page["data"]
    assert alpha["name"] == "acme/alpha" and alpha["subdir"] == "packages/alpha"
    assert alpha["version_count"] == 3 and alpha["sync_status"] == "ready"
    second = ok(api.get("/packages/acme/mono/monorepo/children", params={"page": 2, "per_page": 1}))
    assert [c["name"] for c in second] == ["acme/beta"]


def test_children_are_served_to_customers_from_their_folder(
    api: Api, make_git_repo: Callable[..., GitRepo]
) -> None:
    add_monorepo(api, build_monorepo(make_git_repo("mono")))
    customer = api.create_customer()
    ok(
        api.post(
            f"/customers/{customer['id']}/packages", json={"package": "acme/alpha", "constraint": "^1.0"}
        ),
        201,
    )
    token = customer["token"]

    root = api.composer("/packages.json", token).json()
    assert root["available-packages"] == ["acme/alpha"]
    # Root tokens see every child but never the root label, which has nothing to install.
    assert api.composer("/packages.json", ADMIN_TOKEN).json()["available-packages"] == [
        "acme/alpha",
        "acme/beta",
    ]
    assert api.composer("/p2/acme/mono.json", ADMIN_TOKEN).status_code == 404
    assert api.composer("/p2/acme/beta.json", token).status_code == 403

    assert p2_versions(api, "acme/alpha", token) == ["1.1.0", "1.0.0"]
    archive = api.composer("/dist/acme/alpha/1.0.0.zip", token)
    assert archive.status_code == 200
    assert _zip_names(archive.content) == {"composer.json", "README.md", "src/Alpha.php"}
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert opened.read("src/Alpha.php") == b"<?php // alpha 1.0.0\n"

    assert ok(api.get("/packages/acme/alpha/readme")) == {
        "filename": "README.md",
        "content": "# Alpha\n",
        "ref": "main",
    }
    err(api.get("/packages/acme/beta/readme"), 404, "NOT_FOUND")  # the root README is not beta's


def test_moved_and_vanished_children(api: Api, make_git_repo: Callable[..., GitRepo]) -> None:
    repo = build_monorepo(make_git_repo("mono"))
    add_monorepo(api, repo)
    repo.git("mv", "packages/alpha", "packages/alpha-renamed")
    repo.write({"packages/beta/composer.json": None, "packages/beta/src/Beta.php": None})
    repo.commit("move alpha, drop beta")

    task = ok(api.post("/packages/acme/mono/monorepo/sync"), 202)
    assert task["payload"]["package"] == "acme/mono"
    finished = api.wait_for_task(task["id"])
    assert finished["status"] == "completed", finished
    assert finished["result"]["children"]["acme/beta"]["removed"] == ["dev-main"]

    children = {c["name"]: c for c in ok(api.get("/packages/acme/mono/monorepo"))["children"]}
    assert children["acme/alpha"]["subdir"] == "packages/alpha-renamed"
    assert children["acme/alpha"]["version_count"] == 3  # the tags still hold it in its old folder
    beta = ok(api.get("/packages/acme/beta"))
    assert beta["versions"] == []
    assert any("any more" in w["message"] for w in beta["sync_warnings"])
    main_zip = api.composer("/dist/acme/alpha/dev-main.zip", ADMIN_TOKEN)
    assert "src/Alpha.php" in _zip_names(main_zip.content)


def test_sync_of_a_child_syncs_its_root(api: Api, make_git_repo: Callable[..., GitRepo]) -> None:
    created = add_monorepo(api, build_monorepo(make_git_repo("mono")))
    task = ok(api.post("/packages/acme/alpha/sync"), 202)
    assert task["payload"] == {"package_id": created["id"], "package": "acme/mono"}
    assert api.wait_for_task(task["id"])["status"] == "completed"


def test_a_child_never_takes_over_a_separate_package(
    api: Api, make_git_repo: Callable[..., GitRepo], make_library_repo: Callable[..., GitRepo]
) -> None:
    standalone = api.add_package(make_library_repo("acme/beta", tags=("3.0.0",)).url)
    add_monorepo(api, build_monorepo(make_git_repo("mono")))

    info = ok(api.get("/packages/acme/mono/monorepo"))
    assert [c["name"] for c in info["children"]] == ["acme/alpha"]
    assert any(
        "acme/beta" in w["message"] and "separate package" in w["message"] for w in info["sync_warnings"]
    )
    beta = ok(api.get("/packages/acme/beta"))
    assert beta["id"] == standalone["id"]
    assert [v["version"] for v in beta["versions"]] == ["3.0.0", "dev-main"]


def test_delete_root_removes_children_and_a_child_alone_cannot_be_deleted(
    api: Api, backend: Backend, make_git_repo: Callable[..., GitRepo]
) -> None:
    add_monorepo(api, build_monorepo(make_git_repo("mono")))
    error = err(api.delete("/packages/acme/alpha"), 409, "CONFLICT")
    assert "acme/mono" in error["message"]
    assert ok(api.get("/packages/acme/alpha"))["versions"]
    archives = backend.settings.storage_path / "dist" / "default" / "acme"
    assert {p.parent.name for p in archives.rglob("*.zip")} == {"alpha", "beta"}

    ok(api.delete("/packages/acme/mono"))
    for name in ("acme/mono", "acme/alpha", "acme/beta"):
        err(api.get(f"/packages/{name}"), 404, "NOT_FOUND")
    assert list(archives.rglob("*.zip")) == []


def test_validate_a_monorepo_root_and_child(api: Api, make_git_repo: Callable[..., GitRepo]) -> None:
    add_monorepo(api, build_monorepo(make_git_repo("mono")))
    root = ok(api.post("/packages/acme/mono/validate"))
    assert root["valid"] is False
    assert root["refs_checked"] == 3
    assert [(p["ref"], p["kind"]) for p in root["problems"]] == [("1.1.0", "invalid_json")]
    assert root["problems"][0]["message"].startswith("packages/broken/composer.json: ")

    alpha = ok(api.post("/packages/acme/alpha/validate"))
    assert alpha == {"valid": True, "problems": [], "refs_checked": 3}
    beta = ok(api.post("/packages/acme/beta/validate"))
    assert {(p["ref"], p["kind"]) for p in beta["problems"]} == {
        ("1.0.0", "missing_composer_json"),
        ("1.1.0", "missing_composer_json"),
    }


def test_monorepo_input_errors_write_nothing(api: Api, make_git_repo: Callable[..., GitRepo]) -> None:
    repo = build_monorepo(make_git_repo("mono"))
    url = repo.url
    err(
        api.post("/packages", json={"repository_url": url, "monorepo": GLOB}), 400, "VALIDATION_ERROR", "name"
    )
    bad_globs = [
        "",
        "/packages/*/composer.json",
        "packages/../x/composer.json",
        "packages/*/package.json",
        "composer.json",
        "packages//composer.json",
        ":(glob)p/*/composer.json",
        "x" * 300,
    ]
    for glob in bad_globs:
        err(
            api.post("/packages", json={"repository_url": url, "name": "acme/mono", "monorepo": glob}),
            400,
            "VALIDATION_ERROR",
            "monorepo",
        )
    err(
        api.post("/packages", json={"repository_url": url, "name": "not a name", "monorepo": GLOB}),
        400,
        "VALIDATION_ERROR",
        "name",
    )
    assert ok(api.get("/packages")) == []
    add_monorepo(api, repo)
    err(
        api.post("/packages", json={"repository_url": url, "name": "acme/mono", "monorepo": GLOB}),
        409,
        "CONFLICT",
    )


def test_monorepo_endpoints_on_other_packages_are_not_found(
    api: Api, make_git_repo: Callable[..., GitRepo], library_repo: GitRepo
) -> None:
    api.add_package(library_repo.url)
    add_monorepo(api, build_monorepo(make_git_repo("mono")))
    for path in ("/packages/acme/library/monorepo", "/packages/acme/library/monorepo/children"):
        err(api.get(path), 404, "NOT_FOUND")
    err(api.post("/packages/acme/library/monorepo/sync"), 404, "NOT_FOUND")
    child = err(api.get("/packages/acme/alpha/monorepo"), 404, "NOT_FOUND")
    assert "acme/mono" in child["message"]
    err(api.get("/packages/acme/nothing/monorepo"), 404, "NOT_FOUND")


def test_a_folder_git_could_misread_is_skipped_not_fatal(
    api: Api, make_git_repo: Callable[..., GitRepo]
) -> None:
    repo = make_git_repo("mono")
    repo.write(
        {
            "packages/ok/composer.json": composer_json("acme/ok"),
            "packages/-evil/composer.json": composer_json("acme/evil"),
        }
    )
    repo.commit("two folders")
    add_monorepo(api, repo)
    info = ok(api.get("/packages/acme/mono/monorepo"))
    assert [c["name"] for c in info["children"]] == ["acme/ok"]
    assert any(w["message"].startswith("packages/-evil: ") for w in info["sync_warnings"])
    err(api.get("/packages/acme/evil"), 404, "NOT_FOUND")
