"""Application factory: the Composer hot path in front, FastAPI for everything else."""

from __future__ import annotations

import fcntl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
from fastapi import FastAPI

from cargoman.config import Settings, get_settings
from cargoman.db.migrate import upgrade
from cargoman.graphql_webhooks.dispatcher import WebhookDispatcher
from cargoman.runtime import Runtime
from cargoman.stats.recorder import UsageRecorder
from cargoman.tasks.scheduler import TaskScheduler
from cargoman.web.api.errors import install_error_handlers
from cargoman.web.api.v1.router import build_router
from cargoman.web.composer.app import ComposerApp, is_composer_path
from cargoman.web.graphql import build_graphql_router
from cargoman.web.webhooks import build_webhooks_router
from cargoman.worker.runner import WorkerPool


class CargomanApp:
    """Routes Composer paths straight to the lean handler; the rest (and lifespan) to FastAPI."""

    def __init__(self, api: FastAPI, composer: ComposerApp, runtime: Runtime) -> None:
        self.api = api
        self.composer = composer
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            # No resource has a NUL in its name; PostgreSQL cannot even compare such a value.
            await send_envelope_error(send, 404, "NOT_FOUND", "Resource not found")
            return
        if scope["type"] == "http" and is_composer_path(scope["path"]):
            await self.composer(scope, receive, send)
            return
        await self.api(scope, receive, send)


async def send_envelope_error(send: Any, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"data": None, "error": {"code": code, "message": message}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def migration_lock(settings: Settings) -> Iterator[None]:
    """Several server processes start at once; only one migrates at a time."""
    settings.runtime_path.mkdir(parents=True, exist_ok=True)
    with open(settings.runtime_path / "migrate.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> CargomanApp:
    settings = settings or get_settings()
    runtime = Runtime(settings)
    if migrate:
        with migration_lock(settings):
            upgrade(runtime.engine)
    recorder = UsageRecorder(runtime)
    workers = WorkerPool(runtime, settings.task_num_workers if settings.task_enabled else 0)
    scheduler = TaskScheduler(runtime) if settings.task_enabled else None
    webhook_dispatcher = WebhookDispatcher(runtime)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        recorder.start()
        webhook_dispatcher.start()
        workers.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            workers.stop()
            webhook_dispatcher.stop()
            recorder.stop()
            runtime.dispose()

    api = FastAPI(
        title="Cargoman",
        version="0.1.0",
        description="Private Composer package registry: management API.",
        lifespan=lifespan,
    )
    api.state.runtime = runtime
    api.state.recorder = recorder
    install_error_handlers(api)
    api.include_router(build_router())
    api.include_router(build_graphql_router(settings))
    api.include_router(build_webhooks_router())

    @api.get("/health", tags=["meta"], summary="Liveness check")
    def health() -> dict[str, Any]:
        return {"status": "ok", "edition": settings.edition}

    return CargomanApp(api, ComposerApp(runtime, recorder), runtime)


def app_from_env() -> CargomanApp:
    """Entry point for ASGI servers (`cargoman.app:app_from_env`, factory mode)."""
    return create_app()
