"""`cargoman graphql ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cargoman.web.graphql.schema import build_schema

app = typer.Typer(help="The GraphQL API.", no_args_is_help=True)

REGENERATE_COMMAND = "cargoman graphql schema --output schema.graphql"


def schema_sdl() -> str:
    """The schema in SDL, as checked in at the repository root (schema.graphql)."""
    return build_schema().as_str().rstrip("\n") + "\n"


@app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL)."""
    sdl = schema_sdl()
    if output is None:
        typer.echo(sdl, nl=False)
        return
    output.write_text(sdl, encoding="utf-8")
