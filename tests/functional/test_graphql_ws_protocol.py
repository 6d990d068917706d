"""GraphQL over WebSocket (graphql-transport-ws): handshake, credentials, close codes, ordering,
limits, the events behind packageSynced/customerActivity, tenant scoping and unsubscribing.

The Pro app shares its database with the ``api`` app, whose task workers run the syncs; both apps
share one event bus, as server processes sharing a Redis bus would. A message answered after
``subscribe`` (a ``pong``) proves the subscription listens, so no test waits on luck.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok
from tests.support.gitrepo import GitRepo

from cargoman.app import CargomanApp, create_app
from cargoman.db.models import DEFAULT_TENANT_ID, AdminCredential
from cargoman.events import Event, EventHandler, InProcessEventBus, Topic
from cargoman.security import AdminTokenVerifier
from cargoman.timeutil import utcnow
from cargoman.web.graphql import subscriptions, ws

PROTOCOL = "graphql-transport-ws"
pytestmark = pytest.mark.timeout(120)


class CountingBus(InProcessEventBus):
    """The in-process bus, counting the subscriptions registered beyond the app's own (``baseline``)."""

    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.baseline = 0
        self._count_lock = threading.Lock()

    def subscribe(self, handler: EventHandler, topics: frozenset[Topic] | None = None) -> Callable[[], None]:
        unsubscribe = super().subscribe(handler, topics)
        with self._count_lock:
            self.active += 1
        done = False

        def counted_unsubscribe() -> None:
            nonlocal done
            with self._count_lock:
                if not done:
                    done = True
                    self.active -= 1
            unsubscribe()

        return counted_unsubscribe

    def wait_for(self, subscriptions: int, timeout: float = 10.0) -> None:
        """Poll until exactly ``subscriptions`` GraphQL subscriptions are registered."""
        deadline = time.monotonic() + timeout
        while self.active - self.baseline != subscriptions:
            registered = self.active - self.baseline
            assert time.monotonic() < deadline, (
                f"{registered} subscriptions registered, expected {subscriptions}"
            )
            time.sleep(0.01)


@pytest.fixture(scope="module")
def _pro_app(backend: Backend) -> Iterator[CargomanApp]:
    """Pro, without task workers of its own: the ``api`` app's workers run the syncs."""
    # The same data directory too: stored archives and the change counter are shared like the database.
    settings = backend.settings.model_copy(
        update={
            "edition": "pro",
            "task_enabled": False,
            "graphql_ws_connection_init_timeout": 0.5,
        }
    )
    app = create_app(settings)
    events = CountingBus()
    app.runtime.events = events
    own_events = backend.runtime.events
    backend.runtime.events = events
    try:
        with TestClient(app, raise_server_exceptions=False):
            events.baseline = events.active  # subscribers the app registers itself at startup
            yield app
    finally:
        backend.runtime.events = own_events


@pytest.fixture
def pro_app(api: Api, _pro_app: CargomanApp) -> CargomanApp:
    """The Pro app on the emptied registry of ``api``; no subscription is left from another test."""
    assert isinstance(_pro_app.runtime.events, CountingBus)
    _pro_app.runtime.events.wait_for(0)
    return _pro_app


@pytest.fixture
def pro(pro_app: CargomanApp) -> Api:
    return Api(TestClient(pro_app, raise_server_exceptions=False))


def bus(app: CargomanApp) -> CountingBus:
    events = app.runtime.events
    assert isinstance(events, CountingBus)
    return events


@contextmanager
def connect(pro: Api, token: str | None = ADMIN_TOKEN, **init: Any) -> Iterator[Any]:
    """An open, acknowledged connection (starlette's WebSocketTestSession)."""
    payload = dict(init) if init else ({"Authorization": f"Bearer {token}"} if token else {})
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        session.send_json({"type": "connection_init", "payload": payload})
        assert session.receive_json() == {"type": "connection_ack"}
        yield session


def closed_with(session: Any) -> tuple[int, str]:
    """Read until the server closes; the close code and reason."""
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            session.receive_json()
    return closed.value.code, closed.value.reason


def closed_without_messages(session: Any) -> tuple[int, str]:
    """The close code and reason, failing at once if anything but a pong comes first."""
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            message = session.receive_json()
            assert message["type"] == "pong", f"received {message} instead of the close"
    return closed.value.code, closed.value.reason


