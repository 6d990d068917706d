"""In-process runtimes (settings, database, storage) on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cargoman.config import Settings
from cargoman.db.migrate import upgrade
from cargoman.runtime import Runtime


@pytest.fixture(params=["sqlite", "postgres"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cargoman.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        storage_path=tmp_path / "data" / "packages",
        admin_token="admin-secret",
        base_url="http://registry.test",
        allow_local_repositories=True,
    )
    rt = Runtime(settings)
    upgrade(rt.engine)
    yield rt
    rt.dispose()
