"""The frame server: its own process, driven line by line over stdin/stdout.

`python -m bench.server` starts the project's Blink simulator (HTTP GraphQL, whose
request counter the integration run reads), captures one real `myUpdates` frame
from it, and serves graphql-transport-ws on another port from a replay server
that writes pre-encoded frames straight to the socket. It prints one JSON line
with its URLs, then answers one JSON line per command (see `Control`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import contextlib
import hashlib
import json
import logging
import sys
import time
from typing import Any, Final

from tests.simulator import TEST_API_KEY, BlinkSimulator

from . import wire
from .frames import FrameTemplate, capture, tx_id
from .pipes import read_lines

GRAPHQL_TRANSPORT_WS: Final = "graphql-transport-ws"
_HEAD_END: Final = b"\r\n\r\n"
_HIGH_WATER: Final = 1 << 16
_MAX_HEAD: Final = 1 << 16
LOGGER = logging.getLogger("bench.server")


def ids_digest(first: int, count: int) -> str:
    """Return the digest of the transaction ids of frames first..first+count-1."""
    return digest_of(tx_id(seq) for seq in range(first, first + count))


def digest_of(ids: Iterable[str]) -> str:
    """Return a digest of transaction ids in order (what a client received)."""
    h = hashlib.sha256()
    for value in ids:
        h.update(value.encode())
        h.update(b"\n")
    return h.hexdigest()


class Connection(asyncio.Protocol):
    """One client socket: HTTP upgrade, then graphql-transport-ws."""

    def __init__(self, server: ReplayServer, cid: int) -> None:
        """Belong to `server` as connection number `cid`."""
        self.server = server
        self.cid = cid
        self.transport: asyncio.Transport | None = None
        self.subscriptions: dict[str, str] = {}
        self._head = bytearray()
        self._upgraded = False
        self._reader = wire.FrameReader()
        self._paused = False
        self._resumed: asyncio.Future[None] | None = None

    # --- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport; watch its buffer so a burst can be drained."""
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP only
        self.transport = transport
        transport.set_write_buffer_limits(high=_HIGH_WATER, low=0)
        self.server.conns[self.cid] = self

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002
        """Forget the connection."""
        self.server.conns.pop(self.cid, None)
        self._wake()

    def pause_writing(self) -> None:
        """Note that the transport's buffer is above the high-water mark."""
        self._paused = True

    def resume_writing(self) -> None:
        """Wake `drain()`: the transport's buffer is empty (low-water mark 0)."""
        self._paused = False
        self._wake()

    def data_received(self, data: bytes) -> None:
        """Read the upgrade request, then client frames."""
        if self._upgraded:
            self._frames(data)
            return
        self._head += data
        end = self._head.find(_HEAD_END)
        if end < 0:
            if len(self._head) > _MAX_HEAD:
                self.abort()
            return
        head, rest = bytes(self._head[:end]), bytes(self._head[end + 4 :])
        self._head.clear()
        self._upgrade(head)
        if rest:
            self._frames(rest)

    # --- sending ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write encoded bytes (frames) to the socket."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_text(self, text: str) -> None:
        """Send one text frame."""
        self.write(wire.encode(text.encode()))

    async def drain(self) -> None:
        """Wait until everything written has left for the kernel."""
        while self.transport is not None and not self.transport.is_closing():
            if self.transport.get_write_buffer_size() == 0:
                return
            if self._paused:
                self._resumed = asyncio.get_running_loop().create_future()
                await self._resumed
            else:
                await asyncio.sleep(0.0005)

    def abort(self) -> None:
        """Cut the connection without a close frame."""
        if self.transport is not None:
            self.transport.abort()

    def _wake(self) -> None:
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)

    # --- reading ---------------------------------------------------------------

    def _upgrade(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        offered = [
            p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")
        ]
        if key is None or GRAPHQL_TRANSPORT_WS not in offered:
            self.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            if self.transport is not None:
                self.transport.close()
            return
        self.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {wire.accept_key(key)}\r\n"
                f"Sec-WebSocket-Protocol: {GRAPHQL_TRANSPORT_WS}\r\n\r\n"
            ).encode()
        )
        self._upgraded = True

    def _frames(self, data: bytes) -> None:
        for frame in self._reader.feed(data):
            match frame.opcode:
                case wire.OP_TEXT:
                    self._message(json.loads(frame.payload))
                case wire.OP_PING:
                    self.write(wire.encode(frame.payload, wire.OP_PONG))
                case wire.OP_CLOSE:
                    self.write(wire.encode(frame.payload[:2], wire.OP_CLOSE))
                    if self.transport is not None:
                        self.transport.close()
                case _:
                    pass

    def _message(self, message: dict[str, Any]) -> None:
        match message.get("type"):
            case "connection_init":
                self.send_text('{"type":"connection_ack"}')
            case "ping":
                self.send_text('{"type":"pong"}')
            case "subscribe":
                op_id = str(message["id"])
                query = str(message.get("payload", {}).get("query", ""))
                field = "myUpdates" if "myUpdates" in query else "other"
                self.subscriptions[op_id] = field
                self.server.subscribed(self, op_id, field)
            case "complete":
                self.subscriptions.pop(str(message.get("id")), None)
            case _:
                pass