def refused(pro: Api, payload: dict[str, Any]) -> tuple[int, str]:
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        session.send_json({"type": "connection_init", "payload": payload})
        return closed_with(session)


def subscribe(session: Any, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
    """Subscribe, then ping: the pong proves the subscription listens (messages are handled in order)."""
    session.send_json({"type": "subscribe", "id": op_id, "payload": {"query": query, "variables": variables}})
    session.send_json({"type": "ping", "payload": {"after": op_id}})


def next_message(session: Any) -> dict[str, Any]:
    """The next message that is not a pong."""
    while True:
        message: dict[str, Any] = session.receive_json()
        if message["type"] != "pong":
            return message


def synced_events(session: Any) -> dict[str, Any]:
    message = next_message(session)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["packageSynced"]
    return event


SYNCED = """subscription($name: String) { packageSynced(name: $name) {
  package status versionsAdded versionsRemoved versionsUnchanged warnings error
  willRetry attempt taskId syncedAt
} }"""
ACTIVITY = """subscription($customerId: ID, $kinds: [CustomerActivityKind!]) {
  customerActivity(customerId: $customerId, kinds: $kinds) {
    customerId kind packageName version tokenId status previousStatus reason occurredAt
  }
}"""


def add_package(pro: Api, repo: GitRepo) -> dict[str, Any]:
    created: dict[str, Any] = ok(pro.post("/packages", json={"repository_url": str(repo.path)}), 201)
    return created


# -- handshake and credentials ---------------------------------------------------------------------


def test_the_subprotocol_is_required(pro: Api) -> None:
    with pro.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as session:
        assert closed_with(session)[0] == 4406


def test_connection_init_must_come_in_time(pro: Api) -> None:
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        assert session.accepted_subprotocol == PROTOCOL
        session.send_json({"type": "ping"})
        assert session.receive_json() == {"type": "pong"}  # ping is fine before the ack...
        code, reason = closed_with(session)  # ...but it does not stand in for connection_init
    assert (code, reason) == (4408, "Connection initialisation timeout")


def test_credentials_follow_the_rules_of_post(pro: Api, api: Api) -> None:
    customer = api.create_customer("Acme")
    for payload in ({}, {"Authorization": "Bearer wrong"}, {"token": "cma_" + "x" * 32}, {"token": ""}):
        code, reason = refused(pro, payload)
        assert code == 4401 and reason.startswith("UNAUTHORIZED"), payload
    code, reason = refused(pro, {"token": customer["token"]})
    assert code == 4403 and reason.startswith("FORBIDDEN"), reason
    # Accepted spellings: the Authorization entry (any case of the key), a bare token, the upgrade header.
    for init in ({"authorization": f"Bearer {ADMIN_TOKEN}"}, {"token": ADMIN_TOKEN}):
        with connect(pro, **init):
            pass
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers=headers) as session:
        session.send_json({"type": "connection_init"})
        assert session.receive_json() == {"type": "connection_ack"}


def test_community_edition_refuses_subscriptions(api: Api) -> None:
    with api.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        session.send_json({"type": "connection_init", "payload": {"token": ADMIN_TOKEN}})
        code, reason = closed_with(session)
    assert code == 4403 and reason.startswith("FEATURE_NOT_AVAILABLE"), reason


def test_a_viewer_may_subscribe(pro: Api, pro_app: CargomanApp) -> None:
    ok(pro.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)  # the first is an owner
    viewer = ok(pro.post("/team/credentials", json={"name": "Val", "level": "viewer"}), 201)
    with connect(pro, viewer["plain_token"]) as session:
        subscribe(session, "1", ACTIVITY)
        bus(pro_app).wait_for(1)
        customer = pro.create_customer("Acme")
        ok(pro.post(f"/customers/{customer['id']}/suspend", json={}))
        event = next_message(session)["payload"]["data"]["customerActivity"]
        assert (event["customerId"], event["kind"], event["status"]) == (
            customer["id"],
            "STATUS_CHANGED",
            "SUSPENDED",
        )


