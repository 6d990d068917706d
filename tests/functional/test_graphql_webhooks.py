"""GraphQL-native webhooks in-process: configuration through GraphQL, deliveries to a local receiver.

The app here runs the enterprise edition with its own database (SQLite file or PostgreSQL), task
workers and the webhook dispatcher, and allows loopback targets (the receiver listens on 127.0.0.1).
Events are published on the app's bus exactly as the services publish them after a commit.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok, start_backend
from tests.support.gitrepo import GitRepo
from tests.support.webhook_receiver import WebhookReceiver

from cargoman.app import create_app
from cargoman.db.models import (
    AdminCredential,
    AuditEntry,
    GraphQLWebhook,
    GraphQLWebhookDelivery,
    Package,
    Task,
    Tenant,
)
from cargoman.events import Event, Topic
from cargoman.graphql_webhooks import signing
from cargoman.graphql_webhooks.delivery import run_delivery
from cargoman.graphql_webhooks.dispatcher import DELIVERY_TASK, event_job
from cargoman.runtime import Runtime
from cargoman.secretbox import SecretBox
from cargoman.tasks.cleanup import run_cleanup
from cargoman.timeutil import utcnow

DEADLINE = 20.0
ENCRYPTION_KEY = secrets.token_hex(32)
PACKAGE_QUERY = """
query($packageName: String!, $eventId: String!) {
  package(name: $packageName) { name versions { version } }
  api: version { major }
  echo: customerByExternalId(externalId: $eventId) { id }
}
"""
SIMPLE_QUERY = "query($packageName: String!) { package(name: $packageName) { name } }"
CREATE = """
mutation($config: WebhookInput!) {
  createWebhook(config: $config) { id url events query createdAt secret }
}
"""
DELIVERIES = """
query($id: ID!) {
  webhook(id: $id) {
    id active disabledReason
    deliveries(first: 20) {
      totalCount
      edges { node {
        id eventId event attempt status requestUrl requestBody responseStatus responseBody error
        durationMs nextAttemptAt createdAt
        requestHeaders responseHeaders
      } }
    }
  }
}
"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hooks_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    with start_backend(
        request,
        tmp_path_factory.mktemp(f"graphql-webhooks-{request.param}"),
        task_num_workers=2,
        edition="enterprise",
        graphql_max_complexity=500,
        encryption_key=ENCRYPTION_KEY,
        webhook_allow_private_targets=True,
        webhook_max_attempts=3,
        webhook_retry_base_seconds=0.05,
    ) as started:
        yield started


@pytest.fixture
def hooks(hooks_backend: Backend) -> Api:
    hooks_backend.reset()
    return Api(hooks_backend.client)


@pytest.fixture
def runtime(hooks_backend: Backend) -> Runtime:
    return hooks_backend.runtime


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def graphql(api: Api, query: str, variables: dict[str, Any] | None = None, token: str = ADMIN_TOKEN) -> Any:
    response = api.client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def data(api: Api, query: str, variables: dict[str, Any] | None = None, token: str = ADMIN_TOKEN) -> Any:
    body = graphql(api, query, variables, token)
    assert "errors" not in body, body
    return body["data"]


def refused(body: dict[str, Any], code: str, field: str | None = None) -> dict[str, Any]:
    assert body["data"] is None or all(value is None for value in body["data"].values()), body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, body
    if field is not None:
        assert error["extensions"]["field"] == field, body
    return dict(error)


def create_webhook(
    api: Api, url: str, query: str = SIMPLE_QUERY, events: tuple[str, ...] = ("PACKAGE_SYNCED",), **kw: Any
) -> dict[str, Any]:
    config = {"url": url, "events": list(events), "query": query}
    created: dict[str, Any] = data(api, CREATE, {"config": config}, **kw)["createWebhook"]
    return created


def deliveries(api: Api, webhook_id: str) -> dict[str, Any]:
    webhook: dict[str, Any] = data(api, DELIVERIES, {"id": webhook_id})["webhook"]
    return webhook


def publish(runtime: Runtime, topic: Topic, payload: dict[str, Any], tenant_id: str = "default") -> Event:
    event = Event(topic=topic, tenant_id=tenant_id, payload=payload)
    runtime.events.publish(event)
    return event


