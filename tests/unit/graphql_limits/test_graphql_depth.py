"""Pre-execution depth of GraphQL operations."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, parse

from cargoman.graphql_limits import QueryTooDeep, check_limits, query_depth

SCHEMA = build_schema(
    """
    type PageInfo { hasNextPage: Boolean! }
    type Token { id: ID! customer: Customer! }
    type TokenEdge { node: Token! }
    type TokenConnection { edges: [TokenEdge!]! pageInfo: PageInfo! }
    type Customer { id: ID! name: String! tokens(first: Int): TokenConnection! }
    type CustomerEdge { node: Customer! }
    type CustomerConnection { edges: [CustomerEdge!]! totalCount: Int! }
    type Query {
      customer(id: ID!): Customer
      customers(first: Int): CustomerConnection!
      version: String!
    }
    """
)

DEEP = "{ customers { edges { node { tokens { edges { node { id } } } } } } }"


def depth(query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> int:
    return query_depth(parse(query), SCHEMA, operation_name, variables)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ version }", 1),
        ("{ __typename }", 1),
        ('{ customer(id: "1") { id } }', 2),
        ("{ customers { totalCount edges { node { id } } } }", 4),
        (DEEP, 7),
        ("{ __schema { types { name } } }", 1),
    ],
)
def test_depth(query: str, expected: int) -> None:
    assert depth(query) == expected


def test_fragments_are_expanded_and_add_no_level() -> None:
    query = """
    { customers { edges { ...E } } }
    fragment E on CustomerEdge { node { ... on Customer { ...C } } }
    fragment C on Customer { tokens { edges { node { id } } } }
    """
    assert depth(query) == 7


def test_depth_of_selected_operation() -> None:
    document = f"query Shallow {{ version }} query Deep {DEEP}"
    assert depth(document, operation_name="Shallow") == 1
    assert depth(document, operation_name="Deep") == 7
    assert depth(document) == 0


def test_skipped_fields_do_not_count() -> None:
    query = 'query Q($s: Boolean!) { version customer(id: "1") @skip(if: $s) { id } }'
    assert depth(query, {"s": True}) == 1
    assert depth(query, {"s": False}) == 2


def test_fragment_cycle_terminates() -> None:
    query = """
    { customer(id: "1") { ...A } }
    fragment A on Customer { tokens { edges { node { customer { ...A } } } } }
    """
    assert depth(query) == 5


def test_depth_limit() -> None:
    document = parse(DEEP)
    report = check_limits(document, SCHEMA, None, None, max_complexity=None, max_depth=7)
    assert report.depth == 7
    with pytest.raises(QueryTooDeep) as raised:
        check_limits(document, SCHEMA, None, None, max_complexity=None, max_depth=6)
    assert (raised.value.depth, raised.value.score, raised.value.limit) == (7, 7, 6)
    assert raised.value.extensions == {"code": "QUERY_TOO_DEEP", "score": 7, "limit": 6}


def test_depth_checked_after_complexity_passes() -> None:
    with pytest.raises(QueryTooDeep):
        check_limits(parse(DEEP), SCHEMA, None, None, max_complexity=10_000, max_depth=3)
