"""Listing the tenant's GitHub App installations (for the read APIs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoman.db.models import GitHubAppInstallation


def list_installations(session: Session, tenant_id: str) -> list[GitHubAppInstallation]:
    """Installations that still exist (deleted ones are kept only as history), oldest first."""
    return list(
        session.scalars(
            select(GitHubAppInstallation)
            .where(GitHubAppInstallation.tenant_id == tenant_id, GitHubAppInstallation.status != "deleted")
            .order_by(GitHubAppInstallation.installed_at, GitHubAppInstallation.id)
        )
    )