def wait_until(condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def delivery_tasks_settled(runtime: Runtime) -> bool:
    """No delivery task is waiting or running (and the dispatcher queue is empty)."""
    with runtime.session_factory() as session:
        busy = session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.kind == DELIVERY_TASK, Task.status.in_(("pending", "running")))
        )
    return busy == 0


def team_credential(api: Api, level: str) -> dict[str, Any]:
    """A CMA credential of ``level`` (the registry's first credential must be an owner)."""
    ok(api.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    created: dict[str, Any] = ok(api.post("/team/credentials", json={"name": level, "level": level}), 201)
    return created


def synced_package(api: Api, make_library_repo: Callable[..., GitRepo], name: str = "acme/hooked") -> None:
    api.add_package(str(make_library_repo(name, tags=("1.0.0", "1.1.0")).path))


# -- configuration --------------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_stores_it_encrypted(hooks: Api, runtime: Runtime) -> None:
    created = create_webhook(hooks, "http://127.0.0.1:9/hook", events=("PACKAGE_SYNCED", "CUSTOMER_ACTIVITY"))
    assert created["url"] == "http://127.0.0.1:9/hook"
    assert created["events"] == ["PACKAGE_SYNCED", "CUSTOMER_ACTIVITY"]
    assert created["query"] == SIMPLE_QUERY
    assert created["secret"].startswith("whsec_")

    listed = data(hooks, "{ webhooks { totalCount edges { node { id url events active disabledReason } } } }")
    assert listed["webhooks"]["totalCount"] == 1
    node = listed["webhooks"]["edges"][0]["node"]
    assert node == {
        "id": created["id"],
        "url": created["url"],
        "events": created["events"],
        "active": True,
        "disabledReason": None,
    }
    # The secret is not a field of Webhook: it cannot be read back.
    body = graphql(hooks, "query($id: ID!) { webhook(id: $id) { secret } }", {"id": created["id"]})
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    with runtime.session_factory() as session:
        row = session.get(GraphQLWebhook, created["id"])
        assert row is not None
        assert created["secret"] not in row.secret_encrypted
        box = SecretBox.from_settings(runtime.settings)
        assert box.decrypt(row.secret_encrypted, "graphql_webhook.secret") == created["secret"]
        assert (row.creator_kind, row.creator_id) == ("root", "root")
        audit = session.scalars(select(AuditEntry).where(AuditEntry.resource_id == created["id"])).all()
        assert [entry.action for entry in audit] == ["graphql_webhook.create"]
        assert created["secret"] not in json.dumps(audit[0].after)


def test_list_pages_and_delete_removes_the_webhook(hooks: Api) -> None:
    ids = [create_webhook(hooks, f"http://127.0.0.1:9/hook/{n}")["id"] for n in range(3)]
    page = data(
        hooks,
        "{ webhooks(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }",
    )
    assert page["webhooks"]["totalCount"] == 3
    assert [edge["node"]["id"] for edge in page["webhooks"]["edges"]] == ids[:2]
    cursor = page["webhooks"]["pageInfo"]["endCursor"]
    rest = data(
        hooks,
        "query($c: String) { webhooks(pagination: {first: 2, after: $c}) { edges { node { id } } } }",
        {"c": cursor},
    )
    assert [edge["node"]["id"] for edge in rest["webhooks"]["edges"]] == ids[2:]

    assert data(hooks, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": ids[0]}) == {
        "deleteWebhook": True
    }
    refused(graphql(hooks, "query($id: ID!) { webhook(id: $id) { id } }", {"id": ids[0]}), "NOT_FOUND")
    refused(graphql(hooks, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": ids[0]}), "NOT_FOUND")
    assert data(hooks, "{ webhooks { totalCount } }")["webhooks"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("config", "code", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "VALIDATION_ERROR", "url"),
        ({"url": "http://user:secret@127.0.0.1/hook"}, "VALIDATION_ERROR", "url"),
        ({"url": "http://does-not-resolve.invalid/hook"}, "VALIDATION_ERROR", "url"),
        ({"events": []}, "VALIDATION_ERROR", "events"),
        ({"query": 'mutation { deleteWebhook(id: "x") }'}, "VALIDATION_ERROR", "query"),
        ({"query": "subscription { packageSynced { package } }"}, "VALIDATION_ERROR", "query"),
        ({"query": "{ version { major "}, "VALIDATION_ERROR", "query"),
        ({"query": "{ noSuchField }"}, "VALIDATION_ERROR", "query"),
        (
            {"query": "query($secret: String!) { package(name: $secret) { name } }"},
            "VALIDATION_ERROR",
            "query",
        ),
        (
            {"query": "{ customers(first: 100) { edges { node { id name packages { name } } } } }"},
            "QUERY_TOO_COMPLEX",
            None,
        ),
    ],
)
def test_unusable_configurations_are_refused_and_nothing_is_written(
    hooks: Api, runtime: Runtime, config: dict[str, Any], code: str, field: str | None
) -> None:
    full = {"url": "http://127.0.0.1:9/hook", "events": ["PACKAGE_SYNCED"], "query": SIMPLE_QUERY, **config}
    error = refused(graphql(hooks, CREATE, {"config": full}), code, field)
    assert error["message"]
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(GraphQLWebhook)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_loopback_targets_are_refused_unless_allowed(
    hooks: Api, hooks_backend: Backend, tmp_path: Any
) -> None:
    strict_settings = hooks_backend.settings.model_copy(
        update={"webhook_allow_private_targets": False, "task_enabled": False, "data_dir": tmp_path / "data"}
    )
    strict = Api(TestClient(create_app(strict_settings, migrate=False), raise_server_exceptions=False))
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/",
    ):
        config = {"url": url, "events": ["PACKAGE_SYNCED"], "query": SIMPLE_QUERY}
        error = refused(graphql(strict, CREATE, {"config": config}), "VALIDATION_ERROR", "url")
        assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" in error["message"]
    assert data(strict, "{ webhooks { totalCount } }")["webhooks"]["totalCount"] == 0


def test_viewers_cannot_create_or_delete_webhooks_nor_see_others(hooks: Api) -> None:
    created = create_webhook(hooks, "http://127.0.0.1:9/hook")
    viewer = team_credential(hooks, "viewer")["plain_token"]
    body = graphql(
        hooks,
        CREATE,
        {"config": {"url": "http://127.0.0.1:9/x", "events": ["PACKAGE_SYNCED"], "query": SIMPLE_QUERY}},
        token=viewer,
    )
    refused(body, "FORBIDDEN")
    refused(
        graphql(hooks, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": created["id"]}, viewer),
        "FORBIDDEN",
    )
    # A CMA credential below owner sees only the webhooks it created (none, for a viewer).
    listed = data(hooks, "{ webhooks { totalCount edges { node { id } } } }", token=viewer)
    assert listed["webhooks"] == {"totalCount": 0, "edges": []}


def test_webhooks_need_graphql_which_community_lacks(api: Api) -> None:
    config = {"url": "http://127.0.0.1:9/hook", "events": ["PACKAGE_SYNCED"], "query": SIMPLE_QUERY}
    response = api.client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"config": config}},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FEATURE_NOT_AVAILABLE"


