"""Listing the tenant's OAuth connections for the read APIs, without ever loading their tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from cargoman.db.models import OAuthConnection


def list_connections(session: Session, tenant_id: str) -> list[OAuthConnection]:
    """Connected GitLab and Bitbucket accounts, by provider.

    The encrypted token columns are not loaded, and reading them from these rows raises.
    """
    return list(
        session.scalars(
            select(OAuthConnection)
            .options(
                defer(OAuthConnection.access_token_encrypted, raiseload=True),
                defer(OAuthConnection.refresh_token_encrypted, raiseload=True),
            )
            .where(OAuthConnection.tenant_id == tenant_id)
            .order_by(OAuthConnection.provider, OAuthConnection.created_at)
        )
    )
