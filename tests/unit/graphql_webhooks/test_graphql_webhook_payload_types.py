"""From a delivered event to the typed ``webhookPayload`` value, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from cargoman.events import Topic
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.web.graphql.subscriptions import CustomerActivityKind, PackageSyncStatus
from cargoman.web.graphql.types import CustomerStatus
from cargoman.web.graphql.webhook_payload import CustomerActivityPayload, PackageSyncedPayload, payload_of
from cargoman.web.graphql.webhooks import WebhookEvent

SYNC_PAYLOAD = {
    "package": "acme/tool",
    "status": "failed",
    "error": "git clone failed",
    "will_retry": True,
    "attempt": 2,
    "task_id": "task_1",
    "synced_at": "2025-03-01T10:00:05Z",
    "versions_added": [],
    "versions_updated": [],
    "versions_removed": [],
    "versions_unchanged": 4,
    "warnings": 1,
}


def test_a_job_becomes_an_event_with_its_variables() -> None:
    event = DeliveredEvent.from_job("evt_1", Topic.PACKAGE_SYNCED, "2025-03-01T10:00:00Z", SYNC_PAYLOAD)
    assert event.occurred_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert event.variables() == {
        "event": "PACKAGE_SYNCED",
        "eventId": "evt_1",
        "occurredAt": "2025-03-01T10:00:00Z",
        "packageName": "acme/tool",
        "syncStatus": "failed",
        "syncError": "git clone failed",
    }


def test_a_sync_event_carries_every_field_of_the_published_payload() -> None:
    event = DeliveredEvent.from_job("evt_1", Topic.PACKAGE_SYNCED, "2025-03-01T10:00:00Z", SYNC_PAYLOAD)
    payload = payload_of(event, "default")
    assert isinstance(payload, PackageSyncedPayload)
    assert (payload.uuid, payload.event, payload.date) == (
        "evt_1",
        WebhookEvent.PACKAGE_SYNCED,
        event.occurred_at,
    )
    assert (payload.package_name, payload.status, payload.error) == (
        "acme/tool",
        PackageSyncStatus.FAILED,
        "git clone failed",
    )
    assert (payload.will_retry, payload.attempt, payload.task_id) == (True, 2, "task_1")
    assert payload.synced_at == datetime(2025, 3, 1, 10, 0, 5, tzinfo=UTC)
    assert (payload.versions_unchanged, payload.warnings) == (4, 1)


def test_a_customer_event_carries_its_status_change() -> None:
    activity = {
        "customer_id": "cus_1",
        "kind": "status_changed",
        "status": "frozen",
        "previous_status": "active",
        "reason": None,
    }
    event = DeliveredEvent.from_job("evt_2", Topic.CUSTOMER_ACTIVITY, "2025-03-01T10:00:00Z", activity)
    payload = payload_of(event, "default")
    assert isinstance(payload, CustomerActivityPayload)
    assert (payload.customer_id, payload.kind) == ("cus_1", CustomerActivityKind.STATUS_CHANGED)
    assert (payload.status, payload.previous_status) == (CustomerStatus.FROZEN, CustomerStatus.ACTIVE)
    assert payload.occurred_at == event.occurred_at


def test_an_event_without_its_subject_has_no_payload() -> None:
    for topic, incomplete in (
        (Topic.PACKAGE_SYNCED, {}),
        (Topic.PACKAGE_SYNCED, {"package": "acme/tool", "status": "unknown"}),
        (Topic.CUSTOMER_ACTIVITY, {"customer_id": "cus_1"}),
    ):
        event = DeliveredEvent.from_job("evt_3", topic, "2025-03-01T10:00:00Z", incomplete)
        assert payload_of(event, "default") is None
