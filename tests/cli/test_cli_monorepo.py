"""`cargoman package add --monorepo` and `cargoman package monorepo list|children|sync`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.gitrepo import GitRepo, composer_json
from typer.testing import CliRunner

from cargoman.cli import context
from cargoman.cli.main import app
from cargoman.config import get_settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cargoman.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STORAGE_PATH", str(tmp_path / "data" / "packages"))
    monkeypatch.setenv("ALLOW_LOCAL_REPOSITORIES", "true")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    context._runtime = None
    runner = CliRunner()

    def run(*args: str, expect: int = 0) -> Any:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == expect, f"{args}: {result.output}"
        return json.loads(result.stdout)

    yield run
    if context._runtime is not None:
        context._runtime.dispose()
    context._runtime = None
    get_settings.cache_clear()


def test_monorepo_commands(cli: Any, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "mono")
    repo.write(
        {
            "packages/one/composer.json": composer_json("acme/one"),
            "packages/two/composer.json": composer_json("acme/two"),
        }
    )
    repo.commit("two packages")
    repo.tag("1.0.0")

    added = cli(
        "package", "add", str(repo.path), "--name", "acme/mono", "--monorepo", "packages/*/composer.json"
    )
    assert added["name"] == "acme/mono"
    assert sorted(added["sync"]["children"]) == ["acme/one", "acme/two"]
    assert sorted(added["sync"]["added"]) == [
        "acme/one 1.0.0",
        "acme/one dev-main",
        "acme/two 1.0.0",
        "acme/two dev-main",
    ]

    (root,) = cli("package", "monorepo", "list")
    assert root["name"] == "acme/mono" and root["glob"] == "packages/*/composer.json"
    children = cli("package", "monorepo", "children", "acme/mono")
    assert [(c["name"], c["subdir"], c["version_count"]) for c in children] == [
        ("acme/one", "packages/one", 2),
        ("acme/two", "packages/two", 2),
    ]

    repo.write({"packages/two/composer.json": None})
    repo.commit("drop two")
    report = cli("package", "monorepo", "sync", "acme/mono")
    assert report["children"]["acme/two"]["removed"] == ["dev-main"]
    assert report["children"]["acme/one"]["updated"] == ["dev-main"]
    # Syncing a child by name syncs its monorepo.
    assert set(cli("package", "sync", "acme/one")) == {"acme/mono"}

    missing_name = cli("package", "add", str(repo.path), "--monorepo", "packages/*/composer.json", expect=1)
    assert missing_name["error"]["code"] == "VALIDATION_ERROR"
    not_root = cli("package", "monorepo", "children", "acme/one", expect=1)
    assert not_root["error"]["code"] == "NOT_FOUND"
