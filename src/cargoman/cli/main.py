"""The `cargoman` command."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer

from cargoman.cli import customers, graphql, packages, tokens
from cargoman.cli.context import runtime
from cargoman.cli.output import JsonOption, console, emit
from cargoman.config import get_settings

app = typer.Typer(
    help="Cargoman: a private Composer package registry.", no_args_is_help=True, add_completion=False
)
app.add_typer(packages.app, name="package")
app.add_typer(customers.app, name="customer")
app.add_typer(tokens.app, name="token")
app.add_typer(graphql.app, name="graphql")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Listen address (HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port (PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Server processes (WEB_CONCURRENCY).")
    ] = None,
    server: Annotated[str, typer.Option("--server", help="granian or uvicorn.")] = "granian",
) -> None:
    """Migrate the database, then start the HTTP server with in-process task workers."""
    # Worker processes read their settings from the environment, so options go there first.
    for name, value in (("HOST", host), ("PORT", port), ("WEB_CONCURRENCY", workers)):
        if value is not None:
            os.environ[name] = str(value)
    get_settings.cache_clear()
    settings = get_settings()
    runtime()  # migrates
    logging.basicConfig(level=settings.log_level.split(",")[0].upper() if settings.log_level else "INFO")
    if not settings.admin_token and not settings.admin_token_hash:
        console.print(
            "[yellow]ADMIN_TOKEN is not set: the management API will refuse every request.[/yellow]"
        )
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "cargoman.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.web_concurrency,
            log_level="warning",
        )
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "cargoman.app:app_from_env",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.web_concurrency,
        log_level="warning",  # type: ignore[arg-type]
    ).serve()


@app.command()
def migrate(as_json: JsonOption = False) -> None:
    """Apply database migrations."""
    runtime()
    emit(as_json, {"migrated": True, "database": _redacted(get_settings().database_url)}, "Migrations")


@app.command()
def worker(
    threads: Annotated[int, typer.Option("--threads", min=1, help="Concurrent tasks.")] = 2,
) -> None:
    """Run background tasks (syncs) in this process, for scaling out beside `serve`."""
    from cargoman.graphql_webhooks.dispatcher import WebhookDispatcher
    from cargoman.worker.runner import WorkerPool

    pool = WorkerPool(runtime(), threads)
    # Syncs run here publish their events on this process's bus: webhooks must hear them here too.
    dispatcher = WebhookDispatcher(runtime())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    dispatcher.start()
    pool.start()
    console.print(f"Worker running with {threads} threads.")
    stop.wait()
    pool.stop()
    dispatcher.stop()


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
