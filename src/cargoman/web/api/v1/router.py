"""All v1 routers under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from cargoman.web.api.auth import API_PREFIX
from cargoman.web.api.v1 import customers, packages, tasks


def build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (customers, packages, tasks):
        router.include_router(module.router)
    return router
