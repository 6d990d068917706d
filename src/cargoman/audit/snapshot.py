"""Turn a row's fields into the JSON-safe dict an audit entry stores as `before` / `after`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cargoman.timeutil import isoformat


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return value


def snapshot(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``row``. Callers list fields explicitly so secrets never slip in."""
    return {name: json_safe(getattr(row, name)) for name in fields}
