"""Recorded installations: reading, claiming, and recording what GitHub says about one."""

from __future__ import annotations

from typing import Any

from cargoman.config import Settings
from cargoman.db.models import GitHubAppInstallation
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.github_app import repository
from cargoman.github_app.client import GitHubAppClient
from cargoman.github_app.config import GitHubAppNotConfigured, app_config, require_app_config
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.timeutil import isoformat, utcnow

RESOURCE = "github_app_installation"


def status(settings: Settings) -> dict[str, Any]:
    config = app_config(settings)
    if config is None:
        return {"configured": False, "app_id": None, "app_slug": None}
    app_id: int | str = int(config.app_id) if config.app_id.isdigit() else config.app_id
    return {"configured": True, "app_id": app_id, "app_slug": config.slug}


def install_url(settings: Settings) -> str:
    config = require_app_config(settings)
    if config.slug is None:
        raise GitHubAppNotConfigured("GITHUB_APP_SLUG is not set: the installation page cannot be named")
    return f"{config.web_url}/apps/{config.slug}/installations/new"


def as_dict(installation: GitHubAppInstallation) -> dict[str, Any]:
    return {
        "id": installation.id,
        "github_installation_id": installation.github_installation_id,
        "account_login": installation.account_login,
        "account_type": installation.account_type,
        "repository_selection": installation.repository_selection,
        "status": installation.status,
        "claimed": installation.claimed_at is not None,
        "claimed_at": isoformat(installation.claimed_at),
        "suspended_at": isoformat(installation.suspended_at),
        "installed_at": isoformat(installation.installed_at),
    }


def list_installations(ctx: ServiceContext) -> list[GitHubAppInstallation]:
    return repository.list_for_tenant(ctx.session, ctx.tenant_id)


def get_installation(ctx: ServiceContext, installation_id: str) -> GitHubAppInstallation:
    installation = repository.get(ctx.session, ctx.tenant_id, installation_id)
    if installation is None:
        raise NotFound(f"GitHub App installation {installation_id} not found")
    return installation


def get_by_github_id(ctx: ServiceContext, github_installation_id: int) -> GitHubAppInstallation:
    installation = repository.get_by_github_id(ctx.session, ctx.tenant_id, github_installation_id)
    if installation is None:
        raise NotFound(f"GitHub App installation with GitHub ID {github_installation_id} not found")
    return installation


def usable_installation(ctx: ServiceContext, installation_id: str) -> GitHubAppInstallation:
    """An installation whose repositories the registry may read: claimed and active."""
    installation = get_installation(ctx, installation_id)
    if installation.claimed_at is None:
        raise Conflict(f"GitHub App installation {installation_id} is not claimed; claim it first")
    if installation.status != "active":
        raise Conflict(f"GitHub App installation {installation_id} is {installation.status}")
    return installation


def claim(ctx: ServiceContext, github_installation_id: int) -> GitHubAppInstallation:
    """Link an installation to this registry after GitHub confirms the app is installed there."""
    if github_installation_id <= 0:
        raise ValidationFailed("installation_id", "must be a positive GitHub installation ID")
    config = require_app_config(ctx.settings)
    if repository.claimed_by_other_tenant(ctx.session, ctx.tenant_id, github_installation_id):
        # An installation hands out its repositories: it belongs to exactly one tenant.
        raise Conflict(f"GitHub App installation {github_installation_id} is already claimed")
    with GitHubAppClient(config) as client:
        payload = client.get_installation(github_installation_id)
    installation, before = record(ctx, payload)
    if installation.claimed_at is None:
        installation.claimed_at = utcnow()
    after = as_dict(installation)
    if before != after:
        ctx.audit("github_app_installation.claim", RESOURCE, installation.id, before, after)
    return installation


def record(ctx: ServiceContext, payload: Any) -> tuple[GitHubAppInstallation, dict[str, Any] | None]:
    """Create or update the tenant's record of the installation GitHub describes in ``payload``.

    Only a claim calls this: it may revive a record an administrator or GitHub deleted. Returns the
    record and its state before (``None`` when it is new).
    """
    parsed = _parse(payload)
    github_id = parsed[0]
    installation = repository.get_by_github_id(ctx.session, ctx.tenant_id, github_id)
    before = as_dict(installation) if installation is not None else None
    if installation is None:
        installation = _new_record(ctx, github_id)
    _apply(installation, *parsed[1:])
    ctx.session.flush()
    return installation, before


def record_event(
    ctx: ServiceContext, payload: Any
) -> tuple[GitHubAppInstallation | None, dict[str, Any] | None]:
    """Record what an installation event says: a new installation is recorded unclaimed, a live one
    gets its details refreshed, a deleted one is left deleted (returned as ``None``)."""
    parsed = _parse(payload)
    github_id = parsed[0]
    installation = repository.get_by_github_id(ctx.session, ctx.tenant_id, github_id)
    if installation is not None and installation.status == "deleted":
        return None, None
    before = as_dict(installation) if installation is not None else None
    if installation is None:
        installation = _new_record(ctx, github_id)
    _apply(installation, *parsed[1:])
    ctx.session.flush()
    return installation, before


def _new_record(ctx: ServiceContext, github_id: int) -> GitHubAppInstallation:
    installation = GitHubAppInstallation(
        id=new_id("ghi"),
        tenant_id=ctx.tenant_id,
        github_installation_id=github_id,
        installed_at=utcnow(),
    )
    ctx.session.add(installation)
    return installation


def _apply(
    installation: GitHubAppInstallation, login: str, account_type: str, selection: str, suspended: bool
) -> None:
    installation.account_login = login
    installation.account_type = account_type
    installation.repository_selection = selection
    if suspended:
        installation.status = "suspended"
        installation.suspended_at = installation.suspended_at or utcnow()
    else:
        installation.status = "active"
        installation.suspended_at = None


def _parse(payload: Any) -> tuple[int, str, str, str, bool]:
    if not isinstance(payload, dict):
        raise ValidationFailed("installation", "must be an object")
    github_id = payload.get("id")
    account = payload.get("account")
    if not isinstance(github_id, int) or isinstance(github_id, bool) or github_id <= 0:
        raise ValidationFailed("installation.id", "must be a positive integer")
    if not isinstance(account, dict) or not isinstance(account.get("login"), str) or not account["login"]:
        raise ValidationFailed("installation.account.login", "must be a non-empty string")
    account_type = account.get("type") if isinstance(account.get("type"), str) else "User"
    selection = payload.get("repository_selection")
    if selection not in ("all", "selected"):
        selection = "all"
    suspended = bool(payload.get("suspended_at"))
    return github_id, account["login"][:255], str(account_type)[:30], selection, suspended
