"""In-process runtimes (settings, database, storage) on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cargoman.config import Settings
from cargoman.db.migrate import upgrade
from cargoman.runtime import Runtime


@contextmanager
def open_runtime(request: pytest.FixtureRequest, tmp_path: Path, **overrides: Any) -> Iterator[Runtime]:
    """A migrated runtime with the test settings (and ``overrides``) on a database of the kind
    ``request.param`` names: a SQLite file under ``tmp_path`` or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cargoman.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    defaults: dict[str, Any] = {
        "database_url": url,
        "data_dir": tmp_path / "data",
        "storage_path": tmp_path / "data" / "packages",
        "admin_token": "admin-secret",
        "base_url": "http://registry.test",
        "allow_local_repositories": True,
    }
    rt = Runtime(Settings(**(defaults | overrides)))
    upgrade(rt.engine)
    try:
        yield rt
    finally:
        rt.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    with open_runtime(request, tmp_path) as rt:
        yield rt
