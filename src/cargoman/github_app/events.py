"""What the registry does with the GitHub App's `installation` and `installation_repositories` events.

An installation first seen through an event is recorded unclaimed in every mode -- anyone may install
a public app -- and an administrator claims it (POST /api/v1/github-app/installations/claim). Events
refresh the details of recorded installations but never revive a deleted one: only a claim does.
Deletion and suspension apply to the installation's record in every tenant: they are facts about
GitHub, not about one tenant.
"""

from __future__ import annotations

from typing import Any

from cargoman.db.models import AuditEntry, GitHubAppInstallation
from cargoman.errors import ValidationFailed
from cargoman.github_app import repository
from cargoman.github_app.installations import RESOURCE, as_dict, record_event
from cargoman.github_app.tokens import TOKEN_CACHE
from cargoman.runtime import ServiceContext
from cargoman.timeutil import utcnow

_RECORDING_ACTIONS = ("created", "new_permissions_accepted")


def handle_installation_event(ctx: ServiceContext, event_name: str, payload: dict[str, Any]) -> str:
    """Apply one event; returns a short description of what was done (for the delivery log)."""
    if event_name not in ("installation", "installation_repositories"):
        return f"ignored: {event_name} is not an installation event"
    action = payload.get("action")
    installation = payload.get("installation")
    if not isinstance(installation, dict):
        raise ValidationFailed("installation", "the event carries no installation object")
    github_id = installation.get("id")
    if not isinstance(github_id, int) or isinstance(github_id, bool):
        raise ValidationFailed("installation.id", "must be an integer")
    if event_name == "installation_repositories":
        return _repositories_changed(ctx, action, installation, payload)
    if action in _RECORDING_ACTIONS:
        return _recorded(ctx, installation)
    if action == "deleted":
        return _set_status(ctx, github_id, "deleted")
    if action == "suspend":
        return _set_status(ctx, github_id, "suspended")
    if action == "unsuspend":
        return _set_status(ctx, github_id, "active")
    return f"ignored: installation action {action!r}"


def _recorded(ctx: ServiceContext, payload: dict[str, Any]) -> str:
    installation, before = record_event(ctx, payload)
    if installation is None:
        return f"ignored: installation {payload['id']} was deleted"
    ctx.audit("github_app_installation.create", RESOURCE, installation.id, before, as_dict(installation))
    claimed = "claimed" if installation.claimed_at is not None else "waiting to be claimed"
    return (
        f"installation {installation.github_installation_id} on {installation.account_login} "
        f"recorded ({claimed})"
    )


def _set_status(ctx: ServiceContext, github_id: int, status: str) -> str:
    rows = repository.all_with_github_id(ctx.session, github_id)
    if status != "active":
        # A suspended or removed installation's token must not serve another fetch from this process.
        ctx.after_commit(lambda: TOKEN_CACHE.forget(github_id))
    if not rows:
        return f"ignored: installation {github_id} is not recorded"
    for row in rows:
        if row.status == "deleted" and status != "deleted":
            continue  # GitHub never revives a deleted installation; a reinstall has a new ID
        before = as_dict(row)
        row.status = status
        row.suspended_at = (row.suspended_at or utcnow()) if status == "suspended" else None
        _audit(ctx, row, f"github_app_installation.{_ACTION_NAMES[status]}", before)
    return f"installation {github_id} {status}"


_ACTION_NAMES = {"deleted": "delete", "suspended": "suspend", "active": "unsuspend"}


def _repositories_changed(
    ctx: ServiceContext, action: Any, installation: dict[str, Any], payload: dict[str, Any]
) -> str:
    github_id: int = installation["id"]
    rows = repository.all_with_github_id(ctx.session, github_id)
    if not rows:
        return f"ignored: installation {github_id} is not recorded"
    added = _names(payload.get("repositories_added"))
    removed = _names(payload.get("repositories_removed"))
    selection = payload.get("repository_selection") or installation.get("repository_selection")
    for row in rows:
        before = as_dict(row)
        if selection in ("all", "selected"):
            row.repository_selection = selection
        _audit(
            ctx,
            row,
            "github_app_installation.repositories",
            before,
            {**as_dict(row), "repositories_added": added, "repositories_removed": removed},
        )
    return f"installation {github_id}: {len(added)} repositories added, {len(removed)} removed ({action})"


def _names(repositories: Any) -> list[str]:
    if not isinstance(repositories, list):
        return []
    return [
        repo["full_name"]
        for repo in repositories
        if isinstance(repo, dict) and isinstance(repo.get("full_name"), str)
    ]


def _audit(
    ctx: ServiceContext,
    row: GitHubAppInstallation,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any] | None = None,
) -> None:
    """An audit entry in the tenant that owns ``row`` (the event's context may be another tenant's)."""
    ctx.session.add(
        AuditEntry(
            tenant_id=row.tenant_id,
            actor=ctx.actor,
            actor_kind=ctx.actor_kind,
            action=action,
            resource_type=RESOURCE,
            resource_id=row.id,
            before=before,
            after=after if after is not None else as_dict(row),
            ip=ctx.ip,
        )
    )
