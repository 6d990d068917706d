"""GraphQL over HTTP: batches, GET, content negotiation, the execution-time cap and multipart uploads."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok
from tests.support.uploads import package_zip

from cargoman.app import CargomanApp, create_app
from cargoman.customers import service as customers
from cargoman.web.graphql import schema as schema_module
from cargoman.web.graphql.http_transport import GRAPHQL_RESPONSE_JSON, MAX_BATCH_SIZE
from cargoman.web.graphql.multipart import FORM_OVERHEAD
from cargoman.web.graphql.types import Ctx

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
COMPLEXITY_CAP = 60
UPLOAD_LIMIT = 32 * 1024
TIMEOUT = 1.0
# Generous: an operation that never ends on its own must be answered well within this.
ANSWER_DEADLINE = 20.0

CUSTOMERS_10 = "{ customers(first: 10) { edges { node { id name } } } }"  # complexity 41
CUSTOMERS_20 = "{ customers(first: 20) { edges { node { id name } } } }"  # complexity 81
CREATE_CUSTOMER = 'mutation { createCustomer(input: {name: "Batched"}) { name } }'
UPLOAD = (
    "mutation($name: String!, $version: String, $file: Upload!) "
    "{ uploadPackageVersion(name: $name, version: $version, file: $file) "
    "{ version versionNormalized kind dist { url sha256 size } } }"
)


def _app(backend: Backend, root: Any, **settings: Any) -> CargomanApp:
    update = {
        "data_dir": root / "data",
        "task_enabled": False,
        "edition": "enterprise",
        "graphql_max_complexity": COMPLEXITY_CAP,
        "upload_max_bytes": UPLOAD_LIMIT,
        **settings,
    }
    return create_app(backend.settings.model_copy(update=update))


@pytest.fixture(scope="module")
def _transport_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    app = _app(backend, tmp_path_factory.mktemp(f"gql-transport-{backend.kind}"))
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture
def gapi(api: Api, _transport_app: CargomanApp) -> Api:
    return Api(TestClient(_transport_app, raise_server_exceptions=False))


def post(gapi: Api, body: Any, token: str | None = ADMIN_TOKEN, **headers: str) -> httpx.Response:
    merged = {"Authorization": f"Bearer {token}"} if token is not None else {}
    merged.update(headers)
    return gapi.client.post("/graphql", json=body, headers=merged)


def codes(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


def viewer_token(gapi: Api) -> str:
    ok(gapi.post("/team/credentials", json={"name": "Olga", "level": "owner"}), 201)  # the first is an owner
    viewer = ok(gapi.post("/team/credentials", json={"name": "Val", "level": "viewer"}), 201)
    token: str = viewer["plain_token"]
    return token


def customer_names(gapi: Api) -> list[str]:
    return [customer["name"] for customer in ok(gapi.get("/customers"))]


# -- batches ------------------------------------------------------------------------------------------


def test_a_batch_is_answered_in_order(gapi: Api) -> None:
    gapi.create_customer("Acme")
    batch = [
        {"query": "{ version { major } }"},
        {
            "query": "query Named($first: Int) { customers(first: $first) { totalCount } }",
            "variables": {"first": 1},
        },
        {"query": "{ customers { "},
        {"query": "{ noSuchField }"},
    ]
    response = post(gapi, batch)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert isinstance(answers, list) and len(answers) == 4
    assert answers[0] == {"data": {"version": {"major": 1}}}
    assert answers[1] == {"data": {"customers": {"totalCount": 1}}}
    assert answers[2]["data"] is None and codes(answers[2]) == ["GRAPHQL_PARSE_FAILED"]
    assert answers[3]["data"] is None and codes(answers[3]) == ["GRAPHQL_VALIDATION_FAILED"]


def test_batch_size_is_limited_and_complexity_counts_per_operation(gapi: Api) -> None:
    too_many = post(gapi, [{"query": "{ version { major } }"}] * (MAX_BATCH_SIZE + 1))
    assert too_many.status_code == 400
    assert codes(too_many.json()) == ["BAD_REQUEST"]
    assert str(MAX_BATCH_SIZE) in too_many.json()["errors"][0]["message"]
    for malformed in ([], [{"query": "{ version { major } }"}, "not an operation"]):
        response = post(gapi, malformed)
        assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"], malformed

    # Two operations of 41 each stay under the cap of 60 although they add up to more.
    full = post(gapi, [{"query": CUSTOMERS_10}] * MAX_BATCH_SIZE)
    assert full.status_code == 200
    assert all(answer == {"data": {"customers": {"edges": []}}} for answer in full.json())
    mixed = post(gapi, [{"query": CUSTOMERS_10}, {"query": CUSTOMERS_20}]).json()
    assert mixed[0] == {"data": {"customers": {"edges": []}}}
    assert mixed[1]["data"] is None
    assert mixed[1]["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "score": 81, "limit": 60}


def test_mutations_in_a_batch_follow_the_permission_rules(gapi: Api) -> None:
    viewer = viewer_token(gapi)
    refused = post(gapi, [{"query": "{ version { major } }"}, {"query": CREATE_CUSTOMER}], token=viewer)
    assert refused.status_code == 200
    query_answer, mutation_answer = refused.json()
    assert query_answer == {"data": {"version": {"major": 1}}}
    assert codes(mutation_answer) == ["FORBIDDEN"]
    assert customer_names(gapi) == []

    applied = post(gapi, [{"query": CREATE_CUSTOMER}, {"query": "{ customers { totalCount } }"}])
    assert applied.json() == [
        {"data": {"createCustomer": {"name": "Batched"}}},
        {"data": {"customers": {"totalCount": 1}}},
    ]


def test_an_unauthenticated_batch_runs_nothing(gapi: Api) -> None:
    response = post(gapi, [{"query": CREATE_CUSTOMER}] * 2, token="wrong")
    assert response.status_code == 200
    assert response.json()["data"] is None and codes(response.json()) == ["UNAUTHORIZED"]
    assert customer_names(gapi) == []


# -- GET ---------------------------------------------------------------------------------------------------


def test_get_runs_queries_with_json_encoded_variables(gapi: Api) -> None:
    gapi.create_customer("Acme")
    params = {
        "query": "query Page($first: Int) { customers(first: $first) { edges { node { name } } } }",
        "variables": json.dumps({"first": 5}),
        "operationName": "Page",
    }
    response = gapi.client.get("/graphql", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"customers": {"edges": [{"node": {"name": "Acme"}}]}}}

    for bad in ({"query": "{ version { major } }", "variables": "{not json"}, {"operationName": "Page"}):
        refused = gapi.client.get("/graphql", params=bad, headers=AUTH)
        assert refused.status_code == 400 and codes(refused.json()) == ["BAD_REQUEST"], bad


def test_a_mutation_over_get_is_405_and_not_run(gapi: Api) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE_JSON):
        response = gapi.client.get(
            "/graphql", params={"query": CREATE_CUSTOMER}, headers={**AUTH, "Accept": accept}
        )
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST"
        assert codes(response.json()) == ["OPERATION_NOT_ALLOWED"]
    assert customer_names(gapi) == []


# -- content negotiation --------------------------------------------------------------------------------


def test_the_response_media_type_follows_accept(gapi: Api) -> None:
    query = {"query": "{ version { major } }"}
    for accept, expected in (
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", "application/json"),
        ("text/html, */*;q=0.1", "application/json"),
    ):
        headers = {"Accept": accept} if accept is not None else {}
        response = post(gapi, query, **headers)
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == f"{expected}; charset=utf-8", accept
        assert response.json() == {"data": {"version": {"major": 1}}}
    refused = post(gapi, query, Accept="text/html")
    assert refused.status_code == 406 and codes(refused.json()) == ["NOT_ACCEPTABLE"]


def test_request_errors_use_4xx_with_graphql_response_json_and_200_with_json(gapi: Api) -> None:
    cases = [
        ({"query": "{ customers { "}, ADMIN_TOKEN, 400, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, ADMIN_TOKEN, 400, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "query($first: Int!) { customers(first: $first) { totalCount } }", "variables": {}},
            ADMIN_TOKEN,
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": CUSTOMERS_20}, ADMIN_TOKEN, 400, "QUERY_TOO_COMPLEX"),
        (
            {"query": "{ version { major } }", "operationName": "Missing"},
            ADMIN_TOKEN,
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": "{ version { major } }"}, "wrong", 401, "UNAUTHORIZED"),
    ]
    for body, token, status, code in cases:
        strict = post(gapi, body, token=token, Accept=GRAPHQL_RESPONSE_JSON)
        assert strict.status_code == status, (body, strict.text)
        assert "data" not in strict.json() and codes(strict.json()) == [code], body
        relaxed = post(gapi, body, token=token, Accept="application/json")
        assert relaxed.status_code == 200, body
        assert relaxed.json()["data"] is None and codes(relaxed.json()) == [code], body
    assert (
        post(gapi, {"query": "{ a }"}, token="wrong", Accept=GRAPHQL_RESPONSE_JSON).headers[
            "www-authenticate"
        ]
        == "Bearer"
    )


def test_execution_errors_keep_200_and_data_with_graphql_response_json(gapi: Api) -> None:
    response = post(
        gapi, {"query": '{ customers(after: "bad") { totalCount } }'}, Accept=GRAPHQL_RESPONSE_JSON
    )
    assert response.status_code == 200
    assert response.json()["data"] is None and codes(response.json()) == ["VALIDATION_ERROR"]


def test_request_bodies_that_are_not_graphql(gapi: Api) -> None:
    for content, content_type, status, code in (
        (b'{"query": "{ version { major } }"}', None, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"query": "{ version { major } }"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            b'{"query": "{ version { major } }"}',
            "application/json; charset=latin-1",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (b"", "application/json", 400, "BAD_REQUEST"),
        (b'{"query": "{ version', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": 0}', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": "{ version { major } }", "extensions": "x"}', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": "{ version { major } }", "variables": []}', "application/json", 400, "BAD_REQUEST"),
    ):
        headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
        response = gapi.client.post("/graphql", content=content, headers=headers)
        assert response.status_code == status, (content, content_type, response.text)
        assert codes(response.json()) == [code]
    with_extensions = post(gapi, {"query": "{ version { major } }", "extensions": {"some": "value"}})
    assert with_extensions.json() == {"data": {"version": {"major": 1}}}


# -- the execution-time cap ------------------------------------------------------------------------------


@strawberry.type
class Slow:
    @strawberry.field
    def done(self) -> bool:
        return True


@strawberry.type
class SlowQuery:
    @strawberry.field(description="Waits for an event nobody sets")
    async def waits_forever(self) -> bool:
        await asyncio.Event().wait()
        return True

    @strawberry.field(description="Keeps the thread busy until the time is up, then has a child field")
    def busy_past_the_deadline(self) -> Slow:
        # Busy (not sleeping) on purpose: the cap must stop work that never yields to the loop.
        until = time.monotonic() + TIMEOUT * 1.5
        while time.monotonic() < until:
            pass
        return Slow()

    @strawberry.field(description="A SQL statement that never ends")
    def endless_sql(self, info: Ctx) -> int:
        endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
        return int(info.context.ctx.session.execute(text(endless)).scalar_one())


@strawberry.type
class SlowMutation:
    @strawberry.mutation(description="Writes a customer, then waits for an event nobody sets")
    async def write_then_wait(self, info: Ctx) -> bool:
        customers.create_customer(info.context.ctx, name="Never committed")
        info.context.ctx.session.flush()
        await asyncio.Event().wait()
        return True


@pytest.fixture(scope="module")
def _slow_app(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CargomanApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema_module, "QUERY_PARTS", (*schema_module.QUERY_PARTS, SlowQuery))
        patch.setattr(schema_module, "MUTATION_PARTS", (*schema_module.MUTATION_PARTS, SlowMutation))
        root = tmp_path_factory.mktemp(f"gql-slow-{backend.kind}")
        app = _app(backend, root, graphql_execution_timeout=TIMEOUT, graphql_max_complexity=None)
    with TestClient(app, raise_server_exceptions=False):
        yield app


@pytest.fixture
def slow(api: Api, _slow_app: CargomanApp) -> Api:
    return Api(TestClient(_slow_app, raise_server_exceptions=False))


def assert_timed_out(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None and codes(body) == ["TIMEOUT"], body
    assert f"execution limit of {TIMEOUT:g} seconds" in body["errors"][0]["message"]


@pytest.mark.parametrize("query", ["{ waitsForever }", "{ busyPastTheDeadline { done } }", "{ endlessSql }"])
def test_an_operation_running_past_the_cap_is_stopped(slow: Api, query: str) -> None:
    started = time.monotonic()
    assert_timed_out(post(slow, {"query": query}))
    assert time.monotonic() - started < ANSWER_DEADLINE
    assert post(slow, {"query": "{ version { major } }"}).json() == {"data": {"version": {"major": 1}}}


def test_a_stopped_mutation_is_rolled_back(slow: Api) -> None:
    assert_timed_out(post(slow, {"query": "mutation { writeThenWait }"}))
    assert customer_names(slow) == []


def test_a_batch_shares_one_time_budget(slow: Api) -> None:
    answers = post(slow, [{"query": "{ waitsForever }"}, {"query": "{ version { major } }"}]).json()
    assert [codes(answer) for answer in answers] == [["TIMEOUT"], ["TIMEOUT"]]


# -- multipart uploads ---------------------------------------------------------------------------------


def upload(
    gapi: Api,
    archive: bytes,
    name: str = "acme/widget",
    version: str | None = None,
    token: str = ADMIN_TOKEN,
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"name": name, "version": version, "file": None}}
    return gapi.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("widget.zip", archive, "application/zip")},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_upload_publishes_a_version_like_rest(gapi: Api) -> None:
    response = upload(gapi, package_zip("acme/widget", top="widget-1.0.0"), version="v1.0.0")
    assert response.status_code == 200, response.text
    version = response.json()["data"]["uploadPackageVersion"]
    assert version["version"] == "1.0.0" and version["versionNormalized"] == "1.0.0.0"
    assert version["kind"] == "TAG"
    assert version["dist"]["url"] == "http://testserver/dist/acme/widget/1.0.0.zip"
    files = ok(gapi.get("/packages/acme/widget/files"))
    assert [(f["version"], f["sha256"], f["size"]) for f in files] == [
        ("1.0.0", version["dist"]["sha256"], version["dist"]["size"])
    ]
    entries = ok(gapi.get("/audit", params={"action": "version.upload"}))
    assert [(entry["resource_id"], entry["actor"]) for entry in entries] == [("acme/widget:1.0.0", "root")]

    again = upload(gapi, package_zip("acme/widget"), version="1.0.0")
    assert again.json()["data"] is None and codes(again.json()) == ["CONFLICT"]


def test_upload_refusals_write_nothing(gapi: Api) -> None:
    viewer = viewer_token(gapi)
    incompressible = os.urandom(UPLOAD_LIMIT + 1024)
    for archive, name, token, code, field in (
        (package_zip("acme/widget", version="1.0.0"), "acme/widget", viewer, "FORBIDDEN", None),
        (package_zip("acme/other", version="1.0.0"), "acme/widget", ADMIN_TOKEN, "VALIDATION_ERROR", "file"),
        (b"not a zip at all", "acme/widget", ADMIN_TOKEN, "VALIDATION_ERROR", "file"),
        (package_zip("acme/widget"), "acme/widget", ADMIN_TOKEN, "VALIDATION_ERROR", "version"),
        (incompressible, "acme/widget", ADMIN_TOKEN, "VALIDATION_ERROR", "file"),
    ):
        response = upload(gapi, archive, name=name, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] is None and codes(body) == [code], body
        if field is not None:
            assert body["errors"][0]["extensions"]["field"] == field, body
    assert ok(gapi.get("/packages")) == []


def test_an_upload_past_the_limit_is_refused_while_streaming(gapi: Api) -> None:
    response = upload(gapi, os.urandom(UPLOAD_LIMIT + FORM_OVERHEAD + 1))
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "file"}
    assert str(UPLOAD_LIMIT) in error["message"]
    assert ok(gapi.get("/packages")) == []


def test_multipart_requests_need_operations_and_map(gapi: Api) -> None:
    operations = json.dumps({"query": UPLOAD, "variables": {"name": "acme/widget", "file": None}})
    archive = ("widget.zip", package_zip("acme/widget", version="1.0.0"), "application/zip")
    for data, files in (
        ({"operations": operations}, {"0": archive}),
        ({"map": json.dumps({"0": ["variables.file"]})}, {"0": archive}),
        ({"operations": operations, "map": json.dumps({"1": ["variables.file"]})}, {"0": archive}),
        ({"operations": operations, "map": json.dumps({"0": ["variables.other"]})}, {"0": archive}),
        ({"operations": operations, "map": json.dumps({"0": ["query"]})}, {"0": archive}),
        ({"operations": "{not json", "map": json.dumps({"0": ["variables.file"]})}, {"0": archive}),
    ):
        response = gapi.client.post("/graphql", data=data, files=files, headers=AUTH)
        assert response.status_code == 400, (data, response.text)
        assert codes(response.json()) == ["BAD_REQUEST"]
    assert ok(gapi.get("/packages")) == []


@pytest.mark.parametrize(
    ("query", "variables", "target"),
    [
        ("query($note: String) { version { major } }", {"note": None}, "variables.note"),
        ("query { version { major } }", {"note": None}, "variables.note"),  # not declared at all
        (UPLOAD, {"name": "acme/widget", "version": None, "file": None}, "variables.version"),
    ],
)
def test_a_file_may_only_fill_an_upload_variable(
    gapi: Api, query: str, variables: dict[str, Any], target: str
) -> None:
    """A file part is no ticket to the upload's longer time budget: it must fill a declared Upload."""
    response = gapi.client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({"0": [target]}),
        },
        files={"0": ("widget.zip", package_zip("acme/widget", version="1.0.0"), "application/zip")},
        headers=AUTH,
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert codes(body) == ["BAD_REQUEST"]
    variable = target.split(".")[-1]
    assert (
        f"fills ${variable}, which the operation does not declare with type Upload"
        in body["errors"][0]["message"]
    )
    assert ok(gapi.get("/packages")) == []


def test_a_multipart_batch_uploads_each_file(gapi: Api) -> None:
    operations = [
        {"query": UPLOAD, "variables": {"name": "acme/widget", "version": version, "file": None}}
        for version in ("1.0.0", "1.1.0")
    ]
    response = gapi.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"a": ["0.variables.file"], "b": ["1.variables.file"]}),
        },
        files={
            "a": ("a.zip", package_zip("acme/widget"), "application/zip"),
            "b": ("b.zip", package_zip("acme/widget"), "application/zip"),
        },
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert [answer["data"]["uploadPackageVersion"]["version"] for answer in response.json()] == [
        "1.0.0",
        "1.1.0",
    ]
    assert sorted(f["version"] for f in ok(gapi.get("/packages/acme/widget/files"))) == ["1.0.0", "1.1.0"]