def test_a_revoked_credential_starts_nothing_more(pro: Api) -> None:
    owner = ok(pro.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    with connect(pro, owner["plain_token"]) as session:
        ok(pro.delete(f"/team/credentials/{owner['credential']['id']}"))
        session.send_json({"type": "subscribe", "id": "1", "payload": {"query": SYNCED}})
        code, _ = closed_with(session)
    assert code == 4401


# -- protocol violations ---------------------------------------------------------------------------


def test_subscribe_before_the_ack_closes_4401(pro: Api) -> None:
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        session.send_json({"type": "subscribe", "id": "1", "payload": {"query": SYNCED}})
        assert closed_with(session) == (4401, "Unauthorized")


def test_a_second_connection_init_closes_4429(pro: Api) -> None:
    with connect(pro) as session:
        session.send_json({"type": "connection_init", "payload": {"token": ADMIN_TOKEN}})
        assert closed_with(session)[0] == 4429


def test_a_duplicate_id_closes_4409_and_unsubscribes(pro: Api, pro_app: CargomanApp) -> None:
    with connect(pro) as session:
        subscribe(session, "same", SYNCED)
        bus(pro_app).wait_for(1)
        session.send_json({"type": "subscribe", "id": "same", "payload": {"query": SYNCED}})
        assert closed_with(session) == (4409, "Subscriber for same already exists")
    bus(pro_app).wait_for(0)
    long_id = "x" * 300  # the close reason naming it is cut to what a close frame holds
    with connect(pro) as session:
        subscribe(session, long_id, SYNCED)
        session.send_json({"type": "subscribe", "id": long_id, "payload": {"query": SYNCED}})
        code, reason = closed_with(session)
    assert code == 4409 and reason.startswith("Subscriber for xxx") and len(reason.encode()) <= 123
    bus(pro_app).wait_for(0)


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        '["a list"]',
        '{"no": "type"}',
        '{"type": "whatever"}',
        '{"type": "next", "id": "1", "payload": {}}',
        '{"type": "subscribe", "payload": {"query": "{ version { major } }"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": 7}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ version { major } }", "variables": []}}',
        '{"type": "complete"}',
        '{"type": "connection_init", "payload": "a string"}',
    ],
)
def test_malformed_or_unexpected_messages_close_4400(pro: Api, message: str) -> None:
    with pro.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        if not message.startswith('{"type": "connection_init"'):
            session.send_json({"type": "connection_init", "payload": {"token": ADMIN_TOKEN}})
            assert session.receive_json() == {"type": "connection_ack"}
        session.send_text(message)
        assert closed_with(session)[0] == 4400


def test_ping_is_answered_with_its_payload(pro: Api) -> None:
    with connect(pro) as session:
        session.send_json({"type": "ping", "payload": {"n": 1}})
        assert session.receive_json() == {"type": "pong", "payload": {"n": 1}}
        session.send_json({"type": "pong"})  # unsolicited pongs are allowed and ignored
        session.send_json({"type": "ping"})
        assert session.receive_json() == {"type": "pong"}


# -- operations ------------------------------------------------------------------------------------


def test_queries_answer_once_then_complete(pro: Api) -> None:
    with connect(pro) as session:
        session.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ version { major } }"}})
        assert session.receive_json() == {
            "type": "next",
            "id": "q",
            "payload": {"data": {"version": {"major": 1}}},
        }
        assert session.receive_json() == {"type": "complete", "id": "q"}


