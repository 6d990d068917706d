"""The execution-time cap (GRAPHQL_EXECUTION_TIMEOUT): one deadline per HTTP request.

Three places watch it, because a resolver can be slow in three ways:

* awaiting (DataLoaders, async resolvers): the endpoint wraps execution in ``asyncio.wait_for``;
* many resolvers in a row: ``ExecutionDeadline`` refuses to start a field once the deadline passed;
* one long SQL statement: ``statement_deadline`` makes the database abort it (PostgreSQL
  ``statement_timeout``, SQLite's progress handler).

The deadline lives in a context variable so the schema extension needs nothing from the context
object, and executions without a deadline (subscriptions) are not affected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from strawberry.extensions import SchemaExtension

_deadline: ContextVar[float | None] = ContextVar("graphql_deadline", default=None)
# SQLite calls the progress handler every this many virtual-machine instructions.
_SQLITE_CHECK_EVERY = 10_000


class ExecutionTimedOut(Exception):
    """Raised in place of a resolver once the request's time is up."""


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()


@contextmanager
def deadline_set(deadline: float) -> Iterator[None]:
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


class ExecutionDeadline(SchemaExtension):
    """Stops the execution at the next field once the deadline has passed."""

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = _deadline.get()
        if deadline is not None and time.monotonic() > deadline:
            raise ExecutionTimedOut()
        return _next(root, info, *args, **kwargs)


@contextmanager
def statement_deadline(session: Session, deadline: float) -> Iterator[None]:
    """Abort any SQL statement of ``session`` still running at ``deadline``."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # SET LOCAL ends with the transaction, so the pooled connection keeps its default.
        milliseconds = max(1, int(remaining(deadline) * 1000))
        session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        yield
        return
    if dialect != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _SQLITE_CHECK_EVERY)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)
