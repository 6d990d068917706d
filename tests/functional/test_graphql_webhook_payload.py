"""``webhookPayload`` in webhook queries, and who sees which webhooks (SourceHut's rules).

Runs on the enterprise app of ``test_graphql_webhooks`` (SQLite and PostgreSQL, task workers and the
webhook dispatcher running, loopback targets allowed); events come from real syncs and real
customer changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from tests.functional import test_graphql_webhooks as base
from tests.functional.conftest import ADMIN_TOKEN, Api, ok
from tests.functional.test_graphql_webhooks import (
    create_webhook,
    data,
    delivery_tasks_settled,
    graphql,
    refused,
    team_credential,
    wait_until,
)
from tests.support.gitrepo import GitRepo
from tests.support.webhook_receiver import WebhookReceiver

from cargoman.db.models import GraphQLWebhook
from cargoman.runtime import Runtime

# The fixtures of the webhook tests: the same app settings, one app per database kind.
hooks_backend = base.hooks_backend
hooks = base.hooks
runtime = base.runtime
receiver = base.receiver

SYNC_PAYLOAD_QUERY = """
query($packageName: String!) {
  webhookPayload {
    uuid event date
    ... on PackageSyncedPayload {
      packageName status error willRetry versionsAdded
      package { name latestVersion }
    }
  }
  byVariable: package(name: $packageName) { name }
}
"""
ACTIVITY_PAYLOAD_QUERY = """
query {
  webhookPayload {
    uuid event date
    ... on CustomerActivityPayload {
      customerId kind status previousStatus reason
      customer { id name status }
    }
  }
}
"""
SAMPLE = "query($id: ID!, $event: WebhookEvent!) { webhook(id: $id) { sample(event: $event) } }"
LIST = "{ webhooks { totalCount edges { node { id } } } }"
READ = "query($id: ID!) { webhook(id: $id) { id url } }"
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) }"


def sample(api: Api, webhook_id: str, event: str) -> Any:
    return json.loads(data(api, SAMPLE, {"id": webhook_id, "event": event})["webhook"]["sample"])


def listed(api: Api, token: str) -> list[str]:
    edges = data(api, LIST, token=token)["webhooks"]["edges"]
    return [edge["node"]["id"] for edge in edges]


# -- webhookPayload -----------------------------------------------------------------------------------


def test_a_real_sync_delivers_the_live_package_through_webhook_payload(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver, make_library_repo: Callable[..., GitRepo]
) -> None:
    create_webhook(hooks, receiver.url, SYNC_PAYLOAD_QUERY)
    hooks.add_package(str(make_library_repo("acme/hooked", tags=("1.0.0", "1.1.0")).path))

    [request] = receiver.wait_for(1)
    body = json.loads(request.body)
    assert "errors" not in body, body
    payload = body["data"]["webhookPayload"]
    assert payload["uuid"] == request.headers["x-cargoman-delivery"]
    assert payload["event"] == "PACKAGE_SYNCED"
    assert datetime.fromisoformat(payload["date"]).tzinfo is not None
    assert payload["packageName"] == "acme/hooked"
    assert (payload["status"], payload["error"], payload["willRetry"]) == ("SUCCEEDED", None, False)
    assert sorted(payload["versionsAdded"]) == ["1.0.0", "1.1.0", "dev-main"]
    assert payload["package"] == {"name": "acme/hooked", "latestVersion": "1.1.0"}
    # The variables still reach the same query.
    assert body["data"]["byVariable"] == {"name": "acme/hooked"}
    wait_until(lambda: delivery_tasks_settled(runtime), "the delivery")
    assert len(receiver.requests) == 1


def test_customer_activity_payload_carries_the_event_and_the_live_customer(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    create_webhook(hooks, receiver.url, ACTIVITY_PAYLOAD_QUERY, events=("CUSTOMER_ACTIVITY",))
    customer = hooks.create_customer("Globex")
    ok(hooks.post(f"/customers/{customer['id']}/suspend", json={"reason": "unpaid invoice"}))
    [suspended] = receiver.wait_for(1)
    payload = json.loads(suspended.body)["data"]["webhookPayload"]
    assert payload["uuid"] == suspended.headers["x-cargoman-delivery"]
    assert payload["event"] == "CUSTOMER_ACTIVITY"
    assert payload["customerId"] == customer["id"]
    assert (payload["kind"], payload["status"], payload["previousStatus"], payload["reason"]) == (
        "STATUS_CHANGED",
        "SUSPENDED",
        "ACTIVE",
        "unpaid invoice",
    )
    assert payload["customer"] == {"id": customer["id"], "name": "Globex", "status": "SUSPENDED"}

    ok(hooks.delete(f"/customers/{customer['id']}"))
    deleted = receiver.wait_for(2)[1]
    payload = json.loads(deleted.body)["data"]["webhookPayload"]
    assert (payload["customerId"], payload["kind"], payload["previousStatus"]) == (
        customer["id"],
        "DELETED",
        "SUSPENDED",
    )
    assert payload["customer"] is None  # live: the customer no longer exists
    wait_until(lambda: delivery_tasks_settled(runtime), "the deliveries")


def test_sample_builds_the_payload_of_the_latest_event_through_the_same_field(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver, make_library_repo: Callable[..., GitRepo]
) -> None:
    hooks.add_package(str(make_library_repo("acme/sampled", tags=("2.0.0",)).path))
    created = create_webhook(hooks, receiver.url, SYNC_PAYLOAD_QUERY)
    result = sample(hooks, created["id"], "PACKAGE_SYNCED")
    assert "errors" not in result, result
    payload = result["data"]["webhookPayload"]
    assert payload["uuid"].startswith("evt_") and payload["event"] == "PACKAGE_SYNCED"
    assert (payload["packageName"], payload["status"]) == ("acme/sampled", "SUCCEEDED")
    assert payload["package"] == {"name": "acme/sampled", "latestVersion": "2.0.0"}
    assert result["data"]["byVariable"] == {"name": "acme/sampled"}

    activity = create_webhook(hooks, receiver.url, ACTIVITY_PAYLOAD_QUERY, events=("CUSTOMER_ACTIVITY",))
    # No customer at all: no event of that kind to imitate.
    assert sample(hooks, activity["id"], "CUSTOMER_ACTIVITY") == {"data": {"webhookPayload": None}}
    customer = hooks.create_customer("Initech")
    payload = sample(hooks, activity["id"], "CUSTOMER_ACTIVITY")["data"]["webhookPayload"]
    assert (payload["customerId"], payload["kind"], payload["status"]) == (
        customer["id"],
        "STATUS_CHANGED",
        "ACTIVE",
    )
    assert payload["customer"]["name"] == "Initech"
    wait_until(lambda: delivery_tasks_settled(runtime), "the task queue")
    assert receiver.requests == []  # a sample sends nothing


def test_webhook_payload_is_null_in_a_normal_request(
    hooks: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    hooks.add_package(str(make_library_repo("acme/plain", tags=("1.0.0",)).path))
    query = "{ webhookPayload { uuid ... on PackageSyncedPayload { packageName } } }"
    assert graphql(hooks, query) == {"data": {"webhookPayload": None}}


# -- visibility ---------------------------------------------------------------------------------------


def test_credentials_see_and_delete_only_their_own_webhooks(hooks: Api, runtime: Runtime) -> None:
    admin = team_credential(hooks, "admin")["plain_token"]
    other_admin = ok(hooks.post("/team/credentials", json={"name": "Other", "level": "admin"}), 201)[
        "plain_token"
    ]
    viewer = ok(hooks.post("/team/credentials", json={"name": "Viewer", "level": "viewer"}), 201)[
        "plain_token"
    ]
    by_root = create_webhook(hooks, "http://127.0.0.1:9/root")["id"]
    by_admin = create_webhook(hooks, "http://127.0.0.1:9/admin", token=admin)["id"]

    assert listed(hooks, admin) == [by_admin]
    assert data(hooks, READ, {"id": by_admin}, token=admin)["webhook"]["url"] == "http://127.0.0.1:9/admin"
    assert listed(hooks, other_admin) == []
    assert listed(hooks, viewer) == []
    # Another credential's webhook answers exactly like one that does not exist.
    missing = refused(graphql(hooks, READ, {"id": "whk_missing"}, token=admin), "NOT_FOUND")
    for webhook_id, token in ((by_root, admin), (by_admin, other_admin), (by_admin, viewer)):
        hidden = refused(graphql(hooks, READ, {"id": webhook_id}, token=token), "NOT_FOUND")
        assert hidden["message"] == missing["message"].replace("whk_missing", webhook_id)
    refused(graphql(hooks, DELETE, {"id": by_root}, token=admin), "NOT_FOUND")
    refused(graphql(hooks, DELETE, {"id": by_admin}, token=other_admin), "NOT_FOUND")
    with runtime.session_factory() as session:
        assert set(session.scalars(select(GraphQLWebhook.id))) == {by_root, by_admin}

    assert data(hooks, DELETE, {"id": by_admin}, token=admin) == {"deleteWebhook": True}
    assert listed(hooks, admin) == []


def test_the_root_token_and_owners_audit_every_webhook(hooks: Api, runtime: Runtime) -> None:
    owner = ok(hooks.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)["plain_token"]
    admin = ok(hooks.post("/team/credentials", json={"name": "CI", "level": "admin"}), 201)["plain_token"]
    by_root = create_webhook(hooks, "http://127.0.0.1:9/root")["id"]
    by_admin = create_webhook(hooks, "http://127.0.0.1:9/admin", token=admin)["id"]
    by_owner = create_webhook(hooks, "http://127.0.0.1:9/owner", token=owner)["id"]

    everything = [by_root, by_admin, by_owner]
    assert listed(hooks, ADMIN_TOKEN) == everything
    assert listed(hooks, owner) == everything
    assert data(hooks, READ, {"id": by_admin}, token=owner)["webhook"]["id"] == by_admin
    assert data(hooks, READ, {"id": by_owner})["webhook"]["id"] == by_owner
    assert data(hooks, DELETE, {"id": by_admin}, token=owner) == {"deleteWebhook": True}
    assert data(hooks, DELETE, {"id": by_owner}) == {"deleteWebhook": True}
    assert listed(hooks, owner) == [by_root]
    with runtime.session_factory() as session:
        assert list(session.scalars(select(GraphQLWebhook.id))) == [by_root]
