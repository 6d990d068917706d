"""Add an installation's Composer repositories as packages.

GitHub is asked first (repository list, each composer.json) with no transaction open; the packages
are then added in one unit of work, so a failure half-way through GitHub's answers adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from cargoman import validation
from cargoman.db.models import Package
from cargoman.errors import CargomanError
from cargoman.github_app.client import GitHubAppClient
from cargoman.github_app.config import require_app_config
from cargoman.github_app.installations import RESOURCE, usable_installation
from cargoman.github_app.tokens import installation_token
from cargoman.gitsync.urls import canonical_repository_key
from cargoman.packages.service import add_package
from cargoman.runtime import ServiceContext

UnitOfWork = Callable[[], AbstractContextManager[ServiceContext]]


@dataclass(frozen=True)
class Repository:
    """The parts of GitHub's repository object the registry uses."""

    id: int
    name: str
    full_name: str
    private: bool
    default_branch: str | None
    clone_url: str
    html_url: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class InstallationSyncResult:
    installation_id: str
    repositories: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _repository(raw: dict[str, Any]) -> Repository | None:
    full_name, clone_url = raw.get("full_name"), raw.get("clone_url")
    if not isinstance(full_name, str) or "/" not in full_name or not isinstance(clone_url, str):
        return None
    default_branch = raw.get("default_branch")
    html_url = raw.get("html_url")
    return Repository(
        id=raw["id"] if isinstance(raw.get("id"), int) else 0,
        name=str(raw.get("name") or full_name.split("/", 1)[1]),
        full_name=full_name,
        private=bool(raw.get("private")),
        default_branch=default_branch if isinstance(default_branch, str) else None,
        clone_url=clone_url,
        html_url=html_url if isinstance(html_url, str) else None,
    )


def list_repositories(ctx: ServiceContext, installation_id: str) -> list[Repository]:
    installation = usable_installation(ctx, installation_id)
    config = require_app_config(ctx.settings)
    token = installation_token(config, installation.github_installation_id)
    with GitHubAppClient(config) as client:
        raw = client.installation_repositories(token)
    return [repo for repo in map(_repository, raw) if repo is not None]


def _composer_name(raw: bytes | None) -> str | None:
    """The package name declared by composer.json; ``""`` when the file has no usable name."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else ""


def sync_installation(unit_of_work: UnitOfWork, installation_id: str) -> InstallationSyncResult:
    with unit_of_work() as ctx:
        installation = usable_installation(ctx, installation_id)
        github_id = installation.github_installation_id
        config = require_app_config(ctx.settings)
    token = installation_token(config, github_id)
    with GitHubAppClient(config) as client:
        repositories = [r for r in map(_repository, client.installation_repositories(token)) if r]
        manifests = {
            repo.full_name: _composer_name(client.file_contents(token, repo.full_name, "composer.json"))
            for repo in repositories
        }
    result = InstallationSyncResult(installation_id=installation_id, repositories=len(repositories))
    with unit_of_work() as ctx:
        usable_installation(ctx, installation_id)  # still usable after the calls to GitHub
        registered = _registered_repositories(ctx)
        for repo in repositories:
            skip = _add(ctx, repo, manifests[repo.full_name], registered, result)
            if skip is not None:
                result.skipped.append({"repository": repo.full_name, "reason": skip})
        ctx.audit(
            "github_app_installation.sync",
            RESOURCE,
            installation_id,
            None,
            {"added": [a["package"] for a in result.added], "skipped": len(result.skipped)},
        )
    return result


def _add(
    ctx: ServiceContext,
    repo: Repository,
    declared_name: str | None,
    registered: dict[str, str],
    result: InstallationSyncResult,
) -> str | None:
    """Add ``repo`` as a package; the reason it was skipped otherwise."""
    if declared_name is None:
        return "no composer.json on the default branch"
    for url in (repo.clone_url, repo.html_url):
        key = _key(url)
        if key is not None and key in registered:
            return f"already registered as {registered[key]}"
    if not declared_name:
        return "composer.json declares no package name"
    try:
        name = validation.package_name(declared_name)
        added = add_package(ctx, repo.clone_url, "github", name=name)
    except CargomanError as exc:
        return exc.message
    registered[_key(repo.clone_url) or repo.clone_url] = added.package.name
    result.added.append(
        {"repository": repo.full_name, "package": added.package.name, "sync_task": added.sync_task.id}
    )
    return None


def _key(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_repository_key(url)
    except ValueError:
        return None


def _registered_repositories(ctx: ServiceContext) -> dict[str, str]:
    rows = ctx.session.execute(
        select(Package.repository_url, Package.name).where(
            Package.tenant_id == ctx.tenant_id, Package.repository_url.is_not(None)
        )
    )
    registered: dict[str, str] = {}
    for url, name in rows:
        key = _key(url)
        if key is not None:
            registered.setdefault(key, name)
    return registered
