"""Pre-execution GraphQL limits: query complexity and depth (pure; graphql-core only).

``check_limits`` scores the selected operation of a parsed document against the schema, before any
resolver runs, and raises ``QueryTooComplex`` / ``QueryTooDeep`` (mapped by the web layer to GraphQL
errors with ``extensions.code`` ``QUERY_TOO_COMPLEX`` / ``QUERY_TOO_DEEP``, ``score`` and ``limit``).
Complexity is checked first. The counting rules are documented in ``complexity.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLSchema

from cargoman.editions import edition_info
from cargoman.graphql_limits.complexity import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PLAIN_LIST_SIZE,
    analyse_operation,
    query_complexity,
)
from cargoman.graphql_limits.depth import query_depth

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PLAIN_LIST_SIZE",
    "LimitReport",
    "QueryLimitExceeded",
    "QueryTooComplex",
    "QueryTooDeep",
    "check_limits",
    "edition_complexity_limit",
    "query_complexity",
    "query_depth",
]


@dataclass(frozen=True)
class LimitReport:
    complexity: int
    depth: int


class QueryLimitExceeded(Exception):
    code: str = ""

    def __init__(self, score: int, limit: int, message: str) -> None:
        super().__init__(message)
        self.score = score
        self.limit = limit

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "score": self.score, "limit": self.limit}


class QueryTooComplex(QueryLimitExceeded):
    code = "QUERY_TOO_COMPLEX"

    def __init__(self, score: int, limit: int) -> None:
        super().__init__(score, limit, f"Query complexity {score} exceeds the limit of {limit}")


class QueryTooDeep(QueryLimitExceeded):
    code = "QUERY_TOO_DEEP"

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(depth, limit, f"Query depth {depth} exceeds the limit of {limit}")

    @property
    def depth(self) -> int:
        return self.score


def check_limits(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_complexity: int | None,
    max_depth: int | None,
) -> LimitReport:
    """Score the operation; raise when a limit (``None`` = unlimited) is exceeded (score > limit)."""
    analysis = analyse_operation(document, schema, operation_name, variables)
    if max_complexity is not None and analysis.complexity > max_complexity:
        raise QueryTooComplex(analysis.complexity, max_complexity)
    if max_depth is not None and analysis.depth > max_depth:
        raise QueryTooDeep(analysis.depth, max_depth)
    return LimitReport(analysis.complexity, analysis.depth)


def edition_complexity_limit(edition: str, override: int | None) -> int | None:
    """GRAPHQL_MAX_COMPLEXITY (``override``) wins; else the edition's cap (None = unlimited).

    Community has no GraphQL at all (the feature gate refuses it); its table entry is None.
    """
    if override is not None:
        return override
    return edition_info(edition).limits.graphql_max_complexity
