"""Static (pre-execution) complexity scoring of a GraphQL operation.

Rules (SourceHut / GitLab conventions, see DESIGN.md "GraphQL"):

* Every selected field costs 1; ``__typename`` costs 0. Introspection fields ``__schema`` and
  ``__type`` cost 1 each and nothing below them, for complexity and depth alike: they read the
  in-memory schema (no resolver, no SQL, bounded by the schema's size), exist only when
  GRAPHQL_INTROSPECTION is on, and the standard introspection query of GraphiQL nests ``ofType``
  deeper than any data query may, so it would otherwise never pass.
* A field whose subtree is *multiplied*: cost = 1 + page_size * cost(subtree). Multiplied fields are
  - connection fields (return type named ``...Connection`` or an object with ``edges`` and
    ``pageInfo``): the whole subtree (edges, node, pageInfo, totalCount...) is multiplied;
    list fields directly inside a connection type (``edges``, ``nodes``) are not multiplied again;
  - list fields (``[T]``). A list with a page-size argument (``first``, ``last`` or
    ``pagination``) counts like a connection. A *plain* list -- no such argument, e.g.
    ``Package.versions`` or ``Customer.packages`` -- counts ``PLAIN_LIST_SIZE`` (3) items.
    A list of scalars has no subtree, so it costs 1.
  Nested multiplications compound.
* Why plain lists count 3: their size is not the caller's choice (a package's versions, a
  customer's grants), cannot be paged, and each level is fetched by one batched query
  (DataLoader), so the page size would overstate the work by an order of magnitude. 3 still makes
  nesting compound, and it is the largest value that keeps every example query of the GraphQL
  reference within Pro's cap of 500: "List Packages with Versions" (a default page of 25 packages,
  each with ``versions { version releasedAt downloads }``) scores 226 + 75 x PLAIN_LIST_SIZE =
  451. Connections keep the default page size of 25 (at most 100).
* Page size: the field's ``first`` argument, else ``last``, else ``pagination: {first}`` /
  ``pagination: {last}`` (literals or variables, including variable defaults); when absent or null,
  the schema's default value for that argument if it is an integer, else ``DEFAULT_PAGE_SIZE`` (25).
  The result is clamped to ``0..MAX_PAGE_SIZE`` (100); non-integer values count as the default.
* Fragments and inline fragments are expanded; fields are merged by response key exactly like
  execution does (the same field selected twice, e.g. directly and through a fragment, counts once;
  aliases are different response keys and count separately). Under an abstract type (interface or
  union), fields of fragments on different types are counted separately (an upper bound).
  ``@skip`` / ``@include`` are honoured. Each fragment is expanded at most once per selection set
  (as in execution) and never inside itself, so fragment cycles cannot loop.
* Unknown fields/types (a document that was not validated) count 1 per field, never multiplied.

Only graphql-core is used; nothing is executed and no resolver is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    ValueNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PLAIN_LIST_SIZE = 3

TYPENAME = "__typename"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
PAGINATION_ARG = "pagination"
PAGE_SIZE_ARGS = ("first", "last")


@dataclass
class _Group:
    """Field nodes sharing one response key (merged by execution) with the type they are read from."""

    parent_type: GraphQLNamedType | None
    nodes: list[tuple[FieldNode, frozenset[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Analysis:
    complexity: int
    depth: int


class _Analyzer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    # --- values -------------------------------------------------------------------------------

    def value(self, node: ValueNode) -> Any:
        value = value_from_ast_untyped(node, self.variables)
        return None if value is Undefined else value

    def _directive_if(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode, name: str) -> Any:
        for directive in node.directives or ():
            if directive.name.value == name:
                for arg in directive.arguments or ():
                    if arg.name.value == "if":
                        return self.value(arg.value)
        return None

    def included(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode) -> bool:
        if self._directive_if(node, "skip") is True:
            return False
        return self._directive_if(node, "include") is not False

    # --- types --------------------------------------------------------------------------------

    def field_def(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if parent is None:
            return None
        if parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return parent.fields.get(name)
        return None

    def fragment_type(
        self, current: GraphQLNamedType | None, condition: str | None
    ) -> GraphQLNamedType | None:
        # Under an object type the runtime type is known; under an abstract type use the condition.
        if current is None or isinstance(current, GraphQLObjectType) or condition is None:
            return current
        return self.schema.get_type(condition)

    # --- field collection ---------------------------------------------------------------------

    def collect(
        self,
        sources: list[tuple[SelectionSetNode, GraphQLNamedType | None, frozenset[str]]],
    ) -> dict[tuple[str, str], _Group]:
        """Merge the fields of several selection sets by (type read from, response key).

        Each source carries the fragments on its own derivation path; a fragment is never expanded
        inside itself (cycle guard) and at most once per collection (as in execution).
        """
        groups: dict[tuple[str, str], _Group] = {}
        visited: set[str] = set()
        stack = list(reversed(sources))
        while stack:
            selection_set, current, path = stack.pop()
            pending: list[tuple[SelectionSetNode, GraphQLNamedType | None, frozenset[str]]] = []
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if not self.included(selection):
                        continue
                    key = selection.alias.value if selection.alias else selection.name.value
                    group_key = (current.name if current is not None else "", key)
                    group = groups.setdefault(group_key, _Group(current))
                    group.nodes.append((selection, path))
                elif isinstance(selection, InlineFragmentNode):
                    if not self.included(selection):
                        continue
                    condition = selection.type_condition.name.value if selection.type_condition else None
                    pending.append((selection.selection_set, self.fragment_type(current, condition), path))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited or name in path or not self.included(selection):
                        continue
                    visited.add(name)
                    fragment = self.fragments.get(name)
                    if fragment is None:
                        continue
                    condition = fragment.type_condition.name.value
                    pending.append(
                        (fragment.selection_set, self.fragment_type(current, condition), path | {name})
                    )
            # Depth-first, in document order, like execution's collect_fields.
            stack.extend(reversed(pending))
        return groups

    # --- scoring ------------------------------------------------------------------------------

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        args = {arg.name.value: arg.value for arg in node.arguments or ()}
        raw: Any = None
        for name in PAGE_SIZE_ARGS:
            if name in args:
                raw = self.value(args[name])
                if raw is not None:
                    break
        if raw is None and PAGINATION_ARG in args:
            pagination = self.value(args[PAGINATION_ARG])
            if isinstance(pagination, Mapping):
                raw = next((pagination.get(n) for n in PAGE_SIZE_ARGS if pagination.get(n) is not None), None)
        if raw is None:
            raw = next(
                (d for d in (_schema_default(definition, n) for n in PAGE_SIZE_ARGS) if d is not None),
                None,
            )
        size = _as_int(raw)
        if size is None:
            size = DEFAULT_PAGE_SIZE
        return max(0, min(size, MAX_PAGE_SIZE))

    def analyse(
        self,
        sources: list[tuple[SelectionSetNode, GraphQLNamedType | None, frozenset[str]]],
    ) -> Analysis:
        complexity = 0
        depth = 0
        for group in self.collect(sources).values():
            first_node = group.nodes[0][0]
            name = first_node.name.value
            if name in INTROSPECTION_FIELDS:
                complexity += 1
                depth = max(depth, 1)
                continue
            definition = self.field_def(group.parent_type, name)
            return_type = definition.type if definition is not None else None
            child_type = get_named_type(return_type) if return_type is not None else None
            children = [
                (node.selection_set, child_type, path) for node, path in group.nodes if node.selection_set
            ]
            sub = self.analyse(children) if children else Analysis(0, 0)
            depth = max(depth, 1 + sub.depth)
            if name == TYPENAME:
                continue
            multiplier = 1
            if (
                definition is not None
                and return_type is not None
                and _multiplies(return_type, group.parent_type)
            ):
                if is_connection_type(child_type) or _takes_page_size(definition):
                    multiplier = self.page_size(first_node, definition)
                else:
                    multiplier = PLAIN_LIST_SIZE
            complexity += 1 + multiplier * sub.complexity
        return Analysis(complexity, depth)


def _takes_page_size(definition: GraphQLField) -> bool:
    return any(name in definition.args for name in (*PAGE_SIZE_ARGS, PAGINATION_ARG))


def _schema_default(definition: GraphQLField, name: str) -> int | None:
    """The integer default of a page-size argument in the schema, if any."""
    argument = definition.args.get(name)
    if argument is None:
        return None
    default = argument.default_value
    if default is Undefined and argument.ast_node is not None and argument.ast_node.default_value:
        # build_schema() keeps SDL defaults only in the AST.
        default = value_from_ast_untyped(argument.ast_node.default_value)
    return _as_int(default)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def is_connection_type(type_: GraphQLNamedType | None) -> bool:
    if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return False
    return type_.name.endswith("Connection") or ("edges" in type_.fields and "pageInfo" in type_.fields)


def _multiplies(return_type: GraphQLOutputType, parent: GraphQLNamedType | None) -> bool:
    if is_connection_type(get_named_type(return_type)):
        return True
    unwrapped = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    # `edges` / `nodes` of a connection are the page already paid for by the connection field.
    return isinstance(unwrapped, GraphQLList) and not is_connection_type(parent)


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation execution would run, or None when it cannot be determined (execution errors)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == operation_name), None)


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    if operation.operation == OperationType.QUERY:
        return schema.query_type
    if operation.operation == OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


def _variables_with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    values: dict[str, Any] = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def analyse_operation(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Analysis:
    """Complexity and depth of the selected operation; (0, 0) when no operation can be selected."""
    operation = select_operation(document, operation_name)
    if operation is None:
        return Analysis(0, 0)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    analyzer = _Analyzer(schema, fragments, _variables_with_defaults(operation, variables))
    return analyzer.analyse([(operation.selection_set, _root_type(schema, operation), frozenset())])


def query_complexity(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    return analyse_operation(document, schema, operation_name, variables).complexity
