"""Changes take effect at once in every server process, despite their in-memory caches."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

REQUESTS = 24  # spread over both worker processes by the kernel's accept balancing


def _statuses(server: RegistryServer, token: str, path: str = "/packages.json") -> set[int]:
    import httpx

    statuses = set()
    for _ in range(REQUESTS):
        # A new connection each time, so requests land on both processes.
        with httpx.Client(base_url=server.url, auth=("token", token)) as client:
            statuses.add(client.get(path).status_code)
    return statuses


def test_revocation_and_suspension_reach_every_process(
    start_registry: Callable[..., RegistryServer],
) -> None:
    server = start_registry(env={"WEB_CONCURRENCY": "2"})
    created = server.api("POST", "/customers", json={"name": "Multi"}).json()["data"]
    customer_id, token = created["id"], created["token"]

    assert _statuses(server, token) == {200}  # warms the credential caches of both processes

    suspended = server.api("POST", f"/customers/{customer_id}/suspend", json={"reason": "chargeback"})
    assert suspended.status_code == 200
    assert _statuses(server, token) == {403}

    assert server.api("POST", f"/customers/{customer_id}/reactivate").status_code == 200
    assert _statuses(server, token) == {200}

    token_id = created["token_id"]
    assert server.api("DELETE", f"/customers/{customer_id}/tokens/{token_id}").status_code == 200
    assert _statuses(server, token) == {401}
