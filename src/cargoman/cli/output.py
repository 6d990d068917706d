"""Printing for the CLI: Rich tables for people, `--json` for scripts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

console = Console()
err_console = Console(stderr=True)


def to_data(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {key: to_data(item) for key, item in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(to_data(value), option=orjson.OPT_INDENT_2).decode() + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def print_record(title: str, value: BaseModel | dict[str, Any]) -> None:
    data = to_data(value)
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, item in data.items():
        if isinstance(item, list | dict):
            item = orjson.dumps(item).decode()
        table.add_row(key, "" if item is None else str(item))
    console.print(table)


def emit(as_json: bool, value: Any, title: str) -> None:
    if as_json:
        print_json(value)
    elif isinstance(value, BaseModel | dict):
        print_record(title, value)
    else:
        console.print(value)
