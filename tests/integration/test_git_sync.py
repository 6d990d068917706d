"""Syncing packages from real local Git repositories into versions and stored archives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.errors import ValidationFailed
from cargoman.packages import service
from cargoman.packages.sync import sync_package
from cargoman.runtime import Runtime

NAME = "acme/widget"


def _release(repo: GitRepo, tag: str, files: dict[str, str | bytes | None] | None = None) -> str:
    repo.write({"composer.json": composer_json(NAME, description=f"Widget {tag}"), **(files or {})})
    sha = repo.commit(f"release {tag}")
    repo.tag(tag)
    return sha


def _add(runtime: Runtime, repo: GitRepo, name: str | None = NAME) -> str:
    with runtime.unit_of_work("test") as ctx:
        return service.add_package(ctx, str(repo.path), "git", name).package.id


def _detail(runtime: Runtime) -> tuple[dict[str, object], list[dict[str, str]]]:
    with runtime.unit_of_work("test") as ctx:
        package = service.get_package(ctx, NAME, with_versions=True)
        versions = {v.version: v for v in package.versions}
        return versions, list(package.sync_warnings)


def test_good_versions_appear_and_bad_refs_become_warnings(runtime: Runtime, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({".gitattributes": "/tests export-ignore\n", "tests/FooTest.php": "<?php // test\n"})
    _release(repo, "v1.0.0", {"src/Widget.php": "<?php\n"})
    _release(repo, "release-1.1.0")
    repo.write({"composer.json": "{ not json"})
    repo.commit("broken manifest")
    repo.tag("1.2.0")
    repo.write({"composer.json": composer_json("someone/else")})
    repo.commit("wrong name")
    repo.tag("1.3.0")
    repo.write({"composer.json": None})
    repo.commit("no manifest")
    repo.tag("1.4.0")
    _release(repo, "2.0.0-beta1")
    repo.tag("nightly-build")
    repo.branch("2.x")

    package_id = _add(runtime, repo)
    report = sync_package(runtime, "default", package_id)

    versions, warnings = _detail(runtime)
    assert set(versions) == {"1.0.0", "1.1.0", "2.0.0-beta1", "dev-main", "2.x-dev"}
    assert sorted(report.added) == sorted(versions)
    warned = {w["ref"]: w["message"] for w in warnings}
    assert set(warned) == {"1.2.0", "1.3.0", "1.4.0", "nightly-build"}
    assert "not valid JSON" in warned["1.2.0"]
    assert "someone/else" in warned["1.3.0"]
    assert "missing" in warned["1.4.0"]
    assert "not a version" in warned["nightly-build"]

    first = versions["1.0.0"]
    archive = runtime.storage.get_bytes(first.dist_key)  # type: ignore[attr-defined]
    import hashlib

    assert hashlib.sha1(archive).hexdigest() == first.dist_sha1  # type: ignore[attr-defined]
    assert hashlib.sha256(archive).hexdigest() == first.dist_sha256  # type: ignore[attr-defined]
    assert hashlib.md5(archive).hexdigest() == first.dist_md5  # type: ignore[attr-defined]
    assert len(archive) == first.dist_size  # type: ignore[attr-defined]
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert "composer.json" in names and "src/Widget.php" in names
    assert not [n for n in names if n.startswith("tests")]
    assert versions["2.x-dev"].version_normalized == "2.9999999.9999999.9999999-dev"  # type: ignore[attr-defined]


def test_resync_processes_only_new_or_moved_refs_and_drops_deleted_ones(
    runtime: Runtime, tmp_path: Path
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    for tag in ("1.0.0", "1.1.0", "1.2.0"):
        _release(repo, tag)
    repo.branch("feature")
    package_id = _add(runtime, repo)
    sync_package(runtime, "default", package_id)
    before, _ = _detail(runtime)
    old_key = before["1.2.0"].dist_key  # type: ignore[attr-defined]

    unchanged = sync_package(runtime, "default", package_id)
    assert (unchanged.added, unchanged.updated, unchanged.removed) == ([], [], [])
    assert unchanged.unchanged == 5

    _release(repo, "1.3.0")
    repo.delete_tag("1.0.0")
    repo.delete_branch("feature")
    repo.write({"CHANGELOG.md": "moved"})
    moved_to = repo.commit("retag")
    repo.git("tag", "-f", "1.2.0")
    report = sync_package(runtime, "default", package_id)

    assert report.added == ["1.3.0"]
    assert sorted(report.removed) == ["1.0.0", "dev-feature"]
    assert sorted(report.updated) == ["1.2.0", "dev-main"]
    after, _ = _detail(runtime)
    assert set(after) == {"1.1.0", "1.2.0", "1.3.0", "dev-main"}
    assert after["1.2.0"].reference == moved_to  # type: ignore[attr-defined]
    assert not runtime.storage.exists(old_key)
    assert runtime.storage.exists(after["1.2.0"].dist_key)  # type: ignore[attr-defined]


def test_name_is_read_from_composer_json_when_not_given(runtime: Runtime, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    _release(repo, "1.0.0")
    _add(runtime, repo, name=None)
    versions, _ = _detail(runtime)
    assert versions == {}  # not synced yet, but the package exists under its composer.json name


def test_local_paths_are_refused_unless_allowed(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.allow_local_repositories = False
    with runtime.unit_of_work("test") as ctx, pytest.raises(ValidationFailed) as refused:
        service.add_package(ctx, str(tmp_path), "git", NAME)
    assert refused.value.field == "repository_url"
    for url in ("ext::sh -c touch% /tmp/pwned", "file:///etc", "-uhelp"):
        with runtime.unit_of_work("test") as ctx, pytest.raises(ValidationFailed):
            service.add_package(ctx, url, "git", NAME)


def test_failed_fetch_marks_the_package_and_hides_credentials(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.git_auth_user = "deploy"
    runtime.settings.git_auth_token = "s3cr3t-token-value"
    with runtime.unit_of_work("test") as ctx:
        package_id = service.add_package(ctx, "http://127.0.0.1:9/missing.git", "git", NAME).package.id
    with pytest.raises(Exception) as failure:
        sync_package(runtime, "default", package_id)
    assert "s3cr3t-token-value" not in str(failure.value)
    with runtime.unit_of_work("test") as ctx:
        package = service.get_package(ctx, NAME)
        assert package.sync_status == "error"
        assert package.sync_error and "s3cr3t-token-value" not in package.sync_error
