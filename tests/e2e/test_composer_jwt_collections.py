"""The real `composer` client with a customer JWT as its password, granted through a collection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe
from tests.support.gitrepo import release_repo
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

JWT_SECRET = "e2e-jwt-secret-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    base = tmp_path_factory.mktemp("e2e-jwt")
    server = RegistryServer(base / "server", env={"JWT_SECRET": JWT_SECRET}).start()
    repos = {
        "acme/lib": release_repo(base / "lib", "acme/lib", ["1.0.0", "2.0.0", "2.1.0"]),
        "acme/extra": release_repo(base / "extra", "acme/extra", ["1.0.0", "2.0.0"]),
    }
    try:
        for name, repo in repos.items():
            created = server.api("POST", "/packages", json={"repository_url": str(repo.path), "name": name})
            assert created.status_code == 201, created.text
            server.wait_task(created.json()["data"]["sync_task"]["id"])
        yield server
    finally:
        server.stop()


def test_composer_installs_through_a_collection_grant_with_a_jwt(
    registry: RegistryServer, tmp_path: Path
) -> None:
    suite = {"name": "Suite", "slug": "suite", "packages": ["acme/lib"]}
    assert registry.api("POST", "/collections", json=suite).status_code == 201
    customer = registry.api("POST", "/customers", json={"name": "JWT customer"}).json()["data"]
    grant = {"collection": "suite", "constraint": "^2.0"}
    granted = registry.api("POST", f"/customers/{customer['id']}/packages", json=grant)
    assert granted.status_code == 201, granted.text
    issued = registry.api("POST", f"/customers/{customer['id']}/jwt")
    assert issued.status_code == 200, issued.text
    token = issued.json()["data"]["composer_auth"]["password"]

    project = ComposerProject(tmp_path / "project", registry.url, token)
    refused = project.require("acme/lib:^1.0")
    assert refused.returncode != 0, describe(refused)
    installed = project.require("acme/lib:^2.0")
    assert installed.returncode == 0, describe(installed)
    assert project.installed() == {"acme/lib": "2.1.0"}

    # Not in the collection yet: composer cannot have it; once added, the same JWT installs it.
    missing = project.require("acme/extra:*")
    assert missing.returncode != 0, describe(missing)
    changed = registry.api("PATCH", "/collections/suite", json={"packages": ["acme/lib", "acme/extra"]})
    assert changed.status_code == 200, changed.text
    added = project.require("acme/extra:*")
    assert added.returncode == 0, describe(added)
    # The collection grant's constraint (^2.0) applies to the newcomer too.
    assert project.installed() == {"acme/lib": "2.1.0", "acme/extra": "2.0.0"}

    # A JWT signed with another secret is no credential at all.
    forged = ComposerProject(tmp_path / "forged", registry.url, token[:-4] + "AAAA")
    refused_forged = forged.require("acme/lib:^2.0")
    assert refused_forged.returncode != 0, describe(refused_forged)
    assert forged.installed() == {}
