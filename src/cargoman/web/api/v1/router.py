"""All v1 routers under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from cargoman.web.api.auth import API_PREFIX
from cargoman.web.api.v1 import (
    audit,
    collections,
    customers,
    github_app,
    license,
    oauth,
    package_files,
    packages,
    stats,
    tasks,
    team,
    uploads,
)


def build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        customers,
        collections,
        license,
        packages,
        tasks,
        team,
        audit,
        stats,
        uploads,
        package_files,
        github_app,
        oauth,
    ):
        router.include_router(module.router)
    return router
