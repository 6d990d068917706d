"""GraphQL over WebSocket at ``/graphql``: the graphql-transport-ws protocol (graphql-ws).

Protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md. The client offers the
``graphql-transport-ws`` subprotocol (else close 4406), sends ``connection_init`` within
GRAPHQL_WS_CONNECTION_INIT_TIMEOUT seconds (else 4408) carrying its credential as
``{"Authorization": "Bearer <token>"}`` or ``{"token": "<token>"}`` (the upgrade request's own
``Authorization`` header is the fallback). The credential rules are those of ``POST /graphql``: the
root token and management (CMA) credentials of any level; the edition gate closes with 4403
(``FEATURE_NOT_AVAILABLE``), a customer token with 4403 (``FORBIDDEN``), a missing or unknown one with
4401. Then ``connection_ack``; ``ping``/``pong`` at any time; ``subscribe`` before the ack closes 4401,
a second ``connection_init`` 4429, an id still in use 4409, anything malformed or unexpected 4400.

Every ``subscribe`` re-checks the credential (a revoked one closes the socket with 4401) and the
complexity and depth limits before anything runs; request errors answer ``error``. While subscriptions
are open the credential is checked again before each event goes out (a verdict is trusted for
CREDENTIAL_VERDICT_TTL seconds, so a burst of events costs one lookup) and every
CREDENTIAL_CHECK_INTERVAL seconds (so a quiet subscription ends too): once it is revoked, expired or
deleted, or the root token was replaced, the socket closes with 4403 and every subscription stops.

Messages are handled in order and the one after a ``subscribe`` only once that subscription listens:
when the client gets the answer to a later message (e.g. a ``pong``), no event published from then on
can be missed.

Subscriptions stream ``next`` messages until the server or the client sends ``complete``. Queries
and mutations are allowed too: one ``next``, then ``complete``, executed exactly as over HTTP. How
events reach subscriptions, and which events a process sees, is described in ``subscriptions.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
import orjson
from graphql import GraphQLError, parse, validate
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from cargoman.config import Settings
from cargoman.editions import Feature, FeatureNotAvailable, require_feature
from cargoman.errors import CargomanError, Forbidden, Unauthorized
from cargoman.graphql_limits import QueryLimitExceeded, check_limits
from cargoman.runtime import Runtime
from cargoman.web.api.auth import AdminPrincipal, _authenticate
from cargoman.web.graphql.errors import INTERNAL_MESSAGE, format_error, known_error, request_error
from cargoman.web.graphql.router import MAX_DEPTH, MAX_QUERY_BYTES, GraphQLEndpoint, GraphQLRequest
from cargoman.web.graphql.subscriptions import SubscriptionContext

log = logging.getLogger("cargoman.graphql.ws")

SUBPROTOCOL = "graphql-transport-ws"
MAX_OPERATIONS_PER_CONNECTION = 100
# How long reading the next message waits for a new operation to start (it normally takes milliseconds).
START_TIMEOUT = 5.0
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 125 bytes with its code
# An open subscription's credential is trusted this long after a successful check before an event goes
# out without looking it up again, and looked up at least this often while subscriptions are open.
CREDENTIAL_VERDICT_TTL = 2.0
CREDENTIAL_CHECK_INTERVAL = 30.0
CREDENTIAL_GONE_REASON = "FORBIDDEN: The credential of this connection was revoked, expired or replaced"

# Close codes of the protocol.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INIT = 4429
INTERNAL_ERROR = 1011  # RFC 6455: the server hit an unexpected condition


class ProtocolViolation(Exception):
    """The client broke the protocol: the connection closes with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    principal: AdminPrincipal
    tenant_id: str
    token: str


def _bearer_token(payload: dict[str, Any], header: str | None) -> str | None:
    """The credential from connection_init's payload, else from the upgrade request's header."""
    for value in (payload.get("Authorization"), payload.get("authorization"), header):
        if isinstance(value, str):
            kind, _, secret = value.strip().partition(" ")
            return secret.strip() if kind.lower() == "bearer" and secret.strip() else None
    token = payload.get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


def _close_reason(exc: CargomanError | FeatureNotAvailable) -> str:
    known = known_error(exc)
    assert known is not None
    return f"{known['extensions']['code']}: {known['message']}"


