"""What a stored webhook query must be: one valid, read-only query within the limits, and the
event variables it declares, typed as the events provide them."""

from __future__ import annotations

from datetime import datetime

import pytest
from graphql import specified_rules

from cargoman.errors import ValidationFailed
from cargoman.events import Topic
from cargoman.graphql_limits import QueryTooComplex, QueryTooDeep
from cargoman.graphql_webhooks.queries import QueryRules, check_stored_query
from cargoman.graphql_webhooks.variables import event_variables, select_declared
from cargoman.web.graphql.schema import build_schema
from cargoman.web.graphql.webhooks import WebhookEvent

SCHEMA = build_schema()._schema


def rules(max_complexity: int | None = 500, max_depth: int | None = 12) -> QueryRules:
    return QueryRules(SCHEMA, specified_rules, max_complexity, max_depth)


def test_a_query_with_event_variables_is_accepted() -> None:
    query = (
        "query($packageName: String!, $customerId: ID!) "
        "{ package(name: $packageName) { name } customer(id: $customerId) { name } }"
    )
    document = check_stored_query(query, rules())
    values = event_variables(Topic.PACKAGE_SYNCED, "evt_1", "2025-01-01T00:00:00Z", {"package": "acme/lib"})
    # Only what the query declares, and only what the event carries (no customer in a sync).
    assert select_declared(values, document) == {"packageName": "acme/lib"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "must not be empty"),
        ("{ version { major ", "does not parse"),
        ('mutation { deleteWebhook(id: "x") }', "must be a query"),
        ("subscription { packageSynced { package } }", "must be a query"),
        ("{ version { major } } { stats { packages } }", "exactly one operation"),
        ("query A { version { major } } query B { version { minor } }", "exactly one operation"),
        ("{ noSuchField }", "is not valid"),
        ("query($packageName: String!) { version { major } }", "is not valid"),  # unused variable
        ("query($tenant: String!) { package(name: $tenant) { name } }", "no event provides"),
        ("query($packageName: Int) { version { major } }", r"\$packageName as Int"),
        ("query($customerId: [ID!]) { version { major } }", r"\$customerId as ID"),
    ],
)
def test_unusable_queries_are_refused_naming_the_query_field(query: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as refused:
        check_stored_query(query, rules())
    assert refused.value.field == "query"


@pytest.mark.parametrize(
    "query",
    [
        "{ webhooks { nodes { sample(event: PACKAGE_SYNCED) } } }",
        '{ webhook(id: "whk_1") { sample(event: CUSTOMER_ACTIVITY) } }',
        '{ webhook(id: "whk_1") { ...S } } fragment S on Webhook { a: sample(event: PACKAGE_SYNCED) }',
        "{ webhooks { edges { node { ... on Webhook { sample(event: PACKAGE_SYNCED) } } } } }",
    ],
)
def test_a_query_selecting_a_sample_is_refused(query: str) -> None:
    """A sample runs a stored query: inside one it would multiply a delivery's work, or recurse."""
    with pytest.raises(ValidationFailed, match=r"must not select Webhook\.sample") as refused:
        check_stored_query(query, rules())
    assert refused.value.field == "query"
    # The webhook list itself is fine to report on.
    check_stored_query("{ webhooks { nodes { id url active } } }", rules())


def test_a_variable_with_a_type_the_event_cannot_fill_is_refused() -> None:
    query = "query($occurredAt: Int) { version { major } } "
    with pytest.raises(ValidationFailed, match=r"\$occurredAt as Int; use DateTime or String"):
        check_stored_query(query, rules())
    check_stored_query(
        "query($eventId: String!) { customerByExternalId(externalId: $eventId) { id } }", rules()
    )
    bad = "query($syncStatus: ID) { customer(id: $syncStatus) { name } }"
    with pytest.raises(ValidationFailed, match=r"\$syncStatus as ID"):
        check_stored_query(bad, rules())


def test_the_complexity_and_depth_limits_apply() -> None:
    heavy = "{ customers(first: 100) { edges { node { id name packages { name } } } } }"
    with pytest.raises(QueryTooComplex):
        check_stored_query(heavy, rules(max_complexity=500))
    check_stored_query(heavy, rules(max_complexity=None))
    with pytest.raises(QueryTooDeep):
        check_stored_query(
            "{ collections { packages { versions { dist { url } } } } }",
            rules(max_complexity=None, max_depth=3),
        )


def test_event_variables_leave_out_what_the_event_does_not_carry() -> None:
    values = event_variables(
        Topic.CUSTOMER_ACTIVITY,
        "evt_2",
        "2025-02-01T10:00:00Z",
        {"customer_id": "cus_1", "kind": "status_changed", "status": "suspended", "package": None},
    )
    assert values == {
        "event": "CUSTOMER_ACTIVITY",
        "eventId": "evt_2",
        "occurredAt": "2025-02-01T10:00:00Z",
        "customerId": "cus_1",
        "activity": "status_changed",
        "customerStatus": "suspended",
    }
    assert datetime.fromisoformat(values["occurredAt"])


def test_every_event_topic_is_a_webhook_event() -> None:
    assert {event.value for event in WebhookEvent} == {topic.value for topic in Topic}
    assert {event.name for event in WebhookEvent} == {topic.name for topic in Topic}
