"""The checked-in schema.graphql is the schema the server serves."""

from __future__ import annotations

import difflib
from pathlib import Path

from typer.testing import CliRunner

from cargoman.cli.graphql import REGENERATE_COMMAND, schema_sdl
from cargoman.cli.main import app

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema.graphql"


def test_schema_file_matches_the_schema() -> None:
    current = schema_sdl()
    checked_in = SCHEMA_FILE.read_text(encoding="utf-8")
    if checked_in != current:
        diff = "".join(
            difflib.unified_diff(
                checked_in.splitlines(keepends=True),
                current.splitlines(keepends=True),
                "schema.graphql (checked in)",
                "build_schema()",
                n=1,
            )
        )
        raise AssertionError(
            f"schema.graphql is out of date; regenerate it with `{REGENERATE_COMMAND}`:\n{diff}"
        )


def test_the_command_prints_the_schema(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["graphql", "schema"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == schema_sdl()
    assert "uploadPackageVersion(name: String!, version: String, file: Upload!): Version!" in printed.output

    target = tmp_path / "schema.graphql"
    written = CliRunner().invoke(app, ["graphql", "schema", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == schema_sdl()
