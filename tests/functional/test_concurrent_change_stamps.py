"""Concurrent REST writes that take a change stamp must not deadlock each other.

Every write that changes what Composer clients see takes a change stamp (cargoman.stamps), which
locks the tenant row with ``SELECT ... FOR UPDATE``. On PostgreSQL, inserting any row with a
``tenant_id`` foreign key first takes a ``FOR KEY SHARE`` lock on that same tenant row, and
``FOR UPDATE`` conflicts with ``FOR KEY SHARE``. Two transactions that each insert a row (a grant,
a version, a frozen version) and then take a stamp therefore wait for each other: PostgreSQL
aborts one of them with "deadlock detected" and the API answers 500. It happens in practice when
a sync task commits new versions while an admin grants access (seen in this suite), or when two
grants are added at once.

The test makes the interleaving deterministic: both requests are held at a barrier just before
they take their stamp, i.e. after their INSERT has been flushed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest
from tests.functional.conftest import Api, Backend, ok
from tests.support.gitrepo import GitRepo

from cargoman.grants import service as grants_service
from cargoman.runtime import ServiceContext


@pytest.fixture
def two_grants_at_once(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch
) -> tuple[httpx.Response, httpx.Response]:
    repo = make_library_repo("acme/core", tags=("1.0.0",))
    api.add_package(repo.url)
    first, second = api.create_customer("First"), api.create_customer("Second")

    barrier = threading.Barrier(2, timeout=10)
    real_stamp = grants_service.next_change_stamp

    def stamp_after_both_inserted(ctx: ServiceContext) -> datetime:
        barrier.wait()
        return real_stamp(ctx)

    monkeypatch.setattr(grants_service, "next_change_stamp", stamp_after_both_inserted)

    def grant(customer_id: str) -> httpx.Response:
        return api.post(f"/customers/{customer_id}/packages", json={"package": "acme/core"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(grant, c["id"]) for c in (first, second)]
        responses = (futures[0].result(timeout=60), futures[1].result(timeout=60))
    monkeypatch.undo()
    return responses


@pytest.mark.postgres_only  # SQLite serialises whole write transactions: no row-lock cycle exists there
def test_two_concurrent_grants_both_succeed(
    api: Api, two_grants_at_once: tuple[httpx.Response, httpx.Response]
) -> None:
    for response in two_grants_at_once:
        ok(response, 201)
    holders = ok(api.get("/packages/acme/core/customers"))
    assert len(holders) == 2
