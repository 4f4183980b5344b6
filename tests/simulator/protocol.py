"""One graphql-transport-ws session, behaving like Blink's WebSocket server.

Blink runs graphql-ws 5 (`useServer` on `ws`) with an `onSubscribe` that parses
the document itself, refuses anything but subscriptions, then validates
(core/api/src/servers/ws-server.ts). That gives these answers, mimicked here:

- every `connection_init` is acknowledged, whatever its key; the key only
  decides, per subscription, whether `myUpdates` is allowed;
- the key is resolved once per `connection_init` and the outcome kept in one
  map per server, keyed by the key itself, which every later subscribe with that
  key reads (`authorizedContexts`): a key check that failed at connect (Blink's
  key service down) refuses `myUpdates` on that socket, and on every other
  socket with that key, until a later connect with the key succeeds;
- a document that does not parse makes `onSubscribe` throw, which graphql-ws
  answers by closing the socket 4500;
- a query or mutation gets `error` "Only subscription operations are supported";
  an invalid subscription gets `error` with the validation errors;
- a subscription whose resolver refuses (bad key for `myUpdates`) gets one
  `next` with the errors, then `complete`;
- protocol misuse closes with graphql-ws's codes: 4400 bad message, 4401
  subscribe before ack, 4408 no `connection_init` in time, 4409 duplicate id,
  4429 second `connection_init`.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Mapping
from contextlib import suppress
import copy
from dataclasses import dataclass
from enum import IntEnum
from inspect import isawaitable
import json
from typing import Any

from aiohttp import WSMsgType, web
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    subscribe,
    validate,
)

from .control import Behaviour, Stats
from .pubsub import Hub
from .schema import Context, blink_schema, field_resolver, format_result, type_resolver
from .state import Account, SimulatorState

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"


class CloseCode(IntEnum):
    """graphql-transport-ws close codes."""

    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    CONNECTION_INIT_TIMEOUT = 4408
    SUBSCRIBER_ALREADY_EXISTS = 4409
    TOO_MANY_INITIALISATION_REQUESTS = 4429
    INTERNAL_SERVER_ERROR = 4500


class ProtocolViolationError(Exception):
    """A client message the protocol does not allow; closes the socket."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        """Remember how to close."""
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class LiveSubscription:
    """A running subscription of a session."""

    field: str
    task: asyncio.Task[None]
    # True once its resolver listens: from then on no event can miss it.
    listening: bool = False


def _root_field(operation: OperationDefinitionNode) -> str:
    selection = operation.selection_set.selections[0]
    return selection.name.value if isinstance(selection, FieldNode) else "?"


def root_fields(operation: OperationDefinitionNode) -> list[str]:
    """The names of the operation's top-level fields (for counters)."""
    return [
        selection.name.value
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
    ]


def _optional(payload: Mapping[str, Any], key: str, kind: type) -> None:
    value = payload.get(key)
    if value is not None and not isinstance(value, kind):
        msg = f"Subscribe message expects '{key}' to be a {kind.__name__} or null"
        raise ProtocolViolationError(CloseCode.BAD_REQUEST, msg)


