"""Pre-execution complexity scoring (SourceHut / GitLab conventions)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, build_schema, get_introspection_query, parse

from cargoman.graphql_limits import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PLAIN_LIST_SIZE,
    LimitReport,
    QueryTooComplex,
    check_limits,
    edition_complexity_limit,
    query_complexity,
)

SDL = """
scalar DateTime

enum CustomerStatus { ACTIVE SUSPENDED FROZEN EXPIRED }

input Pagination { first: Int after: String }
input CustomerFilter { status: CustomerStatus search: String }

interface Node { id: ID! }

type PageInfo { hasNextPage: Boolean! endCursor: String }

type Customer implements Node {
  id: ID!
  name: String!
  email: String!
  status: CustomerStatus!
  packageAccess: [PackageAccess!]!
  tokens(first: Int, after: String): TokenConnection!
  createdAt: DateTime!
}

type PackageAccess { name: String! constraint: String grantedAt: DateTime! package: Package }

type Token implements Node { id: ID! name: String! customer: Customer! }
type TokenEdge { cursor: String! node: Token! }
type TokenConnection { edges: [TokenEdge!]! pageInfo: PageInfo! totalCount: Int! }

type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection {
  edges: [CustomerEdge!]!
  nodes: [Customer!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type Version { version: String! releasedAt: DateTime downloads: Int! }
type Package {
  name: String!
  description: String
  versions: [Version!]!
  latestVersion: String
  tags: [String!]!
}
type PackageEdge { cursor: String! node: Package! }
type PackageConnection { edges: [PackageEdge!]! pageInfo: PageInfo! totalCount: Int! }

type Collection { slug: String! name: String! packages: [Package!]! }

type RegistryStats { customers: Int! packages: Int! }

union SearchResult = Customer | Package

type Query {
  customer(id: ID!): Customer
  customers(filter: CustomerFilter, pagination: Pagination, first: Int, after: String): CustomerConnection!
  package(name: String!): Package
  packages(pagination: Pagination): PackageConnection!
  collections: [Collection!]!
  recentPackages(first: Int = 5): [Package!]!
  node(id: ID!): Node
  search(term: String!): [SearchResult!]!
  stats: RegistryStats!
}

type Mutation { createCustomer(name: String!): Customer! }
"""

SCHEMA = build_schema(SDL)


def score(query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> int:
    return query_complexity(parse(query), SCHEMA, operation_name, variables)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ stats { customers packages } }", 3),
        ('{ customer(id: "1") { id name email } }', 4),
        ('{ customer(id: "1") { __typename id } }', 2),
        ("{ __typename }", 0),
        # scalar lists have no subtree to multiply
        ('{ package(name: "a/b") { tags } }', 2),
        # unknown fields (unvalidated document): 1 each, never multiplied
        ("{ nope { a b } }", 3),
    ],
)
def test_simple_fields(query: str, expected: int) -> None:
    assert score(query) == expected


def test_connection_with_first_multiplies_whole_subtree() -> None:
    assert score("{ customers(first: 10) { edges { node { id name } } } }") == 1 + 10 * (1 + 1 + 2)
    query = """{ customers(first: 2) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } }"""
    assert score(query) == 1 + 2 * ((1 + 1 + 1 + 1) + (1 + 2) + 1)


def test_nodes_and_edges_are_not_multiplied_again() -> None:
    assert score("{ customers(first: 2) { nodes { id } } }") == 1 + 2 * (1 + 1)


def test_default_page_size_when_absent() -> None:
    assert DEFAULT_PAGE_SIZE == 25
    assert score("{ customers { totalCount } }") == 1 + 25
    assert score("{ customers(first: null) { totalCount } }") == 1 + 25


def test_page_size_capped_at_max() -> None:
    assert MAX_PAGE_SIZE == 100
    assert score("{ customers(first: 1000) { totalCount } }") == 1 + 100
    assert score("{ customers(pagination: {first: 5000}) { totalCount } }") == 1 + 100


def test_first_zero_and_negative() -> None:
    assert score("{ customers(first: 0) { totalCount } }") == 1
    assert score("{ customers(first: -3) { totalCount } }") == 1


def test_first_from_variables() -> None:
    query = "query Q($n: Int) { customers(first: $n) { totalCount } }"
    assert score(query, {"n": 4}) == 5
    assert score(query, {"n": 4.0}) == 5
    assert score(query) == 26
    assert score(query, {"n": None}) == 26
    assert score(query, {"n": "lots"}) == 26
    assert score(query, {"n": 500}) == 101


def test_variable_default_value() -> None:
    assert score("query Q($n: Int = 7) { customers(first: $n) { totalCount } }") == 8
    assert score("query Q($n: Int = 7) { customers(first: $n) { totalCount } }", {"n": 2}) == 3


def test_pagination_input_literal_and_variables() -> None:
    assert score("{ customers(pagination: {first: 3}) { totalCount } }") == 4
    assert score('{ customers(pagination: {after: "x"}) { totalCount } }') == 26
    by_var = "query Q($p: Pagination) { customers(pagination: $p) { totalCount } }"
    assert score(by_var, {"p": {"first": 50}}) == 51
    assert score(by_var, {"p": {"after": "c"}}) == 26
    assert score(by_var) == 26
    nested_var = "query Q($n: Int) { packages(pagination: {first: $n}) { totalCount } }"
    assert score(nested_var, {"n": 2}) == 3


def test_first_argument_wins_over_pagination() -> None:
    assert score("{ customers(first: 2, pagination: {first: 50}) { totalCount } }") == 3


def test_nested_multiplications_compound() -> None:
    query = "{ customers(first: 10) { edges { node { tokens(first: 5) { edges { node { id } } } } } } }"
    # customers 1 + 10 * (edges 1 + node 1 + tokens (1 + 5 * (edges 1 + node 1 + id 1)))
    assert score(query) == 1 + 10 * (1 + 1 + (1 + 5 * 3))
    assert score(query) == 181


def test_plain_list_counts_a_few_items() -> None:
    assert PLAIN_LIST_SIZE == 3
    assert score("{ collections { slug name } }") == 1 + 3 * 2
    assert score("{ collections { packages { name } } }") == 1 + 3 * (1 + 3 * 1)
    assert score('{ customer(id: "1") { packageAccess { name constraint } } }') == 1 + (1 + 3 * 2)


def test_plain_list_inside_a_connection_compounds_with_the_page_size() -> None:
    query = "{ packages { edges { node { name versions { version releasedAt downloads } } } } }"
    assert score(query) == 1 + 25 * (1 + 1 + 1 + (1 + 3 * 3))


def test_list_uses_schema_default_for_first() -> None:
    assert score("{ recentPackages { name } }") == 1 + 5
    assert score("{ recentPackages(first: 8) { name } }") == 1 + 8


def test_named_fragments_are_expanded() -> None:
    query = """
    query { customer(id: "1") { ...CustomerFields } }
    fragment CustomerFields on Customer { id name packageAccess { name } }
    """
    assert score(query) == 1 + (1 + 1 + (1 + 3 * 1))


def test_fragment_inside_connection_is_multiplied() -> None:
    query = """
    { customers(first: 4) { edges { node { ...C } } } }
    fragment C on Customer { id ...D }
    fragment D on Customer { name email }
    """
    assert score(query) == 1 + 4 * (1 + 1 + 3)


def test_inline_fragments_on_interface_and_union() -> None:
    on_interface = '{ node(id: "1") { id ... on Customer { name email } ... on Token { name } } }'
    assert score(on_interface) == 1 + 4
    on_union = '{ search(term: "x") { __typename ... on Customer { id } ... on Package { name } } }'
    assert score(on_union) == 1 + 3 * 2
    untyped_inline = '{ customer(id: "1") { ... { id name } } }'
    assert score(untyped_inline) == 3


def test_same_field_selected_twice_is_merged_like_execution() -> None:
    query = """
    { customer(id: "1") { id name ...F ... on Customer { id } } }
    fragment F on Customer { id name }
    """
    assert score(query) == 1 + 2
    merged_subselections = '{ customer(id: "1") { id } customer(id: "1") { name } }'
    assert score(merged_subselections) == 1 + 2


def test_aliases_count_separately() -> None:
    query = '{ a: customer(id: "1") { id } b: customer(id: "2") { id } }'
    assert score(query) == 4
    assert score("{ x: stats { customers } y: stats { customers c2: customers } }") == 2 + 3


def test_multiple_operations_use_operation_name() -> None:
    document = """
    query A { stats { customers } }
    query B { customers(first: 3) { totalCount } }
    mutation M { createCustomer(name: "x") { id name } }
    """
    assert score(document, operation_name="A") == 2
    assert score(document, operation_name="B") == 4
    assert score(document, operation_name="M") == 3
    # ambiguous or unknown operation: execution reports the error, nothing runs
    assert score(document) == 0
    assert score(document, operation_name="Nope") == 0


def test_skip_and_include_directives() -> None:
    query = "query Q($s: Boolean!) { stats { customers @skip(if: $s) packages @include(if: false) } }"
    assert score(query, {"s": True}) == 1
    assert score(query, {"s": False}) == 2


def test_introspection_fields_cost_one_whatever_they_select() -> None:
    assert score("{ __schema { queryType { name } } }") == 1
    assert score('{ __type(name: "Customer") { name fields { name } } }') == 1
    assert score("{ __schema { types { name } } customers(first: 2) { totalCount } }") == 1 + (1 + 2 * 1)


def test_full_introspection_query_fits_every_cap() -> None:
    # GraphiQL's documentation panel sends this query; it reads only the in-memory schema.
    assert score(get_introspection_query()) == 1


def test_fragment_cycles_terminate() -> None:
    direct = """
    { customer(id: "1") { ...A } }
    fragment A on Customer { id ...B }
    fragment B on Customer { name ...A }
    """
    assert score(direct) == 3
    through_fields = """
    { customer(id: "1") { ...A } }
    fragment A on Customer { tokens(first: 1) { edges { node { customer { ...A } } } } }
    """
    assert score(through_fields) == 1 + (1 + 1 * (1 + 1 + 1))


def test_fragment_bomb_is_linear() -> None:
    levels = 40
    fragments = ["fragment F0 on Query { stats { customers } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    query = f"{{ ...F{levels - 1} }}\n" + "\n".join(fragments)
    assert score(query) == 2


def _exactly(total: int) -> str:
    """Aliased `customers(first: n) { totalCount }` (n + 1 each) adding up to `total`."""
    parts = []
    index = 0
    while total > 0:
        size = min(total - 1, MAX_PAGE_SIZE)
        parts.append(f"c{index}: customers(first: {size}) {{ totalCount }}")
        total -= size + 1
        index += 1
    return "{ " + " ".join(parts) + " }"


def test_limit_boundary_500_passes_501_rejected() -> None:
    at_limit = parse(_exactly(500))
    report = check_limits(at_limit, SCHEMA, None, None, max_complexity=500, max_depth=None)
    assert report == LimitReport(complexity=500, depth=2)
    with pytest.raises(QueryTooComplex) as raised:
        check_limits(parse(_exactly(501)), SCHEMA, None, None, max_complexity=500, max_depth=None)
    assert (raised.value.score, raised.value.limit) == (501, 500)
    assert raised.value.extensions == {"code": "QUERY_TOO_COMPLEX", "score": 501, "limit": 500}
    assert "501" in str(raised.value) and "500" in str(raised.value)


def test_no_limit_means_unlimited() -> None:
    query = parse("{ collections { packages { versions { version } } } }")
    report = check_limits(query, SCHEMA, None, None, max_complexity=None, max_depth=None)
    assert report.complexity == 1 + 3 * (1 + 3 * (1 + 3 * 1))


def test_complexity_checked_before_depth() -> None:
    query = parse("{ customers(first: 100) { edges { node { id name } } } }")
    with pytest.raises(QueryTooComplex):
        check_limits(query, SCHEMA, None, None, max_complexity=10, max_depth=1)


def _exploding_schema(calls: list[str]) -> GraphQLSchema:
    schema = build_schema(SDL)

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        calls.append("resolved")
        raise AssertionError("resolver executed")

    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for field in type_.fields.values():
                field.resolve = boom
    return schema


def test_resolvers_are_never_executed() -> None:
    calls: list[str] = []
    schema = _exploding_schema(calls)
    query = parse(
        """
        query Q($n: Int) {
          customers(first: $n) { edges { node { ...C tokens { totalCount } } } }
          collections { slug }
        }
        fragment C on Customer { id packageAccess { package { name } } }
        """
    )
    report = check_limits(query, schema, "Q", {"n": 3}, max_complexity=None, max_depth=None)
    assert report.complexity == 1 + 3 * (1 + 1 + 1 + (1 + 3 * (1 + 1)) + (1 + 25 * 1)) + (1 + 3)
    assert calls == []


@pytest.mark.parametrize(
    ("edition", "override", "expected"),
    [
        ("pro", None, 500),
        ("cloud", None, 1000),
        ("enterprise", None, None),
        ("community", None, None),
        ("pro", 50, 50),
        ("cloud", 5000, 5000),
        ("enterprise", 42, 42),
    ],
)
def test_edition_complexity_limit(edition: str, override: int | None, expected: int | None) -> None:
    assert edition_complexity_limit(edition, override) == expected
