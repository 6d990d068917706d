"""``POST /graphql`` (and the playground): authentication, edition gate, limits, then execution.

Transport choices (GraphQL over HTTP, ``application/json`` responses): every well-formed request
answers HTTP 200, errors included -- authentication (UNAUTHORIZED, FORBIDDEN), the edition gate
(FEATURE_NOT_AVAILABLE) and the limits (QUERY_TOO_COMPLEX, QUERY_TOO_DEEP) come back as
``{"data": null, "errors": [{"message", "extensions": {"code", ...}}]}``. Only a request that is not
a GraphQL request at all (not JSON, no ``query`` string) answers 400.

The whole request (token lookup, resolvers, DataLoaders) runs in a worker thread on an event loop
of its own: the services are synchronous, and one request's unit of work stays on one thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from graphql import (
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    parse,
    specified_rules,
    validate,
)
from strawberry.http.ides import get_graphql_ide_html
from strawberry.types.graphql import OperationType

from cargoman.config import Settings
from cargoman.editions import Feature, FeatureNotAvailable, require_feature
from cargoman.errors import CargomanError
from cargoman.graphql_limits import QueryLimitExceeded, check_limits, edition_complexity_limit
from cargoman.runtime import Runtime
from cargoman.web.api.auth import AdminPrincipal, _authenticate
from cargoman.web.graphql.context import GraphQLContext
from cargoman.web.graphql.errors import format_error, known_error, request_error
from cargoman.web.graphql.loaders import Loaders
from cargoman.web.graphql.schema import build_schema

MAX_DEPTH = 12
MAX_QUERY_BYTES = 100_000


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class BadRequest(Exception):
    pass


def _parse_body(raw: bytes) -> GraphQLRequest:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The request body is not JSON") from exc
    if isinstance(body, list):
        raise BadRequest("Batched requests are not supported yet")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    query, variables, operation_name = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("The request has no query")
    if len(query) > MAX_QUERY_BYTES:
        raise BadRequest(f"The query is longer than {MAX_QUERY_BYTES} characters")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("operationName must be a string")
    return GraphQLRequest(query, variables, operation_name)


def _errors(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"data": None, "errors": list(errors)}


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema()
        self.complexity_limit = edition_complexity_limit(settings.edition, settings.graphql_max_complexity)
        rules = list(specified_rules)
        if not settings.graphql_introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = rules

    async def handle(self, request: Request) -> JSONResponse:
        try:
            gql = _parse_body(await request.body())
        except BadRequest as exc:
            return JSONResponse(_errors(request_error("BAD_REQUEST", str(exc))), status_code=400)
        runtime: Runtime = request.app.state.runtime
        body = await anyio.to_thread.run_sync(partial(self._run, request, runtime, gql))
        return JSONResponse(body)

    def _run(self, request: Request, runtime: Runtime, gql: GraphQLRequest) -> dict[str, Any]:
        """Everything before execution raises; the first failure is the whole answer."""
        try:
            require_feature(self.settings.edition, Feature.GRAPHQL)
            principal = _authenticate(request, runtime)
        except (CargomanError, FeatureNotAvailable) as exc:
            known = known_error(exc)
            assert known is not None
            return _errors(known)
        return self.execute(runtime, principal, gql)

    def execute(
        self,
        runtime: Runtime,
        principal: AdminPrincipal,
        gql: GraphQLRequest,
        allowed_operation_types: tuple[OperationType, ...] = (OperationType.QUERY,),
    ) -> dict[str, Any]:
        """Parse, validate, check the limits and run one operation for an authenticated caller.

        Also used to run stored queries (GraphQL webhooks) with their creator's credentials.
        """
        try:
            document = parse(gql.query)
        except GraphQLError as exc:
            return _errors(format_error(exc, "GRAPHQL_PARSE_FAILED"))
        graphql_schema = self.schema._schema
        invalid = validate(graphql_schema, document, self.rules)
        if invalid:
            return _errors(*(format_error(e) for e in invalid))
        try:
            limits = check_limits(
                document, graphql_schema, gql.operation_name, gql.variables, self.complexity_limit, MAX_DEPTH
            )
        except QueryLimitExceeded as exc:
            known = known_error(exc)
            assert known is not None
            return _errors(known)
        with principal.unit_of_work(runtime) as ctx:
            context = GraphQLContext(ctx, principal, Loaders(ctx), limits, self.complexity_limit)
            result = asyncio.run(
                self.schema.execute(
                    gql.query,
                    variable_values=gql.variables,
                    context_value=context,
                    operation_name=gql.operation_name,
                    allowed_operation_types=allowed_operation_types,
                )
            )
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(error) for error in result.errors]
        return response


def _playground_html() -> str:
    # Strawberry's GraphiQL posts to its own URL; the playground lives one level below /graphql.
    html = get_graphql_ide_html("graphiql")
    return html.replace(
        'const fetchURL = window.location.href.split("?")[0];',
        'const fetchURL = new URL("../graphql", window.location.href).href;',
    )


def build_graphql_router(settings: Settings) -> APIRouter:
    endpoint = GraphQLEndpoint(settings)
    router = APIRouter(include_in_schema=False)

    @router.post("/graphql")
    async def graphql(request: Request) -> JSONResponse:
        return await endpoint.handle(request)

    if settings.graphql_playground:
        page = _playground_html()

        @router.get("/graphql/playground")
        async def playground() -> HTMLResponse:
            return HTMLResponse(page)

    return router


__all__ = ["GraphQLEndpoint", "build_graphql_router"]
