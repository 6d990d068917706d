"""``/graphql`` over HTTP (GraphQL over HTTP): authentication, edition gate, limits, execution.

Requests:

* ``POST`` with ``application/json``: one operation ``{"query", "variables", "operationName",
  "extensions"}``, or a batch: a JSON array of up to ``MAX_BATCH_SIZE`` operations answered by an
  array in the same order. Each operation of a batch is checked on its own (complexity and depth
  caps, mutation permissions) and runs in its own unit of work.
* ``POST`` with ``multipart/form-data``: the GraphQL multipart request for file uploads
  (``multipart.py``).
* ``GET`` with ``query``, ``operationName`` and JSON-encoded ``variables``/``extensions`` in the
  query string: queries only; a mutation is answered ``405 Method Not Allowed`` (``Allow: POST``).
  Subscriptions are served over WebSocket (``ws.py``).

Responses follow the Accept header: ``application/graphql-response+json`` or ``application/json``
(also for a missing Accept or ``*/*``); anything else is 406. Every error carries
``extensions.code``. With ``application/json`` every well-formed GraphQL request answers HTTP 200,
errors included: authentication (UNAUTHORIZED, FORBIDDEN), the edition gate
(FEATURE_NOT_AVAILABLE), parsing and validation, the limits (QUERY_TOO_COMPLEX, QUERY_TOO_DEEP) come
back as ``{"data": null, "errors": [...]}``, so clients read one format. With
``application/graphql-response+json`` an error raised before execution has no ``data`` entry and
the status says what failed, as that media type requires: 400 (parse, validation, variables,
limits), 401, 403. What is not a GraphQL request at all answers with a 4xx under both media types:
400 (not JSON, no query, a bad batch or multipart form), 405, 406, 413, 415.

Execution is capped at GRAPHQL_EXECUTION_TIMEOUT seconds for the whole request (a batch shares the
budget; requests carrying files get ``UPLOAD_TIME_FACTOR`` times it, for checking and storing the
archives). An operation still running at the deadline is stopped, its unit of work rolled back,
and answered ``{"data": null, "errors": [{"extensions": {"code": "TIMEOUT"}}]}`` (``deadline.py``).

The work (token lookup, resolvers, DataLoaders) runs in a worker thread on an event loop of its
own: the services are synchronous, and one operation's unit of work stays on one thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from graphql import (
    DocumentNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast
from starlette.datastructures import FormData
from strawberry.http.ides import get_graphql_ide_html
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from cargoman.config import Settings
from cargoman.editions import Feature, FeatureNotAvailable, require_feature
from cargoman.errors import CargomanError, Forbidden, Unauthorized
from cargoman.graphql_limits import (
    LimitReport,
    QueryLimitExceeded,
    check_limits,
    edition_complexity_limit,
)
from cargoman.graphql_webhooks.event import DeliveredEvent
from cargoman.runtime import Runtime
from cargoman.web.api.auth import AdminPrincipal, _authenticate
from cargoman.web.graphql.context import GraphQLContext
from cargoman.web.graphql.deadline import (
    ExecutionDeadline,
    ExecutionTimedOut,
    deadline_set,
    remaining,
    statement_deadline,
)
from cargoman.web.graphql.errors import format_error, known_error, request_error
from cargoman.web.graphql.http_transport import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    MAX_QUERY_BYTES,
    MULTIPART,
    GraphQLRequest,
    Operations,
    RequestRejected,
    operation_from_query_string,
    operations_from_json_body,
    request_media_type,
    response_media_type,
)
from cargoman.web.graphql.loaders import Loaders
from cargoman.web.graphql.multipart import operations_from_form, read_form
from cargoman.web.graphql.schema import build_schema

MAX_DEPTH = 12
UPLOAD_TIME_FACTOR = 10
POST_OPERATIONS = (OperationType.QUERY, OperationType.MUTATION)
GET_OPERATIONS = (OperationType.QUERY,)

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_BYTES",
    "GraphQLEndpoint",
    "GraphQLRequest",
    "build_graphql_router",
]


@dataclass(frozen=True)
class Outcome:
    """One operation's answer, and the status it calls for under graphql-response+json."""

    errors: list[dict[str, Any]]
    data: Any = None
    executed: bool = False
    status: int = 200

    def body(self, media_type: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        # Before execution there is no data; application/json clients get an explicit null.
        if self.executed or media_type == JSON:
            body["data"] = self.data
        if self.errors:
            body["errors"] = self.errors
        return body

    def http_status(self, media_type: str) -> int:
        if self.status == 405 or media_type == GRAPHQL_RESPONSE_JSON:
            return self.status
        return 200


def _refused(status: int, error: dict[str, Any]) -> Outcome:
    return Outcome([error], status=status)


def _timed_out(budget: float) -> Outcome:
    message = f"The request took longer than the execution limit of {budget:g} seconds and was stopped"
    return Outcome([request_error("TIMEOUT", message)], executed=True)


class _RolledBack(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _refused_operation(kind: OperationType, status: int) -> Outcome:
    if kind is OperationType.SUBSCRIPTION:
        message = "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql"
    elif kind is OperationType.MUTATION:
        message = "Mutations must be sent with POST"
    else:
        message = f"{kind.value.capitalize()} operations are not allowed here"
    return _refused(status, request_error("OPERATION_NOT_ALLOWED", message))


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, Forbidden | FeatureNotAvailable):
        return 403
    return 400


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema(extensions=[ExecutionDeadline])
        self.complexity_limit = edition_complexity_limit(settings.edition, settings.graphql_max_complexity)
        rules = list(specified_rules)
        if not settings.graphql_introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = rules

    # -- HTTP ------------------------------------------------------------------------------------------

    async def handle_post(self, request: Request) -> JSONResponse:
        try:
            media_type = response_media_type(request.headers.get("accept"))
        except RequestRejected as exc:
            return _rejection(exc, JSON)
        try:
            body_type = request_media_type(request)
            principal = await self._authenticate(request)
            if isinstance(principal, Outcome):
                return _respond([principal], False, media_type)
            form: FormData | None = None
            if body_type == MULTIPART:
                form = await read_form(request, self.settings.upload_max_bytes)
                operations = operations_from_form(form)
            else:
                operations = await operations_from_json_body(request)
        except RequestRejected as exc:
            return _rejection(exc, media_type)
        try:
            outcomes = await self._run(request, principal, operations, POST_OPERATIONS, refusal_status=400)
        finally:
            if form is not None:
                await form.close()
        return _respond(outcomes, operations.batched, media_type)

    async def handle_get(self, request: Request) -> JSONResponse:
        try:
            media_type = response_media_type(request.headers.get("accept"))
        except RequestRejected as exc:
            return _rejection(exc, JSON)
        try:
            operations = operation_from_query_string(request)
        except RequestRejected as exc:
            return _rejection(exc, media_type)
        principal = await self._authenticate(request)
        if isinstance(principal, Outcome):
            return _respond([principal], False, media_type)
        outcomes = await self._run(request, principal, operations, GET_OPERATIONS, refusal_status=405)
        return _respond(outcomes, False, media_type)

    async def _authenticate(self, request: Request) -> AdminPrincipal | Outcome:
        """The caller, or the refusal for one who may not use GraphQL."""
        runtime: Runtime = request.app.state.runtime
        try:
            require_feature(self.settings.edition, Feature.GRAPHQL)
            principal = await anyio.to_thread.run_sync(partial(_authenticate, request, runtime))
        except (CargomanError, FeatureNotAvailable) as exc:
            known = known_error(exc)
            assert known is not None
            return _refused(_status_of(exc), known)
        return principal

    async def _run(
        self,
        request: Request,
        principal: AdminPrincipal,
        operations: Operations,
        allowed: Sequence[OperationType],
        refusal_status: int,
    ) -> list[Outcome]:
        budget = self.settings.graphql_execution_timeout
        if operations.carries_files:
            budget *= UPLOAD_TIME_FACTOR
        run = partial(
            self._run_all,
            request.app.state.runtime,
            principal,
            operations,
            tuple(allowed),
            refusal_status,
            budget,
        )
        return await anyio.to_thread.run_sync(run)

    def _run_all(
        self,
        runtime: Runtime,
        principal: AdminPrincipal,
        operations: Operations,
        allowed: tuple[OperationType, ...],
        refusal_status: int,
        budget: float,
    ) -> list[Outcome]:
        deadline = time.monotonic() + budget
        return [
            self._run_operation(runtime, principal, gql, allowed, refusal_status, deadline, budget)
            for gql in operations.items
        ]

    # -- one operation ---------------------------------------------------------------------------------

    def execute(
        self,
        runtime: Runtime,
        principal: AdminPrincipal,
        gql: GraphQLRequest,
        allowed_operation_types: tuple[OperationType, ...] = (OperationType.QUERY,),
        *,
        webhook_event: DeliveredEvent | None = None,
    ) -> dict[str, Any]:
        """Parse, validate, check the limits and run one operation for an authenticated caller.

        Also used to run stored queries (GraphQL webhooks) with their creator's credentials, under
        the same execution-time cap; ``webhook_event`` is what ``webhookPayload`` resolves to.
        """
        budget = self.settings.graphql_execution_timeout
        deadline = time.monotonic() + budget
        outcome = self._run_operation(
            runtime,
            principal,
            gql,
            allowed_operation_types,
            400,
            deadline,
            budget,
            webhook_event=webhook_event,
        )
        return outcome.body(JSON)

    def _run_operation(
        self,
        runtime: Runtime,
        principal: AdminPrincipal,
        gql: GraphQLRequest,
        allowed: Sequence[OperationType],
        refusal_status: int,
        deadline: float,
        budget: float,
        *,
        webhook_event: DeliveredEvent | None = None,
    ) -> Outcome:
        prepared = self._prepare(gql, allowed, refusal_status)
        if isinstance(prepared, Outcome):
            return prepared
        document, limits = prepared
        if remaining(deadline) <= 0:
            return _timed_out(budget)
        try:
            with (
                principal.unit_of_work(runtime) as ctx,
                statement_deadline(ctx.session, deadline),
                deadline_set(deadline),
            ):
                context = GraphQLContext(
                    ctx, principal, Loaders(ctx), limits, self.complexity_limit, webhook_event=webhook_event
                )
                result = asyncio.run(self._execute(gql, document, context, allowed, deadline))
                if _stopped_by_deadline(result, deadline):
                    raise _RolledBack(_timed_out(budget))
        except _RolledBack as rolled_back:
            return rolled_back.outcome
        except TimeoutError:
            return _timed_out(budget)
        errors = [format_error(error) for error in result.errors or ()]
        return Outcome(errors, data=result.data, executed=True)

    def _prepare(
        self, gql: GraphQLRequest, allowed: Sequence[OperationType], refusal_status: int
    ) -> tuple[DocumentNode, LimitReport] | Outcome:
        """Everything before execution; an Outcome when the operation must not run."""
        try:
            document = parse(gql.query)
        except GraphQLError as exc:
            return _refused(400, format_error(exc, "GRAPHQL_PARSE_FAILED"))
        operation = get_operation_ast(document, gql.operation_name)
        if operation is not None:
            kind = OperationType(operation.operation.value)
            if kind not in allowed:
                return _refused_operation(kind, refusal_status)
        graphql_schema = self.schema._schema
        invalid = validate(graphql_schema, document, self.rules)
        if invalid:
            return Outcome([format_error(error) for error in invalid], status=400)
        if operation is None:
            return _refused(400, request_error("GRAPHQL_VALIDATION_FAILED", _missing_operation(gql)))
        coerced = _coercion_errors(graphql_schema, operation, gql.variables)
        if coerced:
            return Outcome([format_error(error) for error in coerced], status=400)
        try:
            limits = check_limits(
                document, graphql_schema, gql.operation_name, gql.variables, self.complexity_limit, MAX_DEPTH
            )
        except QueryLimitExceeded as exc:
            known = known_error(exc)
            assert known is not None
            return _refused(400, known)
        return document, limits

    async def _execute(
        self,
        gql: GraphQLRequest,
        document: DocumentNode,
        context: GraphQLContext,
        allowed: Sequence[OperationType],
        deadline: float,
    ) -> ExecutionResult:
        return await asyncio.wait_for(
            self.schema.execute(
                gql.query,
                variable_values=gql.variables,
                context_value=context,
                operation_name=gql.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=gql.extensions,
            ),
            timeout=max(remaining(deadline), 0.0),
        )


def _missing_operation(gql: GraphQLRequest) -> str:
    if gql.operation_name is not None:
        return f"Unknown operation named '{gql.operation_name}'"
    return "Must provide operationName when the document holds several operations"


def _coercion_errors(
    schema: Any, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    return coerced if isinstance(coerced, list) else []


def _stopped_by_deadline(result: ExecutionResult, deadline: float) -> bool:
    """A field refused at the deadline, or any error once it passed (a statement the database
    aborted for the deadline surfaces as a database error)."""
    errors = result.errors or []
    if any(isinstance(error.original_error, ExecutionTimedOut) for error in errors):
        return True
    return bool(errors) and remaining(deadline) <= 0


# -- responses ---------------------------------------------------------------------------------------------


def _headers(status: int) -> dict[str, str]:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 405:
        return {"Allow": "POST"}
    return {}


def _response(content: Any, status: int, media_type: str, headers: dict[str, str]) -> JSONResponse:
    content_type = f"{media_type}; charset=utf-8"
    return JSONResponse(content, status_code=status, media_type=content_type, headers=headers)


def _respond(outcomes: list[Outcome], batched: bool, media_type: str) -> JSONResponse:
    statuses = {outcome.http_status(media_type) for outcome in outcomes}
    # A batch has one status: the one all its operations share, else 200 (each answer says more).
    status = statuses.pop() if len(statuses) == 1 else 200
    content: Any = (
        [outcome.body(media_type) for outcome in outcomes] if batched else outcomes[0].body(media_type)
    )
    return _response(content, status, media_type, _headers(status))


def _rejection(exc: RequestRejected, media_type: str) -> JSONResponse:
    """A request that is not GraphQL (or not one we serve): a 4xx under both media types."""
    outcome = Outcome([request_error(exc.code, exc.message, **exc.extensions)], status=exc.status)
    headers = {**_headers(exc.status), **exc.headers}
    return _response(outcome.body(media_type), exc.status, media_type, headers)


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
        return await endpoint.handle_post(request)

    @router.get("/graphql")
    async def graphql_get(request: Request) -> JSONResponse:
        return await endpoint.handle_get(request)

    from cargoman.web.graphql.ws import GraphQLWebSocket  # ws builds on this module's endpoint

    router.add_api_websocket_route("/graphql", GraphQLWebSocket(endpoint, settings).handle)

    if settings.graphql_playground:
        page = _playground_html()

        @router.get("/graphql/playground")
        async def playground() -> HTMLResponse:
            return HTMLResponse(page)

    return router