def _subscribe_request(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id and payload of a well-formed ``subscribe`` message (else 4400, as graphql-ws does)."""
    op_id, payload = message.get("id"), message.get("payload")
    if not isinstance(op_id, str) or not op_id:
        raise ProtocolViolation(BAD_REQUEST, '"subscribe" message expects an "id" string')
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise ProtocolViolation(BAD_REQUEST, '"subscribe" message expects a payload with a "query" string')
    if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
        raise ProtocolViolation(BAD_REQUEST, '"variables" must be an object or null')
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        raise ProtocolViolation(BAD_REQUEST, '"operationName" must be a string or null')
    return op_id, payload


class GraphQLWebSocket:
    """The ``/graphql`` WebSocket route; one ``Connection`` per socket."""

    def __init__(self, endpoint: GraphQLEndpoint, settings: Settings) -> None:
        self.endpoint = endpoint
        self.settings = settings

    async def handle(self, websocket: WebSocket) -> None:
        if SUBPROTOCOL not in websocket.scope.get("subprotocols", []):
            await websocket.accept()
            await websocket.close(SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        await Connection(self, websocket).serve()

    def authenticate(self, runtime: Runtime, token: str | None, websocket: WebSocket) -> Caller:
        """Same rules as POST /graphql; raises FeatureNotAvailable, Unauthorized or Forbidden."""
        principal = self._principal(runtime, token, websocket)
        with principal.unit_of_work(runtime) as ctx:
            tenant_id = ctx.tenant_id
        return Caller(principal, tenant_id, token or "")

    def revalidate(self, runtime: Runtime, caller: Caller, websocket: WebSocket) -> None:
        """Raises unless the caller's credential still authenticates as the same principal."""
        principal = self._principal(runtime, caller.token, websocket)
        if principal.id != caller.principal.id:
            raise Unauthorized("The credential now belongs to someone else")

    def _principal(self, runtime: Runtime, token: str | None, websocket: WebSocket) -> AdminPrincipal:
        require_feature(self.settings.edition, Feature.GRAPHQL)
        # The HTTP rules read the bearer header and client address of a request; here the credential
        # came in connection_init, so it is checked as the request it would have been.
        authorization = f"Bearer {token}" if token else ""
        scope = {
            "type": "http",
            "method": "GET",
            "path": websocket.url.path,
            "query_string": b"",
            "headers": [(b"authorization", authorization.encode("utf-8", errors="replace"))],
            "client": websocket.scope.get("client"),
        }
        return _authenticate(Request(scope), runtime)

    def prepare(self, gql: GraphQLRequest) -> tuple[OperationType | None, list[dict[str, Any]]]:
        """The operation's type, or the request errors that stop it (parse, validation, limits)."""
        if len(gql.query) > MAX_QUERY_BYTES:
            message = f"The query is longer than {MAX_QUERY_BYTES} characters"
            return None, [request_error("BAD_REQUEST", message)]
        try:
            document = parse(gql.query)
        except GraphQLError as exc:
            return None, [format_error(exc, "GRAPHQL_PARSE_FAILED")]
        schema = self.endpoint.schema._schema
        invalid = validate(schema, document, self.endpoint.rules)
        if invalid:
            return None, [format_error(error) for error in invalid]
        try:
            check_limits(
                document, schema, gql.operation_name, gql.variables, self.endpoint.complexity_limit, MAX_DEPTH
            )
        except QueryLimitExceeded as exc:
            known = known_error(exc)
            assert known is not None
            return None, [known]
        operation = get_operation_ast(document, gql.operation_name)
        return (OperationType(operation.operation.value) if operation else None), []


class Connection:
    """One client socket: the message loop plus one task per running operation."""

    def __init__(self, route: GraphQLWebSocket, websocket: WebSocket) -> None:
        self.route = route
        self.websocket = websocket
        self.runtime: Runtime = websocket.app.state.runtime
        self.caller: Caller | None = None
        self.init_received = False
        self.closed = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.open_subscriptions = 0
        self._send_lock = asyncio.Lock()
        # Loop time of the last successful check of the caller's credential (None: never checked).
        self._verified_at: float | None = None
        self._verify_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        init_deadline = loop.time() + self.route.settings.graphql_ws_connection_init_timeout
        try:
            while not self.closed:
                timeout = None if self.init_received else max(0.0, init_deadline - loop.time())
                try:
                    message = await asyncio.wait_for(self.websocket.receive(), timeout)
                except TimeoutError:
                    await self.close(INIT_TIMEOUT, "Connection initialisation timeout")
                    break
                if message["type"] == "websocket.disconnect":
                    self.closed = True
                    break
                try:
                    await self.dispatch(message.get("text"))
                except ProtocolViolation as exc:
                    await self.close(exc.code, exc.reason)
        finally:
            if self._watcher is not None:
                self._watcher.cancel()
            await self._stop_operations()

    async def dispatch(self, text: str | None) -> None:
        try:
            message = orjson.loads(text) if text is not None else None
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolViolation(BAD_REQUEST, "Invalid message received")
        kind = message["type"]
        if kind == "connection_init":
            await self._connection_init(message.get("payload"))
        elif kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if isinstance(message.get("payload"), dict):
                pong["payload"] = message["payload"]
            await self.send(pong)
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            op_id = message.get("id")
            if not isinstance(op_id, str):
                raise ProtocolViolation(BAD_REQUEST, '"complete" message expects an "id" string')
            task = self.operations.pop(op_id, None)
            if task is not None:
                task.cancel()  # the client completed it: no "complete" goes back
        else:
            raise ProtocolViolation(BAD_REQUEST, f'Unexpected message of type "{kind}" received')

    async def _connection_init(self, payload: Any) -> None:
        if self.init_received:
            raise ProtocolViolation(TOO_MANY_INIT, "Too many initialisation requests")
        if payload is not None and not isinstance(payload, dict):
            raise ProtocolViolation(BAD_REQUEST, '"connection_init" payload must be an object')
        self.init_received = True
        token = _bearer_token(payload or {}, self.websocket.headers.get("authorization"))
        self.caller = await self._authenticate(token)
        if self.caller is not None:
            await self.send({"type": "connection_ack"})
            self._watcher = asyncio.create_task(self._watch_credential())

    async def _authenticate(self, token: str | None) -> Caller | None:
        """The caller, or None after closing the socket with the reason it was refused."""
        checked_at = asyncio.get_running_loop().time()
        try:
            caller = await anyio.to_thread.run_sync(
                self.route.authenticate, self.runtime, token, self.websocket
            )
            self._verified_at = checked_at
            return caller
        except (CargomanError, FeatureNotAvailable) as exc:
            code = FORBIDDEN if isinstance(exc, Forbidden | FeatureNotAvailable) else UNAUTHORIZED
            await self.close(code, _close_reason(exc))
            return None

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if self.caller is None:
            raise ProtocolViolation(UNAUTHORIZED, "Unauthorized")
        op_id, payload = _subscribe_request(message)
        if op_id in self.operations:
            raise ProtocolViolation(SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
        if len(self.operations) >= MAX_OPERATIONS_PER_CONNECTION:
            message_text = f"At most {MAX_OPERATIONS_PER_CONNECTION} operations may run on one connection"
            await self.send(
                {"type": "error", "id": op_id, "payload": [request_error("BAD_REQUEST", message_text)]}
            )
            return
        # A credential revoked since connection_init must not start anything new.
        caller = await self._authenticate(self.caller.token)
        if caller is None:
            return
        gql = GraphQLRequest(payload["query"], payload.get("variables"), payload.get("operationName"))
        started = asyncio.Event()
        task = asyncio.create_task(self._run(op_id, caller, gql, started.set))
        self.operations[op_id] = task
        # The next message is read once this operation runs (a subscription: listens on the bus), so
        # the answer to any later message (a pong) tells the client no event can be missed any more.
        waiter = asyncio.create_task(started.wait())
        try:
            await asyncio.wait({task, waiter}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def _run(
        self, op_id: str, caller: Caller, gql: GraphQLRequest, on_started: Callable[[], None]
    ) -> None:
        try:
            operation_type, errors = await anyio.to_thread.run_sync(self.route.prepare, gql)
            if errors:
                await self.send({"type": "error", "id": op_id, "payload": errors})
                return
            if operation_type is OperationType.SUBSCRIPTION:
                await self._stream(op_id, caller, gql, on_started)
            else:
                on_started()
                await self._execute_once(op_id, caller, gql)
            await self.send({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("GraphQL WebSocket operation %s failed", op_id)
            error = request_error("INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE)
            await self.send({"type": "error", "id": op_id, "payload": [error]})
        finally:
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]

    async def _execute_once(self, op_id: str, caller: Caller, gql: GraphQLRequest) -> None:
        execute = partial(
            self.route.endpoint.execute,
            self.runtime,
            caller.principal,
            gql,
            allowed_operation_types=(OperationType.QUERY, OperationType.MUTATION),
        )
        result = await anyio.to_thread.run_sync(execute)
        await self.send({"type": "next", "id": op_id, "payload": result})

    async def _stream(
        self, op_id: str, caller: Caller, gql: GraphQLRequest, on_listening: Callable[[], None]
    ) -> None:
        context = SubscriptionContext(self.runtime.events, caller.tenant_id, caller.principal, on_listening)
        self.open_subscriptions += 1
        try:
            results = await self.route.endpoint.schema.subscribe(
                gql.query,
                variable_values=gql.variables,
                context_value=context,
                operation_name=gql.operation_name,
            )
            async with aclosing(results):
                async for result in results:
                    formatted = [format_error(error) for error in result.errors or ()]
                    if isinstance(result, PreExecutionError):  # refused before it started
                        await self.send({"type": "error", "id": op_id, "payload": formatted})
                        return
                    if not await self._credential_still_valid():
                        return  # the connection is closed; leaving unsubscribes
                    payload: dict[str, Any] = {"data": result.data}
                    if formatted:
                        payload["errors"] = formatted
                    await self.send({"type": "next", "id": op_id, "payload": payload})
        finally:
            self.open_subscriptions -= 1

    async def _watch_credential(self) -> None:
        """Re-check the credential now and then, so a subscription without events ends too."""
        while not self.closed:
            await asyncio.sleep(CREDENTIAL_CHECK_INTERVAL)
            if self.open_subscriptions:
                await self._credential_still_valid()

    async def _credential_still_valid(self) -> bool:
        """Whether events may still go out; else the connection is closed (4403) and its work stopped.

        A successful check is trusted for CREDENTIAL_VERDICT_TTL seconds; concurrent callers share
        one lookup, which runs in a worker thread (it reads the database).
        """
        async with self._verify_lock:
            if self.closed or self.caller is None:
                return False
            now = asyncio.get_running_loop().time()
            if self._verified_at is not None and now - self._verified_at < CREDENTIAL_VERDICT_TTL:
                return True
            try:
                await anyio.to_thread.run_sync(
                    self.route.revalidate, self.runtime, self.caller, self.websocket
                )
            except (CargomanError, FeatureNotAvailable) as exc:
                principal = self.caller.principal
                log.info("closing a GraphQL WebSocket of %s %s: %s", principal.kind, principal.id, exc)
                reason = (
                    _close_reason(exc) if isinstance(exc, FeatureNotAvailable) else CREDENTIAL_GONE_REASON
                )
                await self._shut_down(FORBIDDEN, reason)
                return False
            except Exception:
                # Fail closed: events must not go out unchecked; the client may reconnect.
                log.exception("could not re-check the credential of a GraphQL WebSocket")
                await self._shut_down(
                    INTERNAL_ERROR, "INTERNAL_SERVER_ERROR: The credential could not be checked"
                )
                return False
            self._verified_at = now
            return True

    async def _shut_down(self, code: int, reason: str) -> None:
        """Close the socket and stop every operation (the calling one ends by itself)."""
        await self.close(code, reason)
        current = asyncio.current_task()
        for task in list(self.operations.values()):
            if task is not current:
                task.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.closed:
                return
            try:
                await self.websocket.send_text(orjson.dumps(message).decode())
            except Exception:  # the client went away; the receive loop sees the disconnect
                self.closed = True

    async def close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            if self.closed:
                return
            self.closed = True
            truncated = reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")
            with contextlib.suppress(Exception):
                await self.websocket.close(code, truncated)

    async def _stop_operations(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["GraphQLWebSocket"]