def _subscribe_message(message: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check a `subscribe` message the way graphql-ws does; return id and payload."""
    sub_id, payload = message.get("id"), message.get("payload")
    if not isinstance(sub_id, str) or not sub_id:
        msg = "\"subscribe\" message requires a non-empty 'id' property"
        raise ProtocolViolationError(CloseCode.BAD_REQUEST, msg)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        msg = "\"subscribe\" message requires a payload with a 'query' string"
        raise ProtocolViolationError(CloseCode.BAD_REQUEST, msg)
    _optional(payload, "variables", dict)
    _optional(payload, "operationName", str)
    _optional(payload, "extensions", dict)
    return sub_id, payload


def as_connected(account: Account) -> Account:
    """The account as a socket's context holds it: captured at connect.

    Blink's socket context keeps the account object it loaded at connect
    (core/api/src/servers/middlewares/session.ts), so on the socket
    `me.defaultAccount.displayCurrency` and the currency of `myUpdates`' prices
    stay what they were then (core/api/src/graphql/public/root/subscription/
    my-updates.ts); balances and history are read live. `me` is that account
    (`userPayload(ctx.domainAccount)`), so `me.id` is the account's id.
    """
    connected = copy.copy(account)
    user = copy.copy(account.user)
    user.id = account.id
    user.default_account = connected
    connected.user = user
    return connected


class WsSession:
    """The server side of one socket."""

    def __init__(
        self,
        *,
        ws: web.WebSocketResponse,
        request: web.Request,
        state: SimulatorState,
        hub: Hub,
        behaviour: Behaviour,
        stats: Stats,
        auth_cache: dict[str, Context | None],
        keepalive: float | None = None,
    ) -> None:
        """Wrap an accepted (prepared) WebSocket; `auth_cache` is the server's."""
        self.ws = ws
        self._request = request
        self._state = state
        self._hub = hub
        self._behaviour = behaviour
        self._stats = stats
        self._auth_cache = auth_cache
        self._keepalive = keepalive
        self._pong = asyncio.Event()
        self._key: str | None = None
        self.init_received = False
        self.acknowledged = False
        # frozen: sends nothing at all (no pong, no ack, no data): a dead socket.
        # silent: answers pings but sends no subscription frames.
        self.frozen = behaviour.freeze_new
        self.silent = behaviour.silence_new
        self.subscriptions: dict[str, LiveSubscription] = {}
        self._send_lock = asyncio.Lock()
        self._helpers: set[asyncio.Task[None]] = set()

    # sending -------------------------------------------------------------------

    async def send_raw(self, text: str) -> bool:
        """Send one text frame as is (no hook, no fault modes); False if closed."""
        if self.ws.closed:
            return False
        async with self._send_lock:
            try:
                await self.ws.send_str(text)
            except ConnectionError:
                return False
        return True

    async def _send(self, message: Mapping[str, Any], *, data: bool = False) -> bool:
        """Send a protocol message through the fault modes and the frame hook."""
        if self.frozen or (data and self.silent):
            return False
        text = json.dumps(message, separators=(",", ":"))
        hook = self._behaviour.frame_hook
        frames = [text] if hook is None else list(hook(self, text))
        sent = False
        for frame in frames:
            sent = await self.send_raw(frame) or sent
        return sent

    async def ping(self) -> bool:
        """Send a graphql-transport-ws `ping` (the server may ping too)."""
        sent = await self._send({"type": "ping"})
        if sent:
            self._stats.pings_sent += 1
        return sent

    # ending ----------------------------------------------------------------------

    async def close(self, code: int, reason: str = "") -> None:
        """Close with a close frame carrying `code`."""
        self._stop_subscriptions()
        if not self.ws.closed:
            with suppress(ConnectionError):
                await self.ws.close(code=code, message=reason.encode())

    def drop(self) -> None:
        """Cut the TCP connection: no close frame, like a network failure."""
        self._stop_subscriptions()
        transport = self._request.transport
        # None when the peer is already going: nothing left to cut.
        if transport is not None:
            transport.abort()

    def _stop_subscriptions(self) -> None:
        for live in self.subscriptions.values():
            live.task.cancel()
        self.subscriptions.clear()

    # the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the socket until it closes."""
        self._spawn(self._init_deadline())
        if self._keepalive is not None:
            self._spawn(self._keep_alive(self._keepalive))
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type == WSMsgType.PING:
                    # autoping is off so that a frozen socket ignores these too
                    if not self.frozen:
                        await self.ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    self._pong.set()
                elif msg.type == WSMsgType.BINARY:
                    await self.close(CloseCode.BAD_REQUEST, "Invalid message received")
        finally:
            # every task of the session (subscriptions, timers) ends with it
            tasks = list(self._helpers)
            self._stop_subscriptions()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)
        return task

    async def _keep_alive(self, interval: float) -> None:
        """graphql-ws's keep-alive, which Blink keeps at its default of 12 s.

        graphql-ws `use/ws.ts`: every `interval` a WebSocket ping; a socket whose
        pong has not come `interval` later is terminated, without a close frame.
        """
        while not self.ws.closed:
            await asyncio.sleep(interval)
            self._pong.clear()
            try:
                await self.ws.ping()
            except ConnectionError:
                return
            self._stats.keepalive_pings += 1
            try:
                async with asyncio.timeout(interval):
                    await self._pong.wait()
            except TimeoutError:
                self.drop()
                return

    async def _init_deadline(self) -> None:
        await asyncio.sleep(self._behaviour.init_timeout)
        if not self.init_received:
            await self.close(
                CloseCode.CONNECTION_INIT_TIMEOUT, "Connection initialisation timeout"
            )

    async def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
            if not isinstance(message, dict) or not isinstance(
                message.get("type"), str
            ):
                raise ProtocolViolationError(  # noqa: TRY301
                    CloseCode.BAD_REQUEST, "Invalid message received"
                )
            await self._dispatch(message)
        except json.JSONDecodeError:
            await self.close(CloseCode.BAD_REQUEST, "Invalid message received")
        except ProtocolViolationError as err:
            await self.close(err.code, err.reason)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        match message["type"]:
            case "connection_init":
                await self._on_init(message.get("payload"))
            case "ping":
                self._stats.pings_received += 1
                pong: dict[str, Any] = {"type": "pong"}
                if "payload" in message:
                    pong["payload"] = message["payload"]
                if await self._send(pong):
                    self._stats.pongs_sent += 1
            case "pong":
                self._stats.pongs_received += 1
            case "subscribe":
                await self._on_subscribe(message)
            case "complete":
                sub_id = message.get("id")
                if not isinstance(sub_id, str):
                    msg = "\"complete\" message requires an 'id' string"
                    raise ProtocolViolationError(CloseCode.BAD_REQUEST, msg)
                live = self.subscriptions.pop(sub_id, None)
                if live is not None:
                    live.task.cancel()
            case _:
                raise ProtocolViolationError(
                    CloseCode.BAD_REQUEST, "Invalid message received"
                )

    async def _on_init(self, payload: object) -> None:
        if payload is not None and not isinstance(payload, dict):
            msg = '"connection_init" payload must be an object'
            raise ProtocolViolationError(CloseCode.BAD_REQUEST, msg)
        if self.init_received:
            raise ProtocolViolationError(
                CloseCode.TOO_MANY_INITIALISATION_REQUESTS,
                "Too many initialisation requests",
            )
        self.init_received = True
        self._stats.connection_inits += 1
        key = (payload or {}).get("X-API-KEY")
        if isinstance(key, str):
            # core/api/src/servers/ws-server.ts: `onConnect` resolves the key
            # (`getContext`) and stores whatever came out, an error included, in
            # `authorizedContexts[key]`; it always returns true (acknowledges).
            self._key = key
            self._auth_cache[key] = self._resolve(key)
        if self._behaviour.withhold_ack:
            return
        if self._behaviour.ack_delay > 0:
            self._spawn(self._ack_later(self._behaviour.ack_delay))
        else:
            await self._ack()

    def _resolve(self, key: str) -> Context | None:
        """Blink's `getContext` at connect: the key's account, or None on failure.

        A key the key service does not know, or any failure to ask it (Blink's
        Oathkeeper call gives up after 1 s, core/api/src/services/oathkeeper/
        index.ts), leaves no account. The account is the one of this moment: its
        display currency stays as it was for the life of what is resolved here.
        """
        if self._behaviour.key_service_down or self._behaviour.failing_key_checks:
            self._behaviour.failing_key_checks = max(
                self._behaviour.failing_key_checks - 1, 0
            )
            self._stats.key_checks_failed += 1
            return None
        record = self._state.key(key)
        if record is None:
            return None
        account = as_connected(self._state.accounts[record.account_id])
        return Context(
            self._state,
            self._hub,
            account,
            record.scopes,
            stats=self._stats,
            behaviour=self._behaviour,
        )

    @property
    def context(self) -> Context:
        """What a subscribe on this socket runs as: the latest outcome for its key.

        core/api/src/servers/ws-server.ts `context`: read at every subscribe from
        `authorizedContexts`; without a key the (anonymous) context is built anew.
        """
        resolved = self._auth_cache.get(self._key) if self._key is not None else None
        return resolved or Context(
            self._state, self._hub, stats=self._stats, behaviour=self._behaviour
        )

    async def _ack_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._ack()

    async def _ack(self) -> None:
        self.acknowledged = True
        if await self._send({"type": "connection_ack"}):
            self._stats.acks_sent += 1

    async def _on_subscribe(self, message: dict[str, Any]) -> None:
        sub_id, payload = _subscribe_message(message)
        if not self.acknowledged:
            raise ProtocolViolationError(CloseCode.UNAUTHORIZED, "Unauthorized")
        if sub_id in self.subscriptions:
            raise ProtocolViolationError(
                CloseCode.SUBSCRIBER_ALREADY_EXISTS,
                f"Subscriber for {sub_id} already exists",
            )
        try:
            document = parse(payload["query"])
        except GraphQLError as err:
            # Blink's onSubscribe lets parse() throw; graphql-ws closes 4500.
            raise ProtocolViolationError(
                CloseCode.INTERNAL_SERVER_ERROR, "Internal server error"
            ) from err
        operation_name = payload.get("operationName")
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            await self._error(sub_id, [GraphQLError("Unable to identify operation")])
            return
        if operation.operation != OperationType.SUBSCRIPTION:
            message_text = "Only subscription operations are supported"
            await self._error(sub_id, [GraphQLError(message_text)])
            return
        errors = validate(blink_schema(), document)
        if errors:
            await self._error(sub_id, errors)
            return
        field = _root_field(operation)
        self._stats.subscriptions[field] += 1
        task = self._spawn(
            self._serve(sub_id, document, payload.get("variables"), operation_name)
        )
        self.subscriptions[sub_id] = LiveSubscription(field, task)

    async def _error(self, sub_id: str, errors: list[GraphQLError]) -> None:
        payload = [error.formatted for error in errors]
        await self._send({"id": sub_id, "type": "error", "payload": payload}, data=True)

    async def _serve(
        self,
        sub_id: str,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> None:
        """Run one subscription: `next` per event, `complete` when it ends."""
        stream: AsyncIterator[ExecutionResult] | None = None
        try:
            outcome = subscribe(
                blink_schema(),
                document,
                context_value=self.context,
                variable_values=variables,
                operation_name=operation_name,
                field_resolver=field_resolver,
                type_resolver=type_resolver,
            )
            if isawaitable(outcome):
                outcome = await outcome
            if isinstance(outcome, ExecutionResult):
                # refused before any event: graphql-ws sends it as one `next`
                payload = format_result(outcome, executed=False)
                await self._send(
                    {"id": sub_id, "type": "next", "payload": payload}, data=True
                )
            else:
                stream = outcome
                live = self.subscriptions.get(sub_id)
                if live is not None and live.task is asyncio.current_task():
                    live.listening = True
                async for result in stream:
                    payload = format_result(result)
                    await self._send(
                        {"id": sub_id, "type": "next", "payload": payload}, data=True
                    )
            await self._send({"id": sub_id, "type": "complete"}, data=True)
        finally:
            # graphql-core maps events with an async generator; closing it closes
            # our listener at once, whatever the task was awaiting when cancelled
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()
            live = self.subscriptions.get(sub_id)
            if live is not None and live.task is asyncio.current_task():
                del self.subscriptions[sub_id]
