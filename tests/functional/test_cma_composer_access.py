"""Management credentials of any level read every package through the Composer endpoints."""

from __future__ import annotations

from tests.functional.conftest import Api, ok, p2_versions
from tests.support.gitrepo import GitRepo


def test_cma_tokens_see_all_packages_until_revoked(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    ok(api.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    viewer = ok(api.post("/team/credentials", json={"name": "Reader", "level": "viewer"}), 201)
    secret = viewer["plain_token"]

    root = api.composer("/packages.json", secret)
    assert root.status_code == 200
    assert root.json()["available-packages"] == ["acme/library"]
    assert p2_versions(api, "acme/library", secret) == ["2.0.0", "1.1.0", "1.0.0"]

    ok(api.delete(f"/team/credentials/{viewer['credential']['id']}"))
    assert api.composer("/packages.json", secret).status_code == 401


def test_an_expiring_cma_token_stops_even_while_cached(api: Api, library_repo: GitRepo) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    api.add_package(library_repo.url)
    ok(api.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    body = {"name": "Short", "level": "viewer", "expires_at": soon}
    secret = ok(api.post("/team/credentials", json=body), 201)["plain_token"]
    deadline = time.monotonic() + 15
    while (answer := api.composer("/packages.json", secret)).status_code == 200:
        assert time.monotonic() < deadline, "the credential never expired"
        time.sleep(0.1)
    assert answer.status_code == 401
