"""build_archive / build_archives against real git repositories built in tmp_path."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.gitsync.archive import build_archive, build_archives
from cargoman.gitsync.errors import GitError
from cargoman.gitsync.mirror import Mirror

MakeRepo = Callable[..., GitRepo]


@pytest.fixture
def monorepo(make_git_repo: MakeRepo) -> GitRepo:
    repo = make_git_repo("monorepo")
    repo.write(
        {
            ".gitattributes": "/tests export-ignore\n/packages/foo/tests export-ignore\n",
            "composer.json": composer_json("acme/monorepo"),
            "src/Root.php": "<?php // root\n",
            "tests/RootTest.php": "<?php\n",
            "packages/foo/.gitattributes": "/docs export-ignore\n",
            "packages/foo/composer.json": composer_json("acme/foo"),
            "packages/foo/src/Foo.php": "<?php // foo\n",
            "packages/foo/bin/run": "#!/bin/sh\necho run\n",
            "packages/foo/docs/guide.md": "# guide\n",
            "packages/foo/tests/FooTest.php": "<?php\n",
            "packages/bar/composer.json": composer_json("acme/bar"),
        }
    )
    (repo.path / "packages/foo/bin/run").chmod(0o755)
    (repo.path / "packages/foo/current").symlink_to("src/Foo.php")
    repo.commit("initial")
    repo.tag("v1.0.0")
    return repo


@pytest.fixture
def mirror(monorepo: GitRepo, tmp_path: Path) -> Mirror:
    mirror = Mirror(tmp_path / "mirrors" / "monorepo.git", monorepo.url)
    mirror.sync()
    return mirror


def zip_names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name for name in archive.namelist() if not name.endswith("/")}


def test_export_ignored_folders_are_left_out(monorepo: GitRepo, mirror: Mirror, tmp_path: Path) -> None:
    result = build_archive(mirror, monorepo.head(), tmp_path / "dist")

    names = zip_names(result.path)
    assert {
        "composer.json",
        "src/Root.php",
        "packages/foo/src/Foo.php",
        "packages/bar/composer.json",
    } <= names
    assert not any(name.startswith(("tests/", "packages/foo/tests/", "packages/foo/docs/")) for name in names)
    with zipfile.ZipFile(result.path) as archive:
        assert archive.read("composer.json") == composer_json("acme/monorepo").encode()


def test_subdir_archive_has_the_folder_at_its_root(monorepo: GitRepo, mirror: Mirror, tmp_path: Path) -> None:
    result = build_archive(mirror, monorepo.head(), tmp_path / "dist", subdir="packages/foo/")

    # Both the root .gitattributes (/packages/foo/tests) and the package's own (/docs) apply.
    assert zip_names(result.path) == {".gitattributes", "composer.json", "src/Foo.php", "bin/run", "current"}
    with zipfile.ZipFile(result.path) as archive:
        assert archive.read("composer.json") == composer_json("acme/foo").encode()
        assert archive.read("src/Foo.php") == b"<?php // foo\n"
        assert (archive.getinfo("bin/run").external_attr >> 16) & 0o111
        link = archive.getinfo("current")
        assert stat.S_ISLNK(link.external_attr >> 16) and archive.read(link) == b"src/Foo.php"


def test_hashes_and_size_match_the_file(monorepo: GitRepo, mirror: Mirror, tmp_path: Path) -> None:
    for subdir in (None, "packages/foo"):
        result = build_archive(mirror, monorepo.head(), tmp_path / "dist", subdir=subdir)
        data = result.path.read_bytes()
        assert result.path.parent == tmp_path / "dist"
        assert result.size == len(data)
        assert result.sha1 == hashlib.sha1(data).hexdigest()
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.md5 == hashlib.md5(data).hexdigest()


def test_build_archives_in_parallel(monorepo: GitRepo, mirror: Mirror, tmp_path: Path) -> None:
    commits = [monorepo.head()]
    for version in range(1, 6):
        monorepo.write({"packages/foo/src/Foo.php": f"<?php // foo {version}\n"})
        commits.append(monorepo.commit(f"foo {version}"))
    mirror.sync()
    wanted: list[tuple[str, str | None]] = [(c, "packages/foo") for c in commits] + [(commits[-1], None)]

    results = build_archives(mirror, wanted + wanted[:2], tmp_path / "dist", workers=3)

    assert list(results) == wanted
    assert len({result.sha256 for result in results.values()}) == len(wanted)
    with zipfile.ZipFile(results[(commits[3], "packages/foo")].path) as archive:
        assert archive.read("src/Foo.php") == b"<?php // foo 3\n"
    assert "packages/bar/composer.json" in zip_names(results[(commits[-1], None)].path)


def test_build_archives_failure_cleans_up(monorepo: GitRepo, mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "dist"
    head = monorepo.head()
    wanted: list[tuple[str, str | None]] = [(head, None), ("0" * 40, None), (head, "packages/bar")]
    with pytest.raises(GitError):
        build_archives(mirror, wanted, dest)
    assert list(dest.iterdir()) == []


def test_missing_subdir_or_commit_raises_and_leaves_no_file(
    monorepo: GitRepo, mirror: Mirror, tmp_path: Path
) -> None:
    dest = tmp_path / "dist"
    with pytest.raises(GitError):
        build_archive(mirror, monorepo.head(), dest, subdir="packages/missing")
    with pytest.raises(GitError):
        build_archive(mirror, "1" * 40, dest)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("subdir", ["", "/", "../etc", "packages/../..", "a\\b", "-x"])
def test_invalid_subdir_is_rejected(monorepo: GitRepo, mirror: Mirror, tmp_path: Path, subdir: str) -> None:
    with pytest.raises(ValueError):
        build_archive(mirror, monorepo.head(), tmp_path / "dist", subdir=subdir)


def test_option_like_commit_is_rejected(mirror: Mirror, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_archive(mirror, "--output=/tmp/x", tmp_path / "dist")