def test_request_errors_answer_error_and_keep_the_connection(pro: Api) -> None:
    aliases = " ".join(f"a{i}: package" for i in range(600))
    cases = {
        "parse": ("subscription {", "GRAPHQL_PARSE_FAILED"),
        "invalid": ("subscription { packageSynced { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        "two roots": (
            "subscription { packageSynced { package } customerActivity { kind } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        "complex": (f"subscription {{ packageSynced {{ {aliases} }} }}", "QUERY_TOO_COMPLEX"),
    }
    with connect(pro) as session:
        for op_id, (query, code) in cases.items():
            session.send_json({"type": "subscribe", "id": op_id, "payload": {"query": query}})
            message = session.receive_json()
            assert message["type"] == "error" and message["id"] == op_id, message
            assert message["payload"][0]["extensions"]["code"] == code, message
        # An id that ended with an error is free again.
        session.send_json({"type": "subscribe", "id": "parse", "payload": {"query": "{ version { major } }"}})
        assert session.receive_json()["type"] == "next"
        assert session.receive_json() == {"type": "complete", "id": "parse"}


def test_package_synced_reports_each_sync_of_the_named_package(
    pro: Api, pro_app: CargomanApp, make_library_repo: Callable[..., GitRepo]
) -> None:
    library = make_library_repo("acme/library")
    other = make_library_repo("acme/other")
    with connect(pro) as session:
        subscribe(session, "lib", SYNCED, {"name": "ACME/Library"})
        subscribe(session, "all", SYNCED)
        bus(pro_app).wait_for(2)
        pro.wait_for_task(add_package(pro, other)["sync_task"]["id"])
        library_task = add_package(pro, library)["sync_task"]["id"]
        task = pro.wait_for_task(library_task)
        seen: dict[str, list[dict[str, Any]]] = {"lib": [], "all": []}
        for _ in range(3):
            message = next_message(session)
            assert message["type"] == "next", message
            seen[message["id"]].append(message["payload"]["data"]["packageSynced"])
        # The filtered subscription got its package only.
        assert [event["package"] for event in seen["all"]] == ["acme/other", "acme/library"]
        [event] = seen["lib"]
        assert event == {
            "package": "acme/library",
            "status": "SUCCEEDED",
            "versionsAdded": event["versionsAdded"],
            "versionsRemoved": [],
            "versionsUnchanged": 0,
            "warnings": 0,
            "error": None,
            "willRetry": False,
            "attempt": 1,
            "taskId": library_task,
            "syncedAt": task["finished_at"],
        }
        assert {"1.0.0", "1.1.0", "2.0.0"} <= set(event["versionsAdded"])
        assert seen["all"][1] == event


def test_a_failed_sync_is_reported(
    pro: Api, pro_app: CargomanApp, make_library_repo: Callable[..., GitRepo]
) -> None:
    library = make_library_repo("acme/library")
    with connect(pro) as session:
        subscribe(session, "1", SYNCED, {"name": "acme/library"})
        bus(pro_app).wait_for(1)
        add_package(pro, library)
        assert synced_events(session)["status"] == "SUCCEEDED"
        library.path.rename(library.path.with_name("gone"))
        task_id = ok(pro.post("/packages/acme/library/sync"), 202)["id"]
        event = synced_events(session)
        assert event["status"] == "FAILED" and event["taskId"] == task_id
        assert event["error"] and event["willRetry"] is True and event["attempt"] == 1


def test_customer_activity_reports_downloads_token_use_and_status_changes(
    pro: Api, pro_app: CargomanApp, make_library_repo: Callable[..., GitRepo]
) -> None:
    pro.wait_for_task(add_package(pro, make_library_repo("acme/library"))["sync_task"]["id"])
    alice = pro.create_customer("Alice")
    bob = pro.create_customer("Bob")
    for customer in (alice, bob):
        ok(pro.post(f"/customers/{customer['id']}/packages", json={"package": "acme/library"}), 201)
    recorder = pro_app.api.state.recorder
    with connect(pro) as session:
        subscribe(session, "alice", ACTIVITY, {"customerId": alice["id"]})
        subscribe(session, "status", ACTIVITY, {"kinds": ["STATUS_CHANGED", "DELETED"]})
        bus(pro_app).wait_for(2)
        assert pro.composer("/dist/acme/library/1.0.0.zip", bob["token"]).status_code == 200
        assert pro.composer("/dist/acme/library/1.1.0.zip", alice["token"]).status_code == 200
        recorder.flush()
        received = [next_message(session), next_message(session)]
        assert {m["id"] for m in received} == {"alice"}  # Bob's download: not Alice's, not a status
        events = {
            m["payload"]["data"]["customerActivity"]["kind"]: m["payload"]["data"]["customerActivity"]
            for m in received
        }
        assert events["DOWNLOAD"]["packageName"] == "acme/library"
        assert events["DOWNLOAD"]["version"] == "1.1.0"
        assert events["DOWNLOAD"]["tokenId"] == events["TOKEN_USED"]["tokenId"] is not None
        assert events["TOKEN_USED"]["customerId"] == alice["id"]

        ok(pro.post(f"/customers/{bob['id']}/suspend", json={"reason": "unpaid"}))
        message = next_message(session)
        assert message["id"] == "status"
        assert message["payload"]["data"]["customerActivity"] == {
            "customerId": bob["id"],
            "kind": "STATUS_CHANGED",
            "packageName": None,
            "version": None,
            "tokenId": None,
            "status": "SUSPENDED",
            "previousStatus": "ACTIVE",
            "reason": "unpaid",
            "occurredAt": message["payload"]["data"]["customerActivity"]["occurredAt"],
        }
        ok(pro.delete(f"/customers/{bob['id']}"))
        deleted = next_message(session)["payload"]["data"]["customerActivity"]
        assert (deleted["customerId"], deleted["kind"], deleted["previousStatus"]) == (
            bob["id"],
            "DELETED",
            "SUSPENDED",
        )


def test_other_tenants_events_are_never_delivered(pro: Api, pro_app: CargomanApp) -> None:
    mine = {"customer_id": "cus_mine", "kind": "status_changed", "status": "suspended"}
    theirs = {**mine, "customer_id": "cus_theirs"}
    with connect(pro) as session:
        subscribe(session, "1", ACTIVITY)
        bus(pro_app).wait_for(1)
        pro_app.runtime.events.publish(Event(Topic.CUSTOMER_ACTIVITY, "another-tenant", theirs))
        pro_app.runtime.events.publish(Event(Topic.CUSTOMER_ACTIVITY, DEFAULT_TENANT_ID, mine))
        event = next_message(session)["payload"]["data"]["customerActivity"]
        assert event["customerId"] == "cus_mine"


def test_complete_from_the_client_stops_the_subscription(pro: Api, pro_app: CargomanApp) -> None:
    with connect(pro) as session:
        subscribe(session, "1", ACTIVITY)
        subscribe(session, "2", ACTIVITY)
        bus(pro_app).wait_for(2)
        session.send_json({"type": "complete", "id": "1"})
        session.send_json({"type": "complete", "id": "unknown"})  # ignored
        bus(pro_app).wait_for(1)
        pro_app.runtime.events.publish(
            Event(Topic.CUSTOMER_ACTIVITY, DEFAULT_TENANT_ID, {"customer_id": "c", "kind": "deleted"})
        )
        message = next_message(session)
        assert message["id"] == "2"  # no "complete" for 1 (the client ended it), no event either
        session.send_json({"type": "ping"})
        assert session.receive_json() == {"type": "pong"}


def test_disconnecting_leaves_no_subscription_behind(pro: Api, pro_app: CargomanApp) -> None:
    for _ in range(3):
        with connect(pro) as session:
            subscribe(session, "1", SYNCED)
            subscribe(session, "2", ACTIVITY)
            bus(pro_app).wait_for(2)
        bus(pro_app).wait_for(0)


# -- credentials that stop being valid while subscribed ---------------------------------------------


def team_credential(pro: Api, level: str = "admin") -> dict[str, Any]:
    """A CMA credential of ``level`` (after the owner the first credential has to be)."""
    ok(pro.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    created: dict[str, Any] = ok(pro.post("/team/credentials", json={"name": "Adam", "level": level}), 201)
    return created


def test_a_revoked_credential_gets_no_more_events(
    pro: Api,
    pro_app: CargomanApp,
    make_library_repo: Callable[..., GitRepo],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ws, "CREDENTIAL_VERDICT_TTL", 0.0)  # every event looks the credential up
    admin = team_credential(pro)
    with connect(pro, admin["plain_token"]) as session:
        subscribe(session, "synced", SYNCED)
        subscribe(session, "activity", ACTIVITY)
        bus(pro_app).wait_for(2)
        ok(pro.delete(f"/team/credentials/{admin['credential']['id']}"))
        add_package(pro, make_library_repo("acme/library"))  # its sync publishes packageSynced
        assert closed_without_messages(session) == (4403, ws.CREDENTIAL_GONE_REASON)
        bus(pro_app).wait_for(0)  # both subscriptions left the bus, before the client went away


@pytest.fixture
def credential_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids of the principals whose credential an open connection looked up again, in order."""
    lookups: list[str] = []
    revalidate = ws.GraphQLWebSocket.revalidate

    def counted(route: ws.GraphQLWebSocket, runtime: Any, caller: Any, websocket: Any) -> None:
        lookups.append(caller.principal.id)
        revalidate(route, runtime, caller, websocket)

    monkeypatch.setattr(ws.GraphQLWebSocket, "revalidate", counted)
    return lookups


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def expire(pro_app: CargomanApp, credential_id: str) -> None:
    with pro_app.runtime.session_factory() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(
            update(AdminCredential).where(AdminCredential.id == credential_id).values(expires_at=past)
        )
        session.commit()


@pytest.mark.parametrize("ending", ["revoked", "expired", "root token replaced"])
def test_a_quiet_subscription_ends_when_its_credential_does(
    pro: Api,
    pro_app: CargomanApp,
    monkeypatch: pytest.MonkeyPatch,
    credential_lookups: list[str],
    ending: str,
) -> None:
    monkeypatch.setattr(ws, "CREDENTIAL_VERDICT_TTL", 0.0)
    monkeypatch.setattr(ws, "CREDENTIAL_CHECK_INTERVAL", 0.05)
    admin = team_credential(pro)
    token = ADMIN_TOKEN if ending == "root token replaced" else admin["plain_token"]
    with connect(pro, token) as session:
        subscribe(session, "1", ACTIVITY)
        bus(pro_app).wait_for(1)
        wait_until(lambda: len(credential_lookups) >= 2)  # the timer looks it up without any event...
        session.send_json({"type": "ping", "payload": {"still": "open"}})  # ...and lets a valid one be
        assert session.receive_json() == {"type": "pong", "payload": {"after": "1"}}
        assert session.receive_json() == {"type": "pong", "payload": {"still": "open"}}
        if ending == "revoked":
            ok(pro.delete(f"/team/credentials/{admin['credential']['id']}"))
        elif ending == "expired":
            expire(pro_app, admin["credential"]["id"])
        else:
            monkeypatch.setattr(pro_app.runtime, "admin_tokens", AdminTokenVerifier("a-new-root-token", None))
        assert closed_without_messages(session) == (4403, ws.CREDENTIAL_GONE_REASON)
        bus(pro_app).wait_for(0)


def test_a_burst_of_events_is_checked_once(
    pro: Api, pro_app: CargomanApp, monkeypatch: pytest.MonkeyPatch, credential_lookups: list[str]
) -> None:
    monkeypatch.setattr(ws, "CREDENTIAL_VERDICT_TTL", 3600.0)  # this test must not straddle an expiry
    admin = team_credential(pro)
    with connect(pro, admin["plain_token"]) as session:
        subscribe(session, "1", ACTIVITY)
        bus(pro_app).wait_for(1)
        for number in range(5):
            payload = {"customer_id": f"cus_{number}", "kind": "deleted"}
            pro_app.runtime.events.publish(Event(Topic.CUSTOMER_ACTIVITY, DEFAULT_TENANT_ID, payload))
        delivered = [next_message(session)["payload"]["data"]["customerActivity"] for _ in range(5)]
        assert [event["customerId"] for event in delivered] == [f"cus_{n}" for n in range(5)]
    assert credential_lookups == []  # the check made when subscribing still held


def test_a_subscriber_too_far_behind_is_cut_off(
    pro: Api, pro_app: CargomanApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscriptions, "MAX_PENDING_EVENTS", 3)
    events = pro_app.runtime.events

    def publish_burst() -> None:
        # On the server's event loop: all five land in the queue before the subscription reads one.
        for number in range(5):
            payload = {"customer_id": f"cus_{number}", "kind": "deleted"}
            events.publish(Event(Topic.CUSTOMER_ACTIVITY, DEFAULT_TENANT_ID, payload))

    with connect(pro) as session:
        subscribe(session, "1", ACTIVITY)
        subscribe(session, "2", SYNCED)
        bus(pro_app).wait_for(2)
        session.portal.call(publish_burst)
        delivered = [next_message(session) for _ in range(3)]
        assert [m["payload"]["data"]["customerActivity"]["customerId"] for m in delivered] == [
            "cus_0",
            "cus_1",
            "cus_2",
        ]
        cut_off = next_message(session)
        assert cut_off["id"] == "1" and cut_off["payload"]["data"] is None, cut_off
        assert [error["extensions"]["code"] for error in cut_off["payload"]["errors"]] == [
            "SUBSCRIBER_TOO_SLOW"
        ]
        assert next_message(session) == {"type": "complete", "id": "1"}
        bus(pro_app).wait_for(1)  # only the slow subscription ended; the connection stays
        session.send_json({"type": "ping"})
        assert session.receive_json() == {"type": "pong"}
