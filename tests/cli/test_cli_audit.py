"""CLI writes are audited with the CLI as the actor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cargoman.cli import context
from cargoman.cli.main import app
from cargoman.config import get_settings
from cargoman.db.models import AuditEntry


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cargoman.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STORAGE_PATH", str(tmp_path / "data" / "packages"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    context._runtime = None
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, f"{args}: {result.output}"
        return json.loads(result.stdout)

    yield run
    if context._runtime is not None:
        context._runtime.dispose()
    context._runtime = None
    get_settings.cache_clear()


def test_cli_writes_are_audited_as_the_cli(cli: Any) -> None:
    customer = cli("customer", "create", "--name", "Acme")
    cli("customer", "suspend", customer["id"], "--reason", "unpaid")
    token = cli("token", "create", "--customer", customer["id"])
    cli("token", "revoke", token["token"]["id"])

    with context.runtime().session_factory() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.resource_id) for e in entries] == [
        ("token.create", customer["token_id"]),
        ("customer.create", customer["id"]),
        ("customer.suspend", customer["id"]),
        ("token.create", token["token"]["id"]),
        ("token.revoke", token["token"]["id"]),
    ]
    assert {(e.actor, e.actor_kind, e.ip) for e in entries} == {("cli", "cli", None)}
    assert entries[2].after is not None and entries[2].after["status_reason"] == "unpaid"
