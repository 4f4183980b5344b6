"""The aiohttp application: HTTP GraphQL and graphql-transport-ws on /graphql.

HTTP behaves like Blink's stack: the gateway (Oathkeeper) rejects an unknown or
revoked `X-API-KEY` with 401 before GraphQL runs, while a request without a key
goes through anonymously (public fields work, `me` is refused inside GraphQL).
Apollo Server 4 answers documents that do not parse or validate with HTTP 400;
Blink's `formatError` puts the error code at the top level of each error.
"""

import asyncio
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from aiohttp import hdrs, web
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from .complexity import MAXIMUM_COMPLEXITY, complexity, too_complex
from .control import Behaviour, Stats
from .ingress import REFUSED_STATUS, Ingress
from .protocol import GRAPHQL_TRANSPORT_WS, CloseCode, WsSession, root_fields
from .pubsub import Hub
from .schema import Context, blink_schema, field_resolver, type_resolver
from .state import SimulatorState

GRAPHQL_PATH = "/graphql"
# What Blink's gateway says to a key it does not know.
UNAUTHORIZED_BODY = {
    "error": {
        "code": 401,
        "status": "Unauthorized",
        "message": "The request could not be authorized",
    }
}


@dataclass(slots=True)
class Core:
    """What the handlers share with the BlinkSimulator that owns them."""

    state: SimulatorState
    hub: Hub
    behaviour: Behaviour
    stats: Stats
    keepalive: float | None = None
    sessions: set[WsSession] = field(default_factory=set)
    # The socket server's outcome of each key's last check (ws-server.ts
    # `authorizedContexts`); a restarted server starts with none.
    auth_cache: dict[str, Context | None] = field(default_factory=dict)
    ingress: Ingress | None = None
    # Going down: new sockets are refused with 503, as Blink's ingress answers
    # while its backend is gone, until the server is started again.
    stopping: bool = False


CORE_KEY = web.AppKey("core", Core)


def _blink_error(error: GraphQLError, code: str | None = None) -> dict[str, Any]:
    """An error as Blink's Apollo `formatError` shapes it."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations is not None:
        formatted["locations"] = [location.formatted for location in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    extensions = error.extensions or {}
    formatted["code"] = code or extensions.get("code") or "INTERNAL_SERVER_ERROR"
    return formatted


class _Refusal(Exception):  # noqa: N818 - a response, not an error
    """An HTTP answer that ends the request before GraphQL executes."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _bad_request(errors: list[GraphQLError], code: str) -> _Refusal:
    body = {"errors": [_blink_error(error, code) for error in errors]}
    return _Refusal(web.json_response(body, status=400))


def _operation_key(body: dict[str, Any], operation: OperationDefinitionNode) -> str:
    name = body.get("operationName")
    return name if isinstance(name, str) else ",".join(root_fields(operation))


async def _gateway(core: Core, request: web.Request) -> Context:
    """What happens before GraphQL: injected faults, then the key check."""
    if core.behaviour.http_delay > 0:
        await asyncio.sleep(core.behaviour.http_delay)
    if core.behaviour.http_faults:
        fault = core.behaviour.http_faults.popleft()
        raise _Refusal(
            web.Response(
                status=fault.status,
                text=fault.body,
                content_type=fault.content_type,
                headers=dict(fault.headers),
            )
        )
    key = request.headers.get("X-API-KEY")
    if not key:
        return Context(core.state, core.hub, stats=core.stats, behaviour=core.behaviour)
    record = core.state.key(key)
    # While Blink's key service fails (any database error is a 500 there,
    # core/api-keys/src/graphql/convert.rs), its gateway (Ory Oathkeeper) turns
    # that into the same 401 as a revoked key.
    if record is None or core.behaviour.key_service_down:
        core.stats.http_unauthorized += 1
        raise _Refusal(web.json_response(UNAUTHORIZED_BODY, status=401))
    account = core.state.accounts[record.account_id]
    return Context(
        core.state,
        core.hub,
        account,
        record.scopes,
        stats=core.stats,
        behaviour=core.behaviour,
    )