# -- deliveries -----------------------------------------------------------------------------------


def test_an_event_posts_the_signed_query_result_and_records_it(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver, make_library_repo: Callable[..., GitRepo]
) -> None:
    synced_package(hooks, make_library_repo)
    created = create_webhook(hooks, receiver.url, PACKAGE_QUERY)
    event = publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/hooked", "status": "succeeded"})

    [request] = receiver.wait_for(1)
    headers = request.headers
    assert headers["x-cargoman-event"] == "PACKAGE_SYNCED"
    assert headers["x-cargoman-delivery"] == event.id
    assert headers["content-type"] == "application/json"
    assert signing.verify(
        created["secret"], headers["x-cargoman-timestamp"], request.body, headers["x-cargoman-signature"]
    )
    assert abs(int(headers["x-cargoman-timestamp"]) - time.time()) < 300
    payload = json.loads(request.body)
    assert payload == {
        "data": {
            "package": {
                "name": "acme/hooked",
                "versions": [{"version": "1.1.0"}, {"version": "1.0.0"}, {"version": "dev-main"}],
            },
            "api": {"major": 1},
            "echo": None,
        },
        "errors": payload["errors"],
    }
    # $eventId reached the query: the lookup by that external id found no customer.
    assert [error["extensions"]["code"] for error in payload["errors"]] == ["NOT_FOUND"]

    webhook = wait_until(
        lambda: (
            deliveries(hooks, created["id"])["deliveries"]["totalCount"] == 1
            and deliveries(hooks, created["id"])
        ),
        "the delivery record",
    )
    [edge] = webhook["deliveries"]["edges"]
    record = edge["node"]
    assert record["eventId"] == event.id
    assert (record["event"], record["attempt"], record["status"]) == ("PACKAGE_SYNCED", 1, "DELIVERED")
    assert record["requestUrl"] == receiver.url
    assert record["requestBody"].encode() == request.body
    sent = dict(header.split(": ", 1) for header in record["requestHeaders"])
    assert sent["X-Cargoman-Signature"] == headers["x-cargoman-signature"]
    assert sent["X-Cargoman-Timestamp"] == headers["x-cargoman-timestamp"]
    assert created["secret"] not in json.dumps(record)
    assert (record["responseStatus"], record["responseBody"], record["error"]) == (
        200,
        '{"received":true}',
        None,
    )
    received = dict(header.split(": ", 1) for header in record["responseHeaders"])
    assert received["content-type"] == "application/json"
    assert record["durationMs"] >= 0 and record["nextAttemptAt"] is None


