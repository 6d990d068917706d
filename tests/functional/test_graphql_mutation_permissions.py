"""Every Mutation field declares a permission; viewer credentials and customer tokens change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import (
    GraphQLField,
    GraphQLInputType,
    GraphQLNamedType,
    Undefined,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)
from sqlalchemy import select
from strawberry.tools import merge_types
from tests.functional.conftest import Api, Backend, ok
from tests.functional.test_graphql_mutations import _enterprise_app, add_installation, gapi, graphql_response
from tests.support.gitrepo import GitRepo

from cargoman.db.models import Base
from cargoman.web.graphql.permissions import MUTATION_PERMISSIONS, CanWrite
from cargoman.web.graphql.schema import MUTATION_PARTS, QUERY_PARTS, build_schema

__all__ = ["_enterprise_app", "gapi"]  # fixtures shared with the mutation tests

REFERENCE_MUTATIONS = {
    "createCustomer",
    "updateCustomer",
    "deleteCustomer",
    "suspendCustomer",
    "reactivateCustomer",
    "freezeCustomer",
    "createToken",
    "revokeToken",
    "rotateToken",
    "regenerateToken",
    "revokeAllTokens",
    "grantPackageAccess",
    "revokePackageAccess",
    "addPackage",
    "syncPackage",
    "deletePackage",
    "createCollection",
    "updateCollection",
    "deleteCollection",
    "removeGitHubAppInstallation",
}


def fields_without_permission(schema: strawberry.Schema) -> list[str]:
    """Mutation fields whose permission classes include none of MUTATION_PERMISSIONS."""
    mutation = schema.get_type_by_name("Mutation")
    assert mutation is not None
    return [
        field.graphql_name or field.python_name
        for field in mutation.fields  # type: ignore[union-attr]
        if not any(issubclass(cls, MUTATION_PERMISSIONS) for cls in field.permission_classes)
    ]


def test_every_mutation_field_declares_a_permission() -> None:
    schema = build_schema()
    graphql_mutation = schema._schema.mutation_type
    assert graphql_mutation is not None
    assert set(graphql_mutation.fields) >= REFERENCE_MUTATIONS
    assert fields_without_permission(schema) == []

    # The walk does catch a field added without one.
    @strawberry.type
    class Unguarded:
        @strawberry.mutation
        def wipe_everything(self) -> bool:
            return False

        @strawberry.mutation(permission_classes=[CanWrite])
        def guarded(self) -> bool:
            return False

    with_unguarded = strawberry.Schema(
        query=merge_types("Query", QUERY_PARTS),
        mutation=merge_types("Mutation", (*MUTATION_PARTS, Unguarded)),
    )
    assert fields_without_permission(with_unguarded) == ["wipe_everything"]


# -- documents for every mutation ------------------------------------------------------------------


def _literal(type_: GraphQLInputType) -> str:
    """A value of the type that passes GraphQL validation (required input fields only)."""
    if is_non_null_type(type_):
        return _literal(type_.of_type)  # type: ignore[union-attr]
    if is_list_type(type_):
        return f"[{_literal(type_.of_type)}]"  # type: ignore[union-attr]
    if is_enum_type(type_):
        return next(iter(type_.values))  # type: ignore[union-attr]
    if is_input_object_type(type_):
        required = [
            f"{name}: {_literal(field.type)}"
            for name, field in type_.fields.items()  # type: ignore[union-attr]
            if is_non_null_type(field.type) and field.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    name = type_.name  # type: ignore[union-attr]
    return {"Int": "1", "Float": "1.5", "Boolean": "true"}.get(name, '"x"')


def _selection(field: GraphQLField) -> str:
    named: GraphQLNamedType = get_named_type(field.type)
    return "" if hasattr(named, "serialize") else " { __typename }"  # scalars and enums serialize


def generated_mutations() -> dict[str, str]:
    """One document per Mutation field of the built schema, including fields added after this test."""
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    documents = {}
    for name, field in mutation.fields.items():
        args = [
            f"{arg_name}: {_literal(arg.type)}"
            for arg_name, arg in field.args.items()
            if is_non_null_type(arg.type)
        ]
        arguments = f"({', '.join(args)})" if args else ""
        documents[name] = f"mutation {{ {name}{arguments}{_selection(field)} }}"
    return documents


def real_mutations(ids: dict[str, str], repository_url: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(field, document, variables) on existing objects: in this order, each succeeds for an admin."""
    customer = {"c": ids["customer"]}
    token = {"c": ids["customer"], "t": ids["token"]}
    return [
        ("createCustomer", 'mutation { createCustomer(input: {name: "New"}) { id } }', {}),
        (
            "updateCustomer",
            'mutation($c: ID!) { updateCustomer(id: $c, input: {name: "R"}) { id } }',
            customer,
        ),
        ("suspendCustomer", "mutation($c: ID!) { suspendCustomer(id: $c) { id } }", customer),
        ("reactivateCustomer", "mutation($c: ID!) { reactivateCustomer(id: $c) { id } }", customer),
        ("freezeCustomer", "mutation($c: ID!) { freezeCustomer(id: $c) { id } }", customer),
        (
            "createToken",
            "mutation($c: ID!) { createToken(customerId: $c, input: {}) { plainToken } }",
            customer,
        ),
        (
            "rotateToken",
            "mutation($c: ID!, $t: ID!) { rotateToken(customerId: $c, tokenId: $t) { plainToken } }",
            token,
        ),
        ("revokeToken", "mutation($c: ID!, $t: ID!) { revokeToken(customerId: $c, tokenId: $t) }", token),
        ("regenerateToken", "mutation($c: ID!) { regenerateToken(customerId: $c) { token } }", customer),
        ("revokeAllTokens", "mutation($c: ID!) { revokeAllTokens(customerId: $c) }", customer),
        (
            "grantPackageAccess",
            "mutation($c: ID!) "
            '{ grantPackageAccess(customerId: $c, packages: [{package: "acme/core"}]) { id } }',
            customer,
        ),
        (
            "revokePackageAccess",
            'mutation($c: ID!) { revokePackageAccess(customerId: $c, packageName: "acme/addon") { id } }',
            customer,
        ),
        (
            "addPackage",
            "mutation($url: String!) "
            '{ addPackage(input: {repositoryUrl: $url, name: "acme/other"}) { name } }',
            {"url": repository_url},
        ),
        ("syncPackage", 'mutation { syncPackage(name: "acme/core") { name } }', {}),
        ("createCollection", 'mutation { createCollection(input: {name: "N", slug: "new"}) { slug } }', {}),
        (
            "updateCollection",
            'mutation { updateCollection(slug: "suite", input: {packages: ["acme/core"]}) { slug } }',
            {},
        ),
        ("deleteCollection", 'mutation { deleteCollection(slug: "suite") }', {}),
        (
            "removeGitHubAppInstallation",
            "mutation($i: ID!) { removeGitHubAppInstallation(id: $i) }",
            {"i": ids["installation"]},
        ),
        ("deletePackage", 'mutation { deletePackage(name: "acme/addon") }', {}),
        ("deleteCustomer", "mutation($c: ID!) { deleteCustomer(id: $c) }", customer),
    ]