class ReplayServer:
    """graphql-transport-ws on 127.0.0.1 that replays one frame template."""

    def __init__(self, template: FrameTemplate, host: str = "127.0.0.1") -> None:
        """Serve frames of `template`; nothing listens before `start()`."""
        self.template = template
        self.host = host
        self.port = 0
        self.conns: dict[int, Connection] = {}
        self.pending: asyncio.Queue[tuple[Connection, str]] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self._next_cid = 0
        self._armed: tuple[int, asyncio.Future[tuple[int, int]]] | None = None

    @property
    def ws_url(self) -> str:
        """Where clients connect."""
        return f"ws://{self.host}:{self.port}/graphql"

    async def start(self) -> None:
        """Listen (again, on the same port after the first time)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and cut every connection."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.conns.values()):
            conn.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _protocol(self) -> Connection:
        self._next_cid += 1
        return Connection(self, self._next_cid)

    def subscribed(self, conn: Connection, op_id: str, field: str) -> None:
        """Hand out a new `myUpdates` subscription, or serve it when armed."""
        if field != "myUpdates":
            return
        if self._armed is not None:
            seq, done = self._armed
            self._armed = None
            t_sub = time.monotonic_ns()
            frame = wire.encode(self.template.text(op_id, seq).encode())
            conn.write(frame)
            if not done.done():
                done.set_result((t_sub, time.monotonic_ns()))
            return
        self.pending.put_nowait((conn, op_id))

    def connection(self, cid: int) -> Connection:
        """Return a live connection by number."""
        conn = self.conns.get(cid)
        if conn is None:
            msg = f"connection {cid} is gone"
            raise KeyError(msg)
        return conn

    def frames(self, op_id: str, first: int, count: int) -> list[bytes]:
        """Encode frames first..first+count-1 for subscription `op_id`."""
        text = self.template.text
        return [
            wire.encode(text(op_id, seq).encode())
            for seq in range(first, first + count)
        ]

    async def cycle(self, seq: int, down: float, limit: float) -> dict[str, int]:
        """Go away for `down` seconds, come back, send frame `seq` on resubscribe."""
        while not self.pending.empty():
            self.pending.get_nowait()
        done: asyncio.Future[tuple[int, int]] = (
            asyncio.get_running_loop().create_future()
        )
        await self.stop()
        self._armed = (seq, done)
        if down > 0:
            await asyncio.sleep(down)
        await self.start()
        t_back = time.monotonic_ns()
        try:
            t_sub, t_sent = await asyncio.wait_for(done, limit)
        finally:
            self._armed = None
        return {"t_back": t_back, "t_sub": t_sub, "t_sent": t_sent}


class Control:
    """The commands the driver sends, one JSON object per line."""

    def __init__(self, server: ReplayServer, simulator: BlinkSimulator) -> None:
        """Drive `server`; read counters of `simulator`."""
        self.server = server
        self.simulator = simulator
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "wait_sub": self.wait_sub,
            "burst": self.burst,
            "paced": self.paced,
            "send": self.send,
            "cycle": self.cycle,
            "http_requests": self.http_requests,
            "drop": self.drop,
        }

    async def wait_sub(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Wait for the next `myUpdates` subscription."""
        conn, op_id = await asyncio.wait_for(
            self.server.pending.get(), cmd.get("timeout", 30.0)
        )
        return {"conn": conn.cid, "op": op_id}

    async def burst(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Send `count` frames as fast as the socket takes them."""
        conn = self.server.connection(cmd["conn"])
        first, count = cmd["first"], cmd["count"]
        cpu0, t0 = time.process_time_ns(), time.monotonic_ns()
        blob = b"".join(self.server.frames(cmd["op"], first, count))
        cpu1, t1 = time.process_time_ns(), time.monotonic_ns()
        conn.write(blob)
        await conn.drain()
        cpu2, t2 = time.process_time_ns(), time.monotonic_ns()
        return {
            "sent": count,
            "bytes": len(blob),
            "digest": ids_digest(first, count),
            "build_ns": t1 - t0,
            "build_cpu_ns": cpu1 - cpu0,
            "write_ns": t2 - t1,
            "write_cpu_ns": cpu2 - cpu1,
        }

    async def paced(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Send `count` frames to each target, at least `interval_us` apart.

        With several targets the frames take turns: frame k goes to the first
        target, a slot (`interval_us` / targets) later to the second, and so on,
        so that every client sees the same moments of a shared machine while
        only one of them is busy at a time.
        """
        targets = cmd.get("targets") or [{"conn": cmd["conn"], "op": cmd["op"]}]
        conns = [self.server.connection(t["conn"]) for t in targets]
        first, count = cmd["first"], cmd["count"]
        slot = cmd["interval_us"] * 1_000 // len(targets)
        frames = [self.server.frames(t["op"], first, count) for t in targets]
        sent: list[list[int]] = [[] for _ in targets]
        due = time.monotonic_ns()
        for k in range(count):
            for i, conn in enumerate(conns):
                wait = due - time.monotonic_ns()
                if wait > 0:
                    await asyncio.sleep(wait / 1e9)
                now = time.monotonic_ns()
                conn.write(frames[i][k])
                sent[i].append(now)
                due = now + slot
        for conn in conns:
            await conn.drain()
        return {
            "sent": count,
            "digest": ids_digest(first, count),
            "send_ns": sent if "targets" in cmd else sent[0],
        }

    async def send(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Send one frame now."""
        conn = self.server.connection(cmd["conn"])
        (frame,) = self.server.frames(cmd["op"], cmd["seq"], 1)
        now = time.monotonic_ns()
        conn.write(frame)
        return {"t_sent": now}

    async def cycle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Restart the listener and serve one frame to whoever resubscribes."""
        return await self.server.cycle(
            cmd["seq"], cmd.get("down_ms", 0) / 1e3, cmd.get("timeout", 10.0)
        )

    async def http_requests(self, _: dict[str, Any]) -> dict[str, Any]:
        """Return the simulator's HTTP request counter."""
        return {"http_requests": self.simulator.stats.http_requests}

    async def drop(self, _: dict[str, Any]) -> dict[str, Any]:
        """Cut every connection (the listener stays)."""
        conns = list(self.server.conns.values())
        for conn in conns:
            conn.abort()
        return {"dropped": len(conns)}

    async def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Run one command; errors are answered, not raised."""
        handler = self.handlers.get(cmd.get("cmd", ""))
        if handler is None:
            return {"error": f"unknown command {cmd.get('cmd')!r}"}
        try:
            result: dict[str, Any] = await handler(cmd)
        except Exception as err:
            LOGGER.exception("command %s failed", cmd.get("cmd"))
            return {"error": f"{type(err).__name__}: {err}"}
        return result


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def serve() -> None:
    """Start, announce, and answer commands until stdin closes or says quit."""
    simulator = BlinkSimulator()
    await simulator.start()
    captured = await capture(simulator)
    server = ReplayServer(captured.template)
    await server.start()
    control = Control(server, simulator)
    sample = captured.template.text("1", 1)
    _say(
        {
            "ws_url": server.ws_url,
            "api_url": simulator.http_url,
            "api_key": TEST_API_KEY,
            "frame_bytes": len(sample.encode()),
            "base_balance": captured.template.base_balance,
            "sample_frame": json.loads(sample),
        }
    )
    try:
        async for line in read_lines(sys.stdin):
            cmd = json.loads(line)
            if cmd.get("cmd") == "quit":
                break
            _say(await control.handle(cmd))
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
        await simulator.stop()


def main() -> None:
    """Entry point of the server process."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
