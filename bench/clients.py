"""The clients compared, each behind the same small interface.

* `floor`: a bare aiohttp WebSocket loop that parses each frame with orjson and
  hands `data` to the callback: the least any Python client can do.
* `gql`: gql 4 with its aiohttp WebSocket transport, the maintained Python
  graphql-transport-ws client; the callback gets `data`.
* `project`: this project's `BlinkWebSocket`; the callback gets a `MyUpdate`
  struct, built by the real path (one typed msgspec decode of the frame, routing,
  health).
* `sink`: aiohttp's frame reader alone, no parse: shows what the server and
  the kernel deliver, so that the server is seen not to be the bottleneck.

Each user callback does the same thing: it passes the transaction id to a
`Recorder`. With `reconnect`, floor, gql and sink reconnect after a uniform
random wait below `backoff` seconds; the project does what its own backoff does
with base and cap set to `backoff`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import random
from typing import Any, Final, Protocol

import aiohttp
import orjson

from custom_components.blink_wallet.api import (
    BlinkClient,
    BlinkWebSocket,
    MyUpdate,
    PaymentUpdate,
)
from custom_components.blink_wallet.api.queries import MY_UPDATES_SUBSCRIPTION

GRAPHQL_TRANSPORT_WS: Final = "graphql-transport-ws"
CLIENTS: Final = ("floor", "gql", "project")
ALL_CLIENTS: Final = (*CLIENTS, "sink")

type Record = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how a client connects."""

    ws_url: str
    api_url: str
    api_key: str
    reconnect: bool = False
    backoff: float = 0.001


class Runner(Protocol):
    """A client running in the background until stopped."""

    async def run(self) -> None:
        """Connect, subscribe, deliver; reconnect if the target says so."""

    async def stop(self) -> None:
        """End `run()` cleanly."""


def _transaction_id(data: dict[str, Any]) -> str:
    """Read the transaction id from `data` (the callback of floor and gql)."""
    transaction_id: str = data["myUpdates"]["update"]["transaction"]["id"]
    return transaction_id


class _Cancellable:
    """A runner stopped by cancelling its `run()` task."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self._task = asyncio.current_task()
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve()

    async def _serve(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


class Floor(_Cancellable):
    """aiohttp + orjson + callback, nothing else."""

    def __init__(self, target: Target, record: Record, *, parse: bool = True) -> None:
        """Deliver to `record`; without `parse`, count raw frames (the sink)."""
        super().__init__()
        self.target = target
        self.record = record
        self.parse = parse
        self._init = orjson.dumps(
            {"type": "connection_init", "payload": {"X-API-KEY": target.api_key}}
        ).decode()
        self._subscribe = orjson.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": MY_UPDATES_SUBSCRIPTION,
                    "operationName": "MyUpdates",
                    "variables": {},
                },
            }
        ).decode()

    async def _serve(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    await self._socket(session)
                if not self.target.reconnect:
                    return
                await asyncio.sleep(random.random() * self.target.backoff)  # noqa: S311

    async def _socket(self, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(
            self.target.ws_url, protocols=(GRAPHQL_TRANSPORT_WS,), heartbeat=None
        ) as ws:
            await ws.send_str(self._init)
            ack = await ws.receive()
            if ack.type is not aiohttp.WSMsgType.TEXT:
                return
            await ws.send_str(self._subscribe)
            record = self.record
            loads = orjson.loads
            if not self.parse:
                async for _ in ws:
                    record("")
                return
            text = aiohttp.WSMsgType.TEXT
            async for message in ws:
                if message.type is not text:
                    continue
                frame = loads(message.data)
                kind = frame["type"]
                if kind == "next":
                    record(_transaction_id(frame["payload"]["data"]))
                elif kind == "ping":
                    await ws.send_str('{"type":"pong"}')


class Gql(_Cancellable):
    """gql 4's Client over its AIOHTTPWebsocketsTransport."""

    def __init__(self, target: Target, record: Record) -> None:
        """Deliver to `record`."""
        super().__init__()
        from gql import GraphQLRequest  # noqa: PLC0415 - a benchmark-only dependency

        self.target = target
        self.record = record
        # Parsed once, as a gql user would
        self.request = GraphQLRequest(
            MY_UPDATES_SUBSCRIPTION, operation_name="MyUpdates"
        )

    async def _serve(self) -> None:
        from gql import Client  # noqa: PLC0415 - a benchmark-only dependency
        from gql.transport.aiohttp_websockets import (  # noqa: PLC0415
            AIOHTTPWebsocketsTransport,
        )
        from gql.transport.exceptions import TransportError  # noqa: PLC0415

        record = self.record
        async with aiohttp.ClientSession() as session:
            while True:
                transport = AIOHTTPWebsocketsTransport(
                    url=self.target.ws_url,
                    subprotocols=[GRAPHQL_TRANSPORT_WS],
                    init_payload={"X-API-KEY": self.target.api_key},
                    session=session,
                )
                with contextlib.suppress(TransportError, aiohttp.ClientError, OSError):
                    async with Client(transport=transport) as client:
                        async for data in client.subscribe(self.request):
                            record(_transaction_id(data))
                if not self.target.reconnect:
                    return
                await asyncio.sleep(random.random() * self.target.backoff)  # noqa: S311


class Project:
    """This project's BlinkWebSocket, as the integration uses it."""

    def __init__(self, target: Target, record: Record) -> None:
        """Deliver to `record` through `subscribe_my_updates`."""
        self.target = target
        self.record = record
        self._socket: BlinkWebSocket | None = None

    def _on_update(self, update: MyUpdate) -> None:
        payment = update.update
        if isinstance(payment, PaymentUpdate):
            self.record(payment.transaction.id)

    async def run(self) -> None:
        """Run the socket until `stop()`."""
        async with aiohttp.ClientSession() as session:
            client = BlinkClient(
                session, self.target.api_key, api_url=self.target.api_url
            )
            self._socket = BlinkWebSocket(
                session,
                self.target.api_key,
                self.target.ws_url,
                client=client,
                backoff_base=self.target.backoff,
                backoff_cap=self.target.backoff,
                # The reconnect measurement cycles sockets by the hundred; Blink's
                # ingress pace (10 a minute) would turn it into hours.
                socket_window=self.target.backoff,
                refusal_window=self.target.backoff,
            )
            self._socket.subscribe_my_updates(self._on_update)
            await self._socket.run()

    async def stop(self) -> None:
        """Close the socket; `run()` returns."""
        if self._socket is not None:
            await self._socket.close()


def runner(name: str, target: Target, record: Record) -> Runner:
    """Build the named client."""
    match name:
        case "floor":
            return Floor(target, record)
        case "sink":
            return Floor(target, record, parse=False)
        case "gql":
            return Gql(target, record)
        case "project":
            return Project(target, record)
        case _:
            msg = f"unknown client {name!r}"
            raise ValueError(msg)
