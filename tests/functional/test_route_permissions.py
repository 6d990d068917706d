"""Every management route declares the permission it needs, in one table."""

from __future__ import annotations

from cargoman.app import create_app
from cargoman.config import Settings
from cargoman.web.api.permissions import PUBLIC_ROUTES, ROUTE_PERMISSIONS

PUBLIC = {("GET", "/health")} | PUBLIC_ROUTES


def _routes(tmp_path: object) -> set[tuple[str, str]]:
    from pathlib import Path

    base = Path(str(tmp_path))
    app = create_app(
        Settings(database_url=f"sqlite:///{base / 'c.db'}", data_dir=base, storage_path=base / "p"),
        migrate=False,
    )
    # The OpenAPI document lists every route with its full path, however routers are nested.
    return {
        (method.upper(), path)
        for path, operations in app.api.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_has_a_declared_permission(tmp_path: object) -> None:
    routes = _routes(tmp_path) - PUBLIC
    missing = sorted(routes - set(ROUTE_PERMISSIONS))
    assert not missing, f"routes without a permission in web/api/permissions.py: {missing}"


def test_the_table_names_no_route_that_does_not_exist(tmp_path: object) -> None:
    stale = sorted(set(ROUTE_PERMISSIONS) - _routes(tmp_path))
    assert not stale, f"permission entries for routes that do not exist: {stale}"
