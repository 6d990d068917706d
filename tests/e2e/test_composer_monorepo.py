"""The real composer client installs a monorepo child: only its folder's files land in vendor/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e


def _monorepo(repo: GitRepo) -> GitRepo:
    for version in ("1.0.0", "1.1.0"):
        alpha_source = f"<?php\nnamespace Acme\\Alpha;\nconst VERSION = '{version}';\n"
        repo.write(
            {
                "README.md": "monorepo root",
                "packages/alpha/composer.json": composer_json(
                    "acme/alpha", autoload={"psr-4": {"Acme\\Alpha\\": "src/"}}
                ),
                "packages/alpha/src/Alpha.php": alpha_source,
                "packages/beta/composer.json": composer_json("acme/beta", require={"acme/alpha": "^1.0"}),
                "packages/beta/src/Beta.php": "<?php\n",
            }
        )
        repo.commit(f"release {version}")
        repo.tag(version)
    return repo


def test_composer_installs_a_monorepo_child_from_its_folder(
    start_registry: Callable[..., RegistryServer], make_git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    repo = _monorepo(make_git_repo("mono"))
    server = start_registry()
    created = server.api(
        "POST",
        "/packages",
        json={"repository_url": repo.url, "name": "acme/mono", "monorepo": "packages/*/composer.json"},
    )
    assert created.status_code == 201, created.text
    task = server.wait_task(created.json()["data"]["sync_task"]["id"])
    assert task["status"] == "completed", task

    customer = server.api("POST", "/customers", json={"name": "Monorepo customer"}).json()["data"]
    for package in ("acme/alpha", "acme/beta"):
        granted = server.api("POST", f"/customers/{customer['id']}/packages", json={"package": package})
        assert granted.status_code == 201, granted.text
    # A deprecated version stays installable: the extra metadata key does not disturb composer.
    deprecated = server.api("POST", "/packages/acme/alpha/deprecate/1.1.0")
    assert deprecated.status_code == 200, deprecated.text

    project = ComposerProject(tmp_path / "project", server.url, customer["token"])
    result = project.require("acme/beta:^1.0")
    assert result.returncode == 0, describe(result)
    assert project.installed() == {"acme/alpha": "1.1.0", "acme/beta": "1.1.0"}

    alpha = project.vendor_dir / "acme" / "alpha"
    files = sorted(str(p.relative_to(alpha)) for p in alpha.rglob("*") if p.is_file())
    assert files == ["composer.json", "src/Alpha.php"]  # no README.md, packages/ or beta from the root
    assert "1.1.0" in (alpha / "src" / "Alpha.php").read_text()
    beta = project.vendor_dir / "acme" / "beta"
    assert sorted(str(p.relative_to(beta)) for p in beta.rglob("*") if p.is_file()) == [
        "composer.json",
        "src/Beta.php",
    ]
