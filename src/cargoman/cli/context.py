"""Shared CLI plumbing: settings, a migrated runtime, and domain errors turned into exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.exc import OperationalError

from cargoman.cli.output import err_console, print_json
from cargoman.config import get_settings
from cargoman.db.migrate import upgrade
from cargoman.errors import CargomanError
from cargoman.runtime import Runtime, ServiceContext

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        try:
            _runtime = Runtime(get_settings())
            upgrade(_runtime.engine)
        except OperationalError as exc:
            err_console.print(f"[red]Database error:[/red] {exc.orig}")
            raise typer.Exit(EXIT_DATABASE) from exc
        except ValueError as exc:
            err_console.print(f"[red]Configuration error:[/red] {exc}")
            raise typer.Exit(EXIT_CONFIG) from exc
    return _runtime


@contextmanager
def unit(as_json: bool = False) -> Iterator[ServiceContext]:
    try:
        with runtime().unit_of_work("cli", actor_kind="cli") as ctx:
            yield ctx
    except CargomanError as exc:
        if as_json:
            print_json({"error": {"code": exc.code, "message": exc.message}})
        else:
            err_console.print(f"[red]{exc.code}:[/red] {exc.message}")
        raise typer.Exit(EXIT_ERROR) from exc
