"""The event a webhook delivery (or a sample) is about, as its stored query receives it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cargoman.events import Topic
from cargoman.graphql_webhooks.variables import event_variables
from cargoman.timeutil import isoformat


@dataclass(frozen=True)
class DeliveredEvent:
    """One event: its id (the X-Cargoman-Delivery header), topic, time and JSON payload."""

    id: str
    topic: Topic
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_job(
        cls, event_id: str, topic: Topic, occurred_at: str, payload: Mapping[str, Any]
    ) -> DeliveredEvent:
        moment = datetime.fromisoformat(occurred_at)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(id=event_id, topic=topic, occurred_at=moment, payload=dict(payload))

    def variables(self) -> dict[str, Any]:
        """Every query variable this event provides (see ``variables.py``)."""
        return event_variables(self.topic, self.id, isoformat(self.occurred_at) or "", self.payload)
