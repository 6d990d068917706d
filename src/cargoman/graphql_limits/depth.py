"""Static (pre-execution) depth of a GraphQL operation.

Depth is the maximum nesting of field selections with fragments and inline fragments expanded:
``{ a }`` has depth 1, ``{ a { b { c } } }`` depth 3. Every field counts, ``__typename``
included; ``__schema`` and ``__type`` count 1 whatever they select (see complexity.py); fragments
themselves add no level. Skipped fields (``@skip`` /
``@include``) are ignored. An operation that cannot be selected has depth 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, GraphQLSchema

from cargoman.graphql_limits.complexity import analyse_operation


def query_depth(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    return analyse_operation(document, schema, operation_name, variables).depth
