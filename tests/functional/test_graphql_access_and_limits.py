"""GraphQL: who may query, the edition gate, introspection/playground switches, the complexity cap
checked before any SQL runs, and DataLoaders keeping nested lists at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok
from tests.functional.test_graphql_queries import error_codes, gql, graphql_response

from cargoman.app import CargomanApp, create_app
from cargoman.db.models import DEFAULT_TENANT_ID, Customer, Package, PackageGrant, Version
from cargoman.graphql_limits import query_complexity
from cargoman.web.graphql.schema import build_schema


def _app(backend: Backend, root: Any, **settings: Any) -> CargomanApp:
    update = {"data_dir": root / "data", "task_enabled": False, **settings}
    return create_app(backend.settings.model_copy(update=update))


@pytest.fixture(scope="module")
def _enterprise_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    app = _app(backend, tmp_path_factory.mktemp(f"gql-ent-{backend.kind}"), edition="enterprise")
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture(scope="module")
def _pro_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    """Pro (complexity cap 500), with the playground and introspection switched on."""
    root = tmp_path_factory.mktemp(f"gql-pro-{backend.kind}")
    app = _app(backend, root, edition="pro", graphql_playground=True, graphql_introspection=True)
    with TestClient(app, raise_server_exceptions=False):
        yield app


def _client(app: CargomanApp) -> Api:
    return Api(TestClient(app, raise_server_exceptions=False))


@pytest.fixture
def enterprise(api: Api, _enterprise_app: CargomanApp) -> Api:
    return _client(_enterprise_app)


@pytest.fixture
def pro(api: Api, _pro_app: CargomanApp) -> Api:
    return _client(_pro_app)


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


# -- authentication and the edition gate -----------------------------------------------------------


def test_root_and_cma_tokens_may_query_a_viewer_included(api: Api, enterprise: Api) -> None:
    api.create_customer("Acme")
    owner = ok(enterprise.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)
    viewer = ok(enterprise.post("/team/credentials", json={"name": "Val", "level": "viewer"}), 201)
    admin = ok(enterprise.post("/team/credentials", json={"name": "Ada", "level": "admin"}), 201)
    for token in (ADMIN_TOKEN, owner["plain_token"], viewer["plain_token"], admin["plain_token"]):
        data = gql(enterprise, "{ customers { totalCount edges { node { name } } } }", token=token)
        assert data["customers"]["totalCount"] == 1


def test_customer_tokens_and_bad_tokens_are_refused(api: Api, enterprise: Api) -> None:
    customer = api.create_customer("Acme")
    query = "{ customers { totalCount } }"
    refused = graphql_response(enterprise, query, token=customer["token"])
    assert refused["data"] is None and error_codes(refused) == ["FORBIDDEN"]
    for token in (None, "wrong", "cma_" + "x" * 32, "tok_unknown"):
        body = graphql_response(enterprise, query, token=token)
        assert body["data"] is None and error_codes(body) == ["UNAUTHORIZED"], token


def test_community_edition_has_no_graphql(api: Api) -> None:
    """200 with a GraphQL error (graphql-over-http, application/json), not a REST envelope."""
    body = graphql_response(api, "{ version { major } }")
    assert body["data"] is None
    assert error_codes(body) == ["FEATURE_NOT_AVAILABLE"]
    assert "GraphQL" in body["errors"][0]["message"]
    assert api.client.get("/graphql/playground").status_code == 404


def test_malformed_requests_answer_400(enterprise: Api) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    for payload in ({"content": b"not json"}, {"json": {"variables": {}}}, {"json": []}):
        response = enterprise.client.post("/graphql", headers=headers, **payload)  # type: ignore[arg-type]
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    syntax = graphql_response(enterprise, "{ customers { ")
    assert syntax["data"] is None and error_codes(syntax) == ["GRAPHQL_PARSE_FAILED"]


def test_introspection_and_playground_follow_the_settings(enterprise: Api, pro: Api) -> None:
    introspect = "{ __schema { queryType { name } } }"
    assert set(error_codes(graphql_response(enterprise, introspect))) == {"GRAPHQL_VALIDATION_FAILED"}
    assert enterprise.client.get("/graphql/playground").status_code == 404
    assert gql(pro, introspect) == {"__schema": {"queryType": {"name": "Query"}}}
    page = pro.client.get("/graphql/playground")
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_the_playground_introspection_query_passes_the_pro_limits(pro: Api) -> None:
    from graphql import get_introspection_query

    schema = gql(pro, get_introspection_query())["__schema"]
    names = {t["name"] for t in schema["types"]}
    assert {"Query", "Customer", "Package", "PackageConnection"} <= names


# -- complexity ------------------------------------------------------------------------------------

# customers(first: 99) = 1 + 99 * (totalCount 1 + edges 1 + node 1 + id 1 + name 1) = 496, and
# each `version { major }` costs 2 (see graphql_limits/complexity.py).
AT_LIMIT = (
    "{ customers(first: 99) { totalCount edges { node { id name } } } "
    "v1: version { major } v2: version { major } }"
)
OVER_LIMIT = AT_LIMIT.replace("v1: version { major }", "v1: version { major minor }")


def test_queries_over_the_pro_cap_are_refused_before_any_sql(pro: Api, _pro_app: CargomanApp) -> None:
    from graphql import parse

    schema = build_schema()._schema
    assert query_complexity(parse(AT_LIMIT), schema) == 500
    assert query_complexity(parse(OVER_LIMIT), schema) == 501

    with StatementCounter(_pro_app.runtime.engine) as counter:
        refused = graphql_response(pro, OVER_LIMIT)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "score": 501, "limit": 500}
    assert counter.statements == []

    data = gql(pro, AT_LIMIT)
    assert data["customers"]["totalCount"] == 0
    assert gql(pro, "{ queryComplexity { score limit } }")["queryComplexity"] == {"score": 3, "limit": 500}


def test_complexity_counts_the_default_page_size(pro: Api) -> None:
    # customers(default page 25): 1 + 25 * (totalCount, edges, cursor, node, 9 scalars: 13 + packages,
    # a plain list counted 3 times: 1 + 3 * 3) = 576, over 500; a page of 10 is allowed.
    fields = "id name email externalId status statusReason expiresAt createdAt updatedAt"
    selection = f"edges {{ cursor node {{ {fields} packages {{ name constraint grantedAt }} }} }}"
    body = graphql_response(pro, f"{{ customers {{ totalCount {selection} }} }}")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["score"] == 576
    smaller_page = gql(pro, f"{{ customers(first: 10) {{ {selection} }} queryComplexity {{ score }} }}")
    assert smaller_page["queryComplexity"]["score"] == 1 + 10 * 22 + 2


# -- N+1 -------------------------------------------------------------------------------------------


def _seed(backend: Backend, count: int) -> None:
    """``count`` packages with 3 versions each, ``count`` customers with 2 grants each (direct rows)."""
    with backend.runtime.session_factory() as session:
        packages = [
            Package(
                id=f"pkg_n1_{i:03}", tenant_id=DEFAULT_TENANT_ID, name=f"acme/lib{i:03}", sync_status="ready"
            )
            for i in range(count)
        ]
        session.add_all(packages)
        session.flush()
        for package in packages:
            for version in ("1.0.0", "1.1.0", "2.0.0"):
                session.add(
                    Version(
                        tenant_id=DEFAULT_TENANT_ID,
                        package_id=package.id,
                        version=version,
                        version_normalized=f"{version}.0",
                        reference="a" * 40,
                    )
                )
        for i in range(count):
            customer = Customer(id=f"cust_n1_{i:03}", tenant_id=DEFAULT_TENANT_ID, name=f"Customer {i:03}")
            session.add(customer)
            session.flush()
            for package in (packages[i], packages[(i + 1) % count]):
                session.add(
                    PackageGrant(tenant_id=DEFAULT_TENANT_ID, customer_id=customer.id, package_id=package.id)
                )
        session.commit()


NESTED = """
query($first: Int!) {
  packages(first: $first) { edges { node { name latestVersion versions { version } } } }
  customers(first: $first) {
    edges { node { name packageAccess { name constraint } frozenVersions { package version } } }
  }
}
"""


def test_nested_lists_take_the_same_number_of_statements_for_10_and_100(
    backend: Backend, enterprise: Api, _enterprise_app: CargomanApp
) -> None:
    _seed(backend, 100)
    counts: dict[int, int] = {}
    for first in (10, 100):
        with StatementCounter(_enterprise_app.runtime.engine) as counter:
            data = gql(enterprise, NESTED, {"first": first})
        counts[first] = len(counter.statements)
        assert len(data["packages"]["edges"]) == first
        assert all(len(e["node"]["versions"]) == 3 for e in data["packages"]["edges"])
        assert {e["node"]["latestVersion"] for e in data["packages"]["edges"]} == {"2.0.0"}
        assert all(len(e["node"]["packageAccess"]) == 2 for e in data["customers"]["edges"])
    assert counts[10] == counts[100], counts
    # count + page for each connection, one batch each for versions, grants and frozen versions.
    assert counts[100] <= 9, counts
