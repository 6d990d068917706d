"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cargoman.db.migrate import alembic_config
from cargoman.db.models import Base
from cargoman.runtime import Runtime


def _differences(runtime: Runtime) -> list[object]:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_migrations_build_the_schema_of_the_models(runtime: Runtime) -> None:
    assert _differences(runtime) == []


def test_the_newest_migration_goes_down_and_up_again(runtime: Runtime) -> None:
    config = alembic_config(runtime.engine)
    command.downgrade(config, "-1")
    assert _differences(runtime) != []
    command.upgrade(config, "head")
    assert _differences(runtime) == []
