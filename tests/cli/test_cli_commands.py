"""The `cargoman` command, run as a real subprocess with --json output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.gitrepo import GitRepo, composer_json
from typer.testing import CliRunner

from cargoman.cli import context
from cargoman.cli.main import app
from cargoman.config import get_settings


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cargoman.db'}",
        "DATA_DIR": str(tmp_path / "data"),
        "STORAGE_PATH": str(tmp_path / "data" / "packages"),
        "ALLOW_LOCAL_REPOSITORIES": "true",
        "BASE_URL": "https://packages.example.test",
    }


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs commands in-process (one import for the whole test) with a fresh runtime."""
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
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


def test_package_customer_and_token_lifecycle(cli: Any, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"composer.json": composer_json("acme/tool", description="A tool")})
    repo.commit("one")
    repo.tag("v1.0.0")

    added = cli("package", "add", str(repo.path))
    assert added["name"] == "acme/tool"
    assert sorted(added["sync"]["added"]) == ["1.0.0", "dev-main"]
    assert [p["name"] for p in cli("package", "list")] == ["acme/tool"]
    shown = cli("package", "show", "acme/tool")
    assert {v["version"] for v in shown["versions"]} == {"1.0.0", "dev-main"}
    assert shown["versions"][0]["dist"]["url"].startswith("https://packages.example.test/dist/acme/tool/")
    resynced = cli("package", "sync", "acme/tool")
    assert resynced["acme/tool"]["unchanged"] == 2

    customer = cli("customer", "create", "--name", "Acme", "--email", "dev@acme.test")
    assert customer["token"].startswith("tok_") and customer["status"] == "active"
    assert [c["id"] for c in cli("customer", "list")] == [customer["id"]]
    assert cli("customer", "suspend", customer["id"], "--reason", "unpaid")["status"] == "suspended"
    assert cli("customer", "list", "--status", "suspended")[0]["status_reason"] == "unpaid"
    assert cli("customer", "reactivate", customer["id"])["status"] == "active"
    assert cli("customer", "show", customer["id"])["name"] == "Acme"

    token = cli(
        "token", "create", "--customer", customer["id"], "--scope", "download", "--packages", "acme/*"
    )
    assert token["token"]["package_scopes"] == ["acme/*"]
    assert token["composer_auth"]["repository_url"] == "https://packages.example.test"
    assert len(cli("token", "list", customer["id"])) == 2
    rotated = cli("token", "rotate", token["token"]["id"])
    assert rotated["plain_token"] != token["plain_token"]
    assert cli("token", "show", token["token"]["id"])["scope"] == "download"
    cli("token", "revoke", token["token"]["id"])
    assert len(cli("token", "list", customer["id"])) == 1

    cli("customer", "delete", customer["id"])
    cli("package", "delete", "acme/tool")
    assert cli("package", "list") == []


def test_errors_are_reported_as_json_with_exit_code(cli: Any) -> None:
    missing = cli("customer", "show", "cust_nope", expect=1)
    assert missing["error"]["code"] == "NOT_FOUND"
    invalid = cli("token", "create", "--customer", "cust_nope", expect=1)
    assert invalid["error"]["code"] == "NOT_FOUND"
    refused = cli("package", "add", "ext::sh -c id", "--name", "a/b", expect=1)
    assert refused["error"]["code"] == "VALIDATION_ERROR"


def test_the_installed_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cargoman", "migrate", "--json"],
        env={**os.environ, **_env(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"migrated": True, "database": _env(tmp_path)["DATABASE_URL"]}