def test_failed_attempts_are_retried_with_backoff_each_recorded(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    receiver.status, receiver.body = 500, b"unavailable"
    created = create_webhook(hooks, receiver.url, "{ version { major } }", events=("CUSTOMER_ACTIVITY",))
    event = publish(runtime, Topic.CUSTOMER_ACTIVITY, {"customer_id": "cus_x", "kind": "download"})

    requests = receiver.wait_for(3)
    assert {request.headers["x-cargoman-delivery"] for request in requests} == {event.id}
    wait_until(lambda: delivery_tasks_settled(runtime), "the retries to finish")
    assert len(receiver.requests) == 3  # WEBHOOK_MAX_ATTEMPTS, then no more

    records = [edge["node"] for edge in deliveries(hooks, created["id"])["deliveries"]["edges"]]
    assert [record["attempt"] for record in records] == [3, 2, 1]
    assert {record["status"] for record in records} == {"FAILED"}
    assert {record["responseStatus"] for record in records} == {500}
    assert {record["responseBody"] for record in records} == {"unavailable"}
    assert records[0]["nextAttemptAt"] is None
    assert records[1]["nextAttemptAt"] is not None and records[2]["nextAttemptAt"] is not None
    # Each attempt waited at least its backoff (0.05 s, then 0.1 s) after the one before.
    times = [record["createdAt"] for record in reversed(records)]
    assert times == sorted(times)


def test_a_revoked_creator_disables_the_webhook_and_nothing_is_sent(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    credential = team_credential(hooks, "admin")
    token = credential["plain_token"]
    created = create_webhook(hooks, receiver.url, "{ version { major } }", token=token)
    publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/one"})
    receiver.wait_for(1)
    wait_until(lambda: delivery_tasks_settled(runtime), "the first delivery")

    ok(hooks.delete(f"/team/credentials/{credential['credential']['id']}"))
    publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/two"})
    webhook = wait_until(
        lambda: (found := deliveries(hooks, created["id"])) and not found["active"] and found,
        "the webhook to be disabled",
    )
    assert (
        "revoked" in webhook["disabledReason"] and credential["credential"]["id"] in webhook["disabledReason"]
    )
    wait_until(lambda: delivery_tasks_settled(runtime), "the refused delivery")
    assert len(receiver.requests) == 1
    assert webhook["deliveries"]["totalCount"] == 1

    publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/three"})  # disabled: not even queued
    wait_until(lambda: delivery_tasks_settled(runtime), "the dispatcher")
    assert len(receiver.requests) == 1


def test_an_expired_creator_disables_the_webhook(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    credential = team_credential(hooks, "admin")
    created = create_webhook(hooks, receiver.url, "{ version { major } }", token=credential["plain_token"])
    with runtime.session_factory() as session:
        session.execute(
            update(AdminCredential)
            .where(AdminCredential.id == credential["credential"]["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()
    publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/x"})
    webhook = wait_until(
        lambda: (found := deliveries(hooks, created["id"])) and not found["active"] and found,
        "the webhook to stop",
    )
    assert "expired" in webhook["disabledReason"]
    wait_until(lambda: delivery_tasks_settled(runtime), "the refused delivery")
    assert receiver.requests == [] and webhook["deliveries"]["totalCount"] == 0


def test_only_the_subscribed_events_of_the_same_tenant_are_delivered(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    create_webhook(hooks, receiver.url, "{ version { major } }", events=("PACKAGE_SYNCED",))
    publish(runtime, Topic.CUSTOMER_ACTIVITY, {"customer_id": "cus_1", "kind": "download"})
    publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/other"}, tenant_id="another-tenant")
    wanted = publish(runtime, Topic.PACKAGE_SYNCED, {"package": "acme/mine"})
    [request] = receiver.wait_for(1)
    assert request.headers["x-cargoman-delivery"] == wanted.id
    wait_until(lambda: delivery_tasks_settled(runtime), "the dispatcher")
    assert len(receiver.requests) == 1


SAMPLE_EVERY_WEBHOOK = "{ webhooks { nodes { sample(event: PACKAGE_SYNCED) } } }"


def test_one_sample_is_evaluated_per_request(hooks: Api, receiver: WebhookReceiver) -> None:
    for _ in range(3):
        create_webhook(hooks, receiver.url, "{ version { major } }")

    body = graphql(hooks, SAMPLE_EVERY_WEBHOOK)

    errors = body["errors"]
    assert {error["extensions"]["code"] for error in errors} == {"VALIDATION_ERROR"}, body
    assert {error["extensions"]["field"] for error in errors} == {"sample"}
    assert all("at most 1 sample is evaluated per request" in error["message"] for error in errors)
    query = "query($id: ID!) { webhook(id: $id) { sample(event: PACKAGE_SYNCED) } }"
    created = create_webhook(hooks, receiver.url, "{ version { major } }")
    assert json.loads(data(hooks, query, {"id": created["id"]})["webhook"]["sample"]) == {
        "data": {"version": {"major": 1}}
    }


def test_a_webhook_query_may_not_evaluate_samples(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    refused(
        graphql(
            hooks,
            CREATE,
            {"config": {"url": receiver.url, "events": ["PACKAGE_SYNCED"], "query": SAMPLE_EVERY_WEBHOOK}},
        ),
        "VALIDATION_ERROR",
        "query",
    )
    # A query stored before that check existed is refused a sample when it runs, as a sample or a delivery.
    created = create_webhook(hooks, receiver.url, "{ version { major } }")
    with runtime.session_factory() as session, session.begin():
        session.execute(
            update(GraphQLWebhook)
            .where(GraphQLWebhook.id == created["id"])
            .values(query=SAMPLE_EVERY_WEBHOOK)
        )
    query = "query($id: ID!) { webhook(id: $id) { sample(event: PACKAGE_SYNCED) } }"
    sample = json.loads(data(hooks, query, {"id": created["id"]})["webhook"]["sample"])
    [error] = sample["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "not available while a webhook query runs" in error["message"]

    event = Event(topic=Topic.PACKAGE_SYNCED, tenant_id="default", payload={"package": "acme/x"})
    job = {**event_job(event), "webhook_id": created["id"], "attempt": 1}
    run_delivery(runtime, Task(id="task_sample", tenant_id="default", kind=DELIVERY_TASK, payload=job))
    [request] = receiver.wait_for(1)
    [error] = json.loads(request.body)["errors"]
    assert "not available while a webhook query runs" in error["message"]


SECOND_TENANT = "tenant-second"


def test_a_delivery_runs_its_query_in_the_webhook_tenant(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    created = create_webhook(hooks, receiver.url, SIMPLE_QUERY)
    with runtime.session_factory() as session, session.begin():
        if session.get(Tenant, SECOND_TENANT) is None:
            session.add(Tenant(id=SECOND_TENANT, slug=SECOND_TENANT, name="Second"))
            session.flush()
        session.add(Package(id="pkg_second_only", tenant_id=SECOND_TENANT, name="second/only"))
        session.execute(
            update(GraphQLWebhook).where(GraphQLWebhook.id == created["id"]).values(tenant_id=SECOND_TENANT)
        )
    event = Event(topic=Topic.PACKAGE_SYNCED, tenant_id=SECOND_TENANT, payload={"package": "second/only"})
    job = {**event_job(event), "webhook_id": created["id"], "attempt": 1}

    run_delivery(runtime, Task(id="task_second", tenant_id=SECOND_TENANT, kind=DELIVERY_TASK, payload=job))

    [request] = receiver.wait_for(1)
    # The second tenant's package: the query ran there, not in the default tenant.
    assert json.loads(request.body) == {"data": {"package": {"name": "second/only"}}}


def test_sample_shows_the_payload_for_the_latest_event_without_sending(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver, make_library_repo: Callable[..., GitRepo]
) -> None:
    synced_package(hooks, make_library_repo)
    created = create_webhook(hooks, receiver.url, PACKAGE_QUERY)
    query = "query($id: ID!) { webhook(id: $id) { sample(event: PACKAGE_SYNCED) } }"
    payload = json.loads(data(hooks, query, {"id": created["id"]})["webhook"]["sample"])
    assert payload["data"]["package"]["name"] == "acme/hooked"
    assert [v["version"] for v in payload["data"]["package"]["versions"]] == ["1.1.0", "1.0.0", "dev-main"]
    assert payload["data"]["api"] == {"major": 1}
    wait_until(lambda: delivery_tasks_settled(runtime), "the task queue")
    assert receiver.requests == []
    assert deliveries(hooks, created["id"])["deliveries"]["totalCount"] == 0


def test_a_target_now_resolving_to_a_private_address_gets_no_request(
    hooks: Api, hooks_backend: Backend, receiver: WebhookReceiver, tmp_path: Any
) -> None:
    created = create_webhook(hooks, receiver.url, "{ version { major } }")
    strict = Runtime(
        hooks_backend.settings.model_copy(
            update={"webhook_allow_private_targets": False, "data_dir": tmp_path}
        )
    )
    try:
        event = Event(topic=Topic.PACKAGE_SYNCED, tenant_id="default", payload={"package": "acme/x"})
        job = {**event_job(event), "webhook_id": created["id"], "attempt": 3}
        result = run_delivery(
            strict, Task(id="task_direct", tenant_id="default", kind=DELIVERY_TASK, payload=job)
        )
    finally:
        strict.dispose()
    assert result["status"] == "failed"
    assert receiver.requests == []
    [edge] = deliveries(hooks, created["id"])["deliveries"]["edges"]
    assert edge["node"]["error"].startswith("target refused") and edge["node"]["responseStatus"] is None


def test_cleanup_removes_deliveries_past_the_retention(
    hooks: Api, runtime: Runtime, receiver: WebhookReceiver
) -> None:
    created = create_webhook(hooks, receiver.url, "{ version { major } }")
    for package in ("acme/a", "acme/b"):
        publish(runtime, Topic.PACKAGE_SYNCED, {"package": package})
    receiver.wait_for(2)
    wait_until(lambda: deliveries(hooks, created["id"])["deliveries"]["totalCount"] == 2, "two records")
    with runtime.session_factory() as session:
        oldest = session.scalars(
            select(GraphQLWebhookDelivery).order_by(GraphQLWebhookDelivery.created_at)
        ).first()
        assert oldest is not None
        old_id = oldest.id
        session.execute(
            update(GraphQLWebhookDelivery)
            .where(GraphQLWebhookDelivery.id == old_id)
            .values(created_at=utcnow() - timedelta(days=91))
        )
        session.commit()
    summary = run_cleanup(runtime, "default")
    assert summary["webhook_deliveries_deleted"] == 1
    remaining = [edge["node"]["id"] for edge in deliveries(hooks, created["id"])["deliveries"]["edges"]]
    assert len(remaining) == 1 and old_id not in remaining
