"""What a webhook query receives of its event: GraphQL variables, only those the query declares.

Every event:
  ``$event``       String or WebhookEvent   the event name, e.g. PACKAGE_SYNCED
  ``$eventId``     String or ID             the event id (also the X-Cargoman-Delivery header)
  ``$occurredAt``  String or DateTime       when the event happened (ISO 8601, UTC)
PACKAGE_SYNCED:
  ``$packageName`` String                   the package synchronised (vendor/name)
  ``$syncStatus``  String                   how the sync ended: succeeded or failed
  ``$syncError``   String                   the sync error, if any
CUSTOMER_ACTIVITY:
  ``$customerId``  String or ID             the customer
  ``$activity``    String                   what happened (download, install, status_changed, deleted...)
  ``$customerStatus`` String                the customer's status after a status change
  ``$packageName`` String                   the package concerned, if any
  ``$version``     String                   the version concerned, if any

A value the event does not carry is left out, so the variable's default (or null) applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, ListTypeNode, NonNullTypeNode, OperationDefinitionNode, TypeNode

from cargoman.events import Topic

# variable -> the named types it may be declared with
VARIABLE_TYPES: dict[str, frozenset[str]] = {
    "event": frozenset({"String", "WebhookEvent"}),
    "eventId": frozenset({"String", "ID"}),
    "occurredAt": frozenset({"String", "DateTime"}),
    "packageName": frozenset({"String"}),
    "syncStatus": frozenset({"String"}),
    "syncError": frozenset({"String"}),
    "customerId": frozenset({"String", "ID"}),
    "activity": frozenset({"String"}),
    "customerStatus": frozenset({"String"}),
    "version": frozenset({"String"}),
}

# payload key of each topic -> variable
_PAYLOAD_VARIABLES: dict[Topic, dict[str, str]] = {
    Topic.PACKAGE_SYNCED: {"package": "packageName", "status": "syncStatus", "error": "syncError"},
    Topic.CUSTOMER_ACTIVITY: {
        "customer_id": "customerId",
        "kind": "activity",
        "status": "customerStatus",
        "package": "packageName",
        "version": "version",
    },
}


class UnknownVariable(Exception):
    """The query declares a variable no event provides, or declares one with the wrong type."""


def event_name(topic: Topic) -> str:
    return topic.name


def event_variables(
    topic: Topic, event_id: str, occurred_at: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """Every variable this event provides (None values dropped)."""
    values: dict[str, Any] = {"event": event_name(topic), "eventId": event_id, "occurredAt": occurred_at}
    for key, variable in _PAYLOAD_VARIABLES.get(topic, {}).items():
        value = payload.get(key)
        if value is not None:
            values[variable] = value if isinstance(value, str | int | float | bool) else str(value)
    return values


def _operation(document: DocumentNode) -> OperationDefinitionNode | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition
    return None


def _named_type(node: TypeNode) -> tuple[str, bool]:
    """The innermost type name and whether a list wraps it."""
    is_list = False
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        is_list = is_list or isinstance(node, ListTypeNode)
        node = node.type
    return node.name.value, is_list  # type: ignore[attr-defined]


def declared_names(document: DocumentNode) -> list[str]:
    operation = _operation(document)
    if operation is None:
        return []
    return [definition.variable.name.value for definition in operation.variable_definitions or ()]


def check_declarations(document: DocumentNode) -> None:
    """Refuse variables no event provides, or declared with a type their value cannot have."""
    operation = _operation(document)
    if operation is None:
        return
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        allowed = VARIABLE_TYPES.get(name)
        if allowed is None:
            known = ", ".join(f"${known}" for known in VARIABLE_TYPES)
            raise UnknownVariable(f"declares ${name}, which no event provides (known: {known})")
        type_name, is_list = _named_type(definition.type)
        if is_list or type_name not in allowed:
            raise UnknownVariable(f"declares ${name} as {type_name}; use {' or '.join(sorted(allowed))}")


def select_declared(values: Mapping[str, Any], document: DocumentNode) -> dict[str, Any]:
    names = declared_names(document)
    return {name: values[name] for name in names if name in values}
