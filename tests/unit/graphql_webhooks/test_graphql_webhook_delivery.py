"""Delivery scheduling and whose credentials a stored query runs with."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.orm import Session

from cargoman.db.models import GraphQLWebhook
from cargoman.graphql_webhooks.delivery import MAX_BACKOFF_SECONDS, creator_principal, retry_delay
from cargoman.timeutil import utcnow


def test_retries_back_off_exponentially_up_to_an_hour() -> None:
    assert [retry_delay(30.0, attempt) for attempt in (1, 2, 3, 4)] == [30.0, 60.0, 120.0, 240.0]
    assert retry_delay(0.2, 2) == 0.4
    assert retry_delay(30.0, 20) == MAX_BACKOFF_SECONDS


class _NoDatabase:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError("root and unknown creators need no credential lookup")


def test_root_webhooks_run_as_root_and_unknown_creators_are_refused() -> None:
    session = cast(Session, _NoDatabase())
    root = GraphQLWebhook(creator_kind="root", creator_id="root", tenant_id="default")
    principal = creator_principal(session, root, utcnow())
    assert not isinstance(principal, str)
    assert (principal.kind, principal.level, principal.id) == ("root", "owner", "root")

    odd = GraphQLWebhook(creator_kind="customer", creator_id="tok_1", tenant_id="default")
    assert creator_principal(session, odd, utcnow()) == "unknown creator kind 'customer'"
