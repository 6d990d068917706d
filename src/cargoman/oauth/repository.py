"""Queries of OAuth connections and pending authorizations (states)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cargoman.db.models import OAuthConnection, OAuthState


def get_connection(session: Session, tenant_id: str, provider: str) -> OAuthConnection | None:
    return session.scalar(
        select(OAuthConnection).where(
            OAuthConnection.tenant_id == tenant_id, OAuthConnection.provider == provider
        )
    )


def list_connections(session: Session, tenant_id: str) -> list[OAuthConnection]:
    return list(
        session.scalars(
            select(OAuthConnection)
            .where(OAuthConnection.tenant_id == tenant_id)
            .order_by(OAuthConnection.provider)
        )
    )


def lock_connection(session: Session, tenant_id: str, provider: str) -> OAuthConnection | None:
    """The connection, locked until this transaction ends, so only one holder renews its tokens.

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: a no-op UPDATE takes the
    database's write lock first, which every other writer then waits for.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(OAuthConnection)
            .where(OAuthConnection.tenant_id == tenant_id, OAuthConnection.provider == provider)
            .values(updated_at=OAuthConnection.updated_at)
            .execution_options(synchronize_session=False)
        )
    return session.scalar(
        select(OAuthConnection)
        .where(OAuthConnection.tenant_id == tenant_id, OAuthConnection.provider == provider)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def add_state(session: Session, state: OAuthState) -> None:
    session.add(state)


def take_state(session: Session, state_digest: str, provider: str) -> OAuthState | None:
    """Delete and return the pending authorization in one statement: of two callers presenting the
    same state, only one gets it."""
    return session.scalar(
        delete(OAuthState)
        .where(OAuthState.state_digest == state_digest, OAuthState.provider == provider)
        .returning(OAuthState)
        .execution_options(synchronize_session=False)
    )


def delete_expired_states(session: Session, now: datetime) -> None:
    session.execute(
        delete(OAuthState).where(OAuthState.expires_at <= now).execution_options(synchronize_session=False)
    )
