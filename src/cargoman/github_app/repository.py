"""Queries on recorded GitHub App installations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cargoman.db.models import GitHubAppInstallation


def get(session: Session, tenant_id: str, installation_id: str) -> GitHubAppInstallation | None:
    return session.scalar(
        select(GitHubAppInstallation).where(
            GitHubAppInstallation.tenant_id == tenant_id, GitHubAppInstallation.id == installation_id
        )
    )


def get_by_github_id(session: Session, tenant_id: str, github_id: int) -> GitHubAppInstallation | None:
    return session.scalar(
        select(GitHubAppInstallation).where(
            GitHubAppInstallation.tenant_id == tenant_id,
            GitHubAppInstallation.github_installation_id == github_id,
        )
    )


def all_with_github_id(session: Session, github_id: int) -> list[GitHubAppInstallation]:
    """The records of one GitHub installation in every tenant (GitHub's events name no tenant)."""
    return list(
        session.scalars(
            select(GitHubAppInstallation)
            .where(GitHubAppInstallation.github_installation_id == github_id)
            .order_by(GitHubAppInstallation.tenant_id)
        )
    )


def list_for_tenant(session: Session, tenant_id: str) -> list[GitHubAppInstallation]:
    return list(
        session.scalars(
            select(GitHubAppInstallation)
            .where(GitHubAppInstallation.tenant_id == tenant_id)
            .order_by(GitHubAppInstallation.installed_at, GitHubAppInstallation.id)
        )
    )


def active_claimed_for_account(
    session: Session, tenant_id: str, account_login: str
) -> GitHubAppInstallation | None:
    """The tenant's usable installation on a GitHub account (logins compare case-insensitively)."""
    return session.scalar(
        select(GitHubAppInstallation)
        .where(
            GitHubAppInstallation.tenant_id == tenant_id,
            GitHubAppInstallation.status == "active",
            GitHubAppInstallation.claimed_at.is_not(None),
            func.lower(GitHubAppInstallation.account_login) == account_login.lower(),
        )
        .order_by(GitHubAppInstallation.installed_at.desc())
        .limit(1)
    )


def claimed_by_other_tenant(session: Session, tenant_id: str, github_id: int) -> bool:
    return (
        session.scalar(
            select(GitHubAppInstallation.id)
            .where(
                GitHubAppInstallation.github_installation_id == github_id,
                GitHubAppInstallation.tenant_id != tenant_id,
                GitHubAppInstallation.claimed_at.is_not(None),
                GitHubAppInstallation.status != "deleted",
            )
            .limit(1)
        )
        is not None
    )
