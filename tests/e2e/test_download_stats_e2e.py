"""Download analytics against the real composer client: the figures match exactly what was installed.

Composer downloads each dist once per project (every project has its own cache) and reports the
installed packages once through notify-batch, with normalized versions; the statistics count both
under the pretty version, per package, per version, per customer and per day.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

PACKAGES = {
    "acme/alpha": ["1.0.0", "1.1.0", "2.0.0"],
    "acme/beta": ["1.0.0", "1.2.0"],
    "acme/gamma": ["0.9.0", "1.0.0"],
}
FLUSH_DEADLINE = 20.0


def _data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _customer(server: RegistryServer, name: str, grants: dict[str, str]) -> tuple[str, str]:
    customer = _data(server.api("POST", "/customers", json={"name": name}), 201)
    for package, constraint in grants.items():
        body = {"package": package, "constraint": constraint}
        _data(server.api("POST", f"/customers/{customer['id']}/packages", json=body), 201)
    return customer["id"], customer["token"]


def test_stats_match_what_composer_installed(
    start_registry: Callable[..., RegistryServer], make_git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    server = start_registry(env={"EDITION": "enterprise"})
    for package, tags in PACKAGES.items():
        repo = make_git_repo(package.replace("/", "-"))
        for tag in tags:
            repo.write({"composer.json": composer_json(package), "src/Version.php": f"<?php // {tag}\n"})
            repo.commit(f"release {tag}")
            repo.tag(tag)
        created = _data(server.api("POST", "/packages", json={"repository_url": str(repo.path)}), 201)
        server.wait_task(created["sync_task"]["id"])

    alice, alice_token = _customer(server, "Alice", {"acme/alpha": "*", "acme/beta": "*"})
    bob, bob_token = _customer(server, "Bob", {"acme/alpha": "*", "acme/gamma": "*"})

    # (customer, project, how it installs)
    runs: list[tuple[str, ComposerProject, Callable[[ComposerProject], Any]]] = [
        (
            alice,
            ComposerProject(tmp_path / "alice", server.url, alice_token),
            lambda p: p.require("acme/alpha:^2.0"),
        ),
        (
            alice,
            ComposerProject(
                tmp_path / "alice-legacy",
                server.url,
                alice_token,
                require={"acme/alpha": "1.0.0", "acme/beta": "^1.0"},
            ),
            lambda p: p.install(),
        ),
        (
            bob,
            ComposerProject(
                tmp_path / "bob", server.url, bob_token, require={"acme/alpha": "~1.1.0", "acme/gamma": "*"}
            ),
            lambda p: p.install(),
        ),
    ]
    installed: Counter[tuple[str, str, str]] = Counter()  # (customer, package, version)
    for customer, project, install in runs:
        result = install(project)
        assert result.returncode == 0, describe(result)
        for package, version in project.installed().items():
            installed[(customer, package, version)] += 1
    assert {(c, p, v) for c, p, v in installed} == {
        (alice, "acme/alpha", "2.0.0"),
        (alice, "acme/alpha", "1.0.0"),
        (alice, "acme/beta", "1.2.0"),
        (bob, "acme/alpha", "1.1.0"),
        (bob, "acme/gamma", "1.0.0"),
    }
    total = sum(installed.values())

    # The server writes usage in batches: wait for them, then every figure must match exactly.
    deadline = time.monotonic() + FLUSH_DEADLINE
    while True:
        overview = _data(server.api("GET", "/stats"))
        if overview["downloads"]["total"] >= total and overview["installs"]["total"] >= total:
            break
        assert time.monotonic() < deadline, overview
        time.sleep(0.1)
    assert overview["downloads"] == {"total": total, "last_30_days": total}
    assert overview["installs"] == {"total": total, "last_30_days": total}
    assert overview["packages"] == 3
    assert overview["customers"]["active"] == 2

    for package, tags in PACKAGES.items():
        stats = _data(server.api("GET", f"/stats/packages/{package}"))
        expected_total = sum(n for (_, p, _), n in installed.items() if p == package)
        assert (stats["downloads"], stats["installs"]) == (expected_total, expected_total), stats
        per_version = {row["version"]: (row["downloads"], row["installs"]) for row in stats["versions"]}
        for tag in tags:
            n = sum(count for (_, p, v), count in installed.items() if (p, v) == (package, tag))
            assert per_version[tag] == (n, n), (package, tag, stats)
        per_customer = {row["customer_id"]: (row["downloads"], row["installs"]) for row in stats["customers"]}
        expected_customers = Counter[str]()
        for (customer, p, _), count in installed.items():
            if p == package:
                expected_customers[customer] += count
        assert per_customer == {c: (n, n) for c, n in expected_customers.items()}, stats

        for tag in tags:
            version = _data(server.api("GET", f"/stats/packages/{package}/versions/{tag}"))
            by_customer = {
                (customer, p, v): count
                for (customer, p, v), count in installed.items()
                if (p, v) == (package, tag)
            }
            assert {
                row["customer_id"]: (row["downloads"], row["installs"]) for row in version["customers"]
            } == {customer: (n, n) for (customer, _, _), n in by_customer.items()}
            today = version["daily"][-1]
            assert today["date"] == datetime.now(UTC).date().isoformat()
            n = sum(by_customer.values())
            assert (today["downloads"], today["installs"]) == (n, n)

    daily = _data(server.api("GET", "/stats/daily", params={"days": 7}))
    assert [(d["downloads"], d["installs"]) for d in daily["daily"]] == [(0, 0)] * 6 + [(total, total)]
    alpha_daily = _data(server.api("GET", "/stats/daily", params={"days": 1, "package": "acme/alpha"}))
    alpha = sum(n for (_, p, _), n in installed.items() if p == "acme/alpha")
    assert (alpha_daily["downloads"], alpha_daily["installs"]) == (alpha, alpha)
