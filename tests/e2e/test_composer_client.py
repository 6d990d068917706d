"""The real Debian `composer` client against a running registry: access rules end to end."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe, urls_with_status
from tests.support.gitrepo import release_repo
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

LIB_TAGS = ["1.0.0", "1.1.0", "v2.0.0", "2.1.0", "2.2.0"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    base = tmp_path_factory.mktemp("e2e")
    server = RegistryServer(base / "server").start()
    repos = {
        "acme/lib": release_repo(base / "lib", "acme/lib", LIB_TAGS),
        "acme/extra": release_repo(base / "extra", "acme/extra", ["1.0.0"]),
        "other/pkg": release_repo(base / "other", "other/pkg", ["1.0.0"]),
    }
    try:
        for name, repo in repos.items():
            created = server.api("POST", "/packages", json={"repository_url": str(repo.path), "name": name})
            assert created.status_code == 201, created.text
            server.wait_task(created.json()["data"]["sync_task"]["id"])
        yield server
    finally:
        server.stop()


def _customer(server: RegistryServer, grants: dict[str, str]) -> tuple[str, str]:
    created = server.api("POST", "/customers", json={"name": "E2E customer"})
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    for package, constraint in grants.items():
        granted = server.api(
            "POST", f"/customers/{data['id']}/packages", json={"package": package, "constraint": constraint}
        )
        assert granted.status_code == 201, granted.text
    return data["id"], data["token"]


def _project(tmp_path: Path, server: RegistryServer, token: str, name: str = "project") -> ComposerProject:
    return ComposerProject(tmp_path / name, server.url, token)


def _p2(server: RegistryServer, token: str, package: str) -> httpx.Response:
    return server.request("GET", f"/p2/{package}.json", basic_token=token)


def _unresolvable(result: Any) -> bool:
    """Composer refused for lack of a matching version, not because of a transport error."""
    output = result.stdout + result.stderr
    return "could not be resolved" in output or "could not find" in output.lower()


def _versions(response: httpx.Response, package: str) -> list[str]:
    document: dict[str, Any] = response.json()
    return [entry["version"] for entry in document["packages"][package] if "version" in entry]


def test_grant_constraint_limits_what_composer_installs(registry: RegistryServer, tmp_path: Path) -> None:
    _, token = _customer(registry, {"acme/lib": "^2.0"})
    project = _project(tmp_path, registry, token)

    refused = project.require("acme/lib:^1.0")
    assert refused.returncode != 0, describe(refused)
    assert _unresolvable(refused), describe(refused)
    assert project.installed() == {}

    installed = project.require("acme/lib:^2.0")
    assert installed.returncode == 0, describe(installed)
    assert project.installed() == {"acme/lib": "2.2.0"}
    assert "2.2.0" in (project.path / "vendor/acme/lib/src/Version.php").read_text()


def test_dist_sha1_in_metadata_matches_the_served_archive(registry: RegistryServer, tmp_path: Path) -> None:
    _, token = _customer(registry, {"acme/lib": "*"})
    project = _project(tmp_path, registry, token)
    result = project.require("acme/lib:2.1.0")
    assert result.returncode == 0, describe(result)
    (locked,) = project.lock()["packages"]
    archive = registry.request("GET", "/dist/acme/lib/2.1.0.zip", basic_token=token)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    assert hashlib.sha1(archive.content).hexdigest() == locked["dist"]["shasum"]
    assert (
        locked["dist"]["reference"] == locked["dist"]["reference"].strip()
        and len(locked["dist"]["reference"]) == 40
    )


def test_frozen_customer_only_installs_frozen_versions(registry: RegistryServer, tmp_path: Path) -> None:
    customer_id, token = _customer(registry, {"acme/lib": "*"})
    frozen = registry.api(
        "POST",
        f"/customers/{customer_id}/freeze",
        json={"versions": [{"package": "acme/lib", "version": "2.1.0"}]},
    )
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["data"]["status"] == "frozen"

    project = _project(tmp_path, registry, token)
    newer = project.require("acme/lib:^2.2")
    assert newer.returncode != 0, describe(newer)
    assert _unresolvable(newer), describe(newer)
    result = project.require("acme/lib:*")
    assert result.returncode == 0, describe(result)
    assert project.installed() == {"acme/lib": "2.1.0"}
    assert _versions(_p2(registry, token, "acme/lib"), "acme/lib") == ["2.1.0"]


def test_suspended_customer_gets_403(registry: RegistryServer, tmp_path: Path) -> None:
    customer_id, token = _customer(registry, {"acme/lib": "*"})
    project = _project(tmp_path, registry, token)
    suspended = registry.api("POST", f"/customers/{customer_id}/suspend", json={"reason": "Payment failed"})
    assert suspended.status_code == 200, suspended.text

    result = project.require("acme/lib:^2.0")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "403" in output, describe(result)
    direct = registry.request("GET", "/packages.json", basic_token=token)
    assert direct.status_code == 403
    assert "Payment failed" in direct.json()["error"]["message"]

    registry.api("POST", f"/customers/{customer_id}/reactivate")
    again = project.require("acme/lib:^2.0")
    assert again.returncode == 0, describe(again)


def test_package_scoped_token_cannot_see_other_vendors(registry: RegistryServer, tmp_path: Path) -> None:
    customer_id, _ = _customer(registry, {"acme/lib": "*", "acme/extra": "*", "other/pkg": "*"})
    created = registry.api(
        "POST",
        f"/customers/{customer_id}/tokens",
        json={"name": "acme only", "scope": "download", "package_scopes": ["acme/*"]},
    )
    assert created.status_code == 201, created.text
    token = created.json()["data"]["plain_token"]

    root = registry.request("GET", "/packages.json", basic_token=token).json()
    assert root["available-packages"] == ["acme/extra", "acme/lib"]
    assert _p2(registry, token, "other/pkg").status_code == 403

    project = _project(tmp_path, registry, token)
    hidden = project.require("other/pkg:*")
    assert hidden.returncode != 0, describe(hidden)
    assert _unresolvable(hidden), describe(hidden)
    visible = project.require("acme/extra:*")
    assert visible.returncode == 0, describe(visible)
    assert project.installed() == {"acme/extra": "1.0.0"}


def test_yanked_version_is_hidden(registry: RegistryServer, tmp_path: Path) -> None:
    _, token = _customer(registry, {"acme/lib": "*"})
    yanked = registry.api("POST", "/packages/acme/lib/yank/2.2.0")
    assert yanked.status_code == 200, yanked.text
    try:
        assert "2.2.0" not in _versions(_p2(registry, token, "acme/lib"), "acme/lib")
        assert registry.request("GET", "/dist/acme/lib/2.2.0.zip", basic_token=token).status_code == 404
        project = _project(tmp_path, registry, token)
        result = project.require("acme/lib:^2.0")
        assert result.returncode == 0, describe(result)
        assert project.installed() == {"acme/lib": "2.1.0"}
    finally:
        assert registry.api("POST", "/packages/acme/lib/unyank/2.2.0").status_code == 200
    assert "2.2.0" in _versions(_p2(registry, token, "acme/lib"), "acme/lib")


def test_second_update_revalidates_metadata_with_304(registry: RegistryServer, tmp_path: Path) -> None:
    _, token = _customer(registry, {"acme/lib": "*", "acme/extra": "*"})
    project = _project(tmp_path, registry, token)
    first = project.require("acme/lib:^2.0")
    assert first.returncode == 0, describe(first)
    second = project.update(verbose=True)
    assert second.returncode == 0, describe(second)
    revalidated = urls_with_status(second, 304)
    assert f"{registry.url}/p2/acme/lib.json" in revalidated, describe(second)
    assert not [url for url in urls_with_status(second, 200) if "/p2/" in url], describe(second)


def test_metadata_changes_are_seen_by_a_cached_client(registry: RegistryServer, tmp_path: Path) -> None:
    """A grant change right after a fetch must not be hidden by a 304 (one-second Last-Modified)."""
    customer_id, token = _customer(registry, {"acme/lib": "^1.0"})
    project = _project(tmp_path, registry, token)
    first = project.require("acme/lib:*")
    assert first.returncode == 0, describe(first)
    assert project.installed() == {"acme/lib": "1.1.0"}
    widened = registry.api(
        "PUT",
        f"/customers/{customer_id}/packages",
        json={"packages": [{"package": "acme/lib", "constraint": "*"}]},
    )
    assert widened.status_code == 200, widened.text
    update = project.update()
    assert update.returncode == 0, describe(update)
    assert project.installed() == {"acme/lib": "2.2.0"}


def test_notify_batch_is_recorded(registry: RegistryServer, tmp_path: Path) -> None:
    _, token = _customer(registry, {"acme/extra": "*"})
    project = _project(tmp_path, registry, token)
    result = project.require("acme/extra:*", verbose=True)
    assert result.returncode == 0, describe(result)
    posted = registry.request(
        "POST",
        "/downloads",
        basic_token=token,
        json={"downloads": [{"name": "acme/extra", "version": "1.0.0.0"}]},
    )
    assert posted.status_code == 200
    assert posted.json()["recorded"] == 1
    assert json.loads(posted.text)["status"] == "success"


def test_dev_branches_install_and_token_use_is_recorded(registry: RegistryServer, tmp_path: Path) -> None:
    import time

    customer_id, token = _customer(registry, {"acme/lib": "*"})
    project = _project(tmp_path, registry, token)
    result = project.require("acme/lib:dev-main")
    assert result.returncode == 0, describe(result)
    assert project.installed() == {"acme/lib": "dev-main"}
    branches = registry.request("GET", "/p2/acme/lib~dev.json", basic_token=token).json()
    (main,) = branches["packages"]["acme/lib"]
    assert main["version"] == "dev-main" and main["default-branch"] is True

    # Token use is written in batches, off the request path; it shows up within a few seconds.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        (listed,) = registry.api("GET", f"/customers/{customer_id}/tokens").json()["data"]
        if listed["last_used_at"] is not None:
            break
        time.sleep(0.2)
    assert listed["last_used_at"] is not None
    assert listed["last_used_ip"] == "127.0.0.1"