# Written on reads, in batches (see admins/lookup.py): not a change made by a mutation.
USAGE_COLUMNS = frozenset({"last_used_at", "last_used_ip"})


def database_snapshot(backend: Backend) -> dict[str, list[tuple[str, ...]]]:
    snapshot = {}
    with backend.runtime.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            columns = [column for column in table.columns if column.name not in USAGE_COLUMNS]
            rows = session.execute(select(*columns)).all()
            snapshot[table.name] = sorted(tuple(repr(value) for value in row) for row in rows)
    return snapshot


def test_viewers_and_customer_tokens_cannot_run_any_mutation(
    api: Api, gapi: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    core = make_library_repo("acme/core", tags=("1.0.0",))
    api.add_package(core.url)
    api.add_package(make_library_repo("acme/addon", tags=("1.0.0",)).url)
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/addon"}), 201)
    ok(api.post("/collections", json={"name": "Suite", "slug": "suite", "packages": ["acme/addon"]}), 201)
    ids = {
        "customer": customer["id"],
        "token": customer["token_id"],
        "installation": add_installation(backend),
    }
    ok(api.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    viewer = ok(api.post("/team/credentials", json={"name": "Val", "level": "viewer"}), 201)["plain_token"]
    admin = ok(api.post("/team/credentials", json={"name": "Ada", "level": "admin"}), 201)["plain_token"]
    before = database_snapshot(backend)

    real = real_mutations(ids, core.url)
    generated = generated_mutations()
    assert {name for name, _, _ in real} == REFERENCE_MUTATIONS
    documents = [(name, document, variables) for name, document, variables in real]
    documents += [(name, document, {}) for name, document in generated.items()]
    for name, document, variables in documents:
        body = graphql_response(gapi, document, variables, token=viewer)
        codes = [error["extensions"]["code"] for error in body.get("errors", [])]
        assert body["data"] is None and codes == ["FORBIDDEN"], (name, document, body)
    for name, document, variables in real[:3]:
        body = graphql_response(gapi, document, variables, token=customer["token"])
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"], (name, body)
    assert database_snapshot(backend) == before

    # The same documents do work for a credential allowed to write: the refusals were the permission.
    for name, document, variables in real:
        body = graphql_response(gapi, document, variables, token=admin)
        assert "errors" not in body, (name, body)
    assert database_snapshot(backend) != before
