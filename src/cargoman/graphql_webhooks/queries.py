"""Checks a webhook query must pass when the webhook is created (graphql-core only, nothing runs).

It must parse, validate against the schema, hold exactly one operation and that a query (webhooks
run read-only: no mutation, no subscription), declare only the variables events provide, select no
field that itself runs a stored query (``Webhook.sample``: a delivery must not fan out into more
queries, nor recurse), and stay within the complexity and depth limits every GraphQL request has.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    validate,
    visit,
)

from cargoman.errors import ValidationFailed
from cargoman.graphql_limits import check_limits
from cargoman.graphql_webhooks.variables import UnknownVariable, check_declarations

MAX_QUERY_LENGTH = 100_000
FIELD = "query"
# (type, field) pairs a stored query may not select, through whatever path or fragment.
FIELDS_RUNNING_STORED_QUERIES = frozenset({("Webhook", "sample")})


@dataclass(frozen=True)
class QueryRules:
    """The schema and limits the GraphQL endpoint applies to a request."""

    schema: GraphQLSchema
    rules: Collection[type[ASTValidationRule]]
    max_complexity: int | None
    max_depth: int | None


def check_stored_query(query: str, rules: QueryRules) -> DocumentNode:
    """The parsed query, or ValidationFailed("query", why); limits raise QueryLimitExceeded."""
    if not query.strip():
        raise ValidationFailed(FIELD, "must not be empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationFailed(FIELD, f"must be at most {MAX_QUERY_LENGTH} characters")
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise ValidationFailed(FIELD, f"does not parse: {exc.message}") from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise ValidationFailed(FIELD, "must contain exactly one operation")
    if operations[0].operation is not OperationType.QUERY:
        kind = operations[0].operation.value
        raise ValidationFailed(FIELD, f"must be a query; webhooks run read-only (found a {kind})")
    try:
        check_declarations(document)
    except UnknownVariable as exc:
        raise ValidationFailed(FIELD, str(exc)) from exc
    errors = validate(rules.schema, document, list(rules.rules))
    if errors:
        raise ValidationFailed(FIELD, f"is not valid: {errors[0].message}")
    _refuse_fields_running_stored_queries(rules.schema, document)
    check_limits(document, rules.schema, None, None, rules.max_complexity, rules.max_depth)
    return document


def _refuse_fields_running_stored_queries(schema: GraphQLSchema, document: DocumentNode) -> None:
    """Every selected field is judged by the type it is selected on (fragments included)."""
    type_info = TypeInfo(schema)
    found: list[str] = []

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and (parent.name, node.name.value) in FIELDS_RUNNING_STORED_QUERIES:
                found.append(f"{parent.name}.{node.name.value}")

    visit(document, TypeInfoVisitor(type_info, Finder()))
    if found:
        raise ValidationFailed(
            FIELD, f"must not select {found[0]}: it runs a stored query of its own, which a webhook may not"
        )
