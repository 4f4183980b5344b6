"""A deliberately thin graphql-transport-ws client for tests that check frames.

It does nothing on its own (no pong, no reconnect): tests drive every frame.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from .protocol import GRAPHQL_TRANSPORT_WS


class RawSocket:
    """One client WebSocket speaking graphql-transport-ws by hand."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap a connected socket."""
        self.ws = ws

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one JSON message."""
        await self.ws.send_json(dict(message))

    async def init(self, key: str | None = None, *, ack: bool = True) -> None:
        """Send `connection_init` (with `X-API-KEY` when given), await the ack."""
        payload = {} if key is None else {"X-API-KEY": key}
        await self.send({"type": "connection_init", "payload": payload})
        if ack:
            assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(
        self,
        sub_id: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Send `subscribe`."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = dict(variables)
        await self.send({"id": sub_id, "type": "subscribe", "payload": payload})

    async def receive(self, seconds: float = 2.0) -> Any:
        """The next JSON message; AssertionError if the socket closes instead."""
        msg = await self.ws.receive(timeout=seconds)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected text, got {msg}"
        return msg.json()

    async def closed(self, seconds: float = 2.0) -> tuple[int | None, str]:
        """Wait for the socket to end; return the close code and reason."""
        async with asyncio.timeout(seconds):
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    return msg.data, msg.extra or ""
                if msg.type in {aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR}:
                    return self.ws.close_code, ""

    async def silent_for(self, seconds: float = 0.1) -> None:
        """Assert that nothing at all arrives for `seconds`."""
        try:
            msg = await self.ws.receive(timeout=seconds)
        except TimeoutError:
            return
        text = f"expected silence, got {msg}"
        raise AssertionError(text)


@asynccontextmanager
async def connect(
    session: aiohttp.ClientSession,
    url: str,
    *,
    key: str | None = None,
    init: bool = True,
    protocols: tuple[str, ...] = (GRAPHQL_TRANSPORT_WS,),
    autoping: bool = True,
) -> AsyncIterator[RawSocket]:
    """Open a socket (and by default init it with `key` and await the ack)."""
    async with session.ws_connect(url, protocols=protocols, autoping=autoping) as ws:
        socket = RawSocket(ws)
        if init:
            await socket.init(key)
        yield socket