async def _document(
    request: web.Request,
) -> tuple[dict[str, Any], DocumentNode, OperationDefinitionNode]:
    """The request body, its parsed and validated document, and the operation."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        message = "GraphQL operations must contain a non-empty `query`."
        raise _bad_request([GraphQLError(message)], "BAD_REQUEST")
    try:
        document = parse(body["query"])
    except GraphQLError as err:
        raise _bad_request([err], "GRAPHQL_PARSE_FAILED") from err
    errors = validate(blink_schema(), document)
    if errors:
        raise _bad_request(errors, "GRAPHQL_VALIDATION_FAILED")
    operation = get_operation_ast(document, body.get("operationName"))
    if operation is None:
        message = "Could not identify the operation to run."
        raise _bad_request([GraphQLError(message)], "OPERATION_RESOLUTION_FAILURE")
    if operation.operation == OperationType.SUBSCRIPTION:
        message = "Subscriptions are served over WebSocket only."
        raise _bad_request([GraphQLError(message)], "BAD_REQUEST")
    return body, document, operation


def _measure(body: dict[str, Any], document: DocumentNode) -> None:
    """Refuse an operation of complexity 200 or more, as Blink does before running it.

    blinkbitcoin/blink core/api/src/servers/graphql-server.ts: the complexity
    plugin throws in `didResolveOperation`, which Apollo Server answers with HTTP
    500 and no `data`; `formatError` moves the code to the top level. Variables
    that do not coerce are left to execution to report, as ever (Blink's plugin
    would trip over them first and answer 500 too).
    """
    name = body.get("operationName")
    variables = body.get("variables")
    try:
        value = complexity(
            document,
            name if isinstance(name, str) else None,
            variables if isinstance(variables, dict) else {},
        )
    except GraphQLError:
        return
    if value >= MAXIMUM_COMPLEXITY:
        answer = {"errors": [_blink_error(GraphQLError(too_complex(value)))]}
        raise _Refusal(web.json_response(answer, status=500))


async def _graphql_http(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE_KEY]
    core.stats.http_requests += 1
    try:
        context = await _gateway(core, request)
        body, document, operation = await _document(request)
        _measure(body, document)
    except _Refusal as refusal:
        return refusal.response
    name = _operation_key(body, operation)
    core.stats.http_operations[name] += 1
    if (hold := core.behaviour.held_operations.get(name)) is not None:
        await hold.wait()
    core.stats.http_fields.update(root_fields(operation))
    result = execute(
        blink_schema(),
        document,
        context_value=context,
        variable_values=body.get("variables"),
        operation_name=body.get("operationName"),
        field_resolver=field_resolver,
        type_resolver=type_resolver,
    )
    if isawaitable(result):
        result = await result
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [_blink_error(error) for error in result.errors]
    if core.behaviour.answer_delay > 0:
        # Read now, answered later: what happens meanwhile is not in the answer.
        await asyncio.sleep(core.behaviour.answer_delay)
    return web.json_response(response)


async def _graphql_get(request: web.Request) -> web.StreamResponse:
    if request.headers.get(hdrs.UPGRADE, "").lower() != "websocket":
        message = "Send queries with POST, or upgrade to a WebSocket."
        return _bad_request([GraphQLError(message)], "BAD_REQUEST").response
    return await _graphql_ws(request)


async def _graphql_ws(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE_KEY]
    if core.stopping:
        return web.Response(status=503, text="HTTP 503")
    if core.behaviour.handshake_faults:
        status = core.behaviour.handshake_faults.popleft()
        return web.Response(status=status, text=f"HTTP {status}")
    ip = request.remote or ""
    if core.ingress is not None and not core.ingress.admit(ip):
        # ingress-nginx refuses past its limits with 503 and an HTML page.
        return web.Response(
            status=REFUSED_STATUS,
            text="<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            content_type="text/html",
        )
    try:
        return await _serve_socket(core, request)
    finally:
        if core.ingress is not None:
            core.ingress.closed(ip)


async def _serve_socket(core: Core, request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(
        protocols=(GRAPHQL_TRANSPORT_WS,),
        autoping=False,
        timeout=2.0,
    )
    await ws.prepare(request)
    core.stats.ws_connections += 1
    if ws.ws_protocol != GRAPHQL_TRANSPORT_WS:
        await ws.close(
            code=CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
            message=b"Subprotocol not acceptable",
        )
        return ws
    session = WsSession(
        ws=ws,
        request=request,
        state=core.state,
        hub=core.hub,
        behaviour=core.behaviour,
        stats=core.stats,
        auth_cache=core.auth_cache,
        keepalive=core.keepalive,
    )
    core.sessions.add(session)
    try:
        await session.run()
    finally:
        core.sessions.discard(session)
    return ws


async def _health(_request: web.Request) -> web.StreamResponse:
    """Readiness probe for scripts (scripts/develop waits on it)."""
    return web.Response(text="ok")


def build_app(core: Core) -> web.Application:
    """The aiohttp application serving `core`."""
    app = web.Application()
    app[CORE_KEY] = core
    app.router.add_get("/health", _health)
    app.router.add_post(GRAPHQL_PATH, _graphql_http)
    app.router.add_get(GRAPHQL_PATH, _graphql_get)
    return app
