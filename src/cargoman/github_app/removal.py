"""Removing a GitHub App installation from the registry (the app stays installed on GitHub).

The record is kept with status ``deleted`` -- as when GitHub reports the installation deleted -- so
the audit trail still refers to it; listings leave it out and no fetch uses it any more.
"""

from __future__ import annotations

from cargoman.db.models import GitHubAppInstallation
from cargoman.errors import NotFound
from cargoman.github_app.installations import RESOURCE, as_dict, get_installation
from cargoman.github_app.tokens import TOKEN_CACHE
from cargoman.runtime import ServiceContext
from cargoman.timeutil import utcnow

DELETED = "deleted"


def remove_installation(ctx: ServiceContext, installation_id: str) -> GitHubAppInstallation:
    """Mark the installation deleted; unknown or already removed ones are NOT_FOUND."""
    installation = get_installation(ctx, installation_id)
    if installation.status == DELETED:
        raise NotFound(f"GitHub App installation {installation_id} not found")
    before = as_dict(installation)
    installation.status = DELETED
    installation.suspended_at = None
    installation.updated_at = utcnow()
    github_id = installation.github_installation_id
    # Its cached access token must not serve another fetch from this process.
    ctx.after_commit(lambda: TOKEN_CACHE.forget(github_id))
    ctx.audit("github_app_installation.remove", RESOURCE, installation.id, before, as_dict(installation))
    return installation
