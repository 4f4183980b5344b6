"""close() and cancellation leave no task and no socket behind, whenever they come."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import WSMsgType, web
import pytest

from custom_components.blink_wallet.api import BlinkAuthError
from tests.simulator import BlinkSimulator

from .conftest import serve
from .harness import Harness

type Build = Callable[..., Harness]


def tasks_now() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks()


def client_tasks() -> list[asyncio.Task[object]]:
    """The client's own tasks: the socket's, and run() itself."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("blink_wallet")
        or getattr(task.get_coro(), "__qualname__", "") == "BlinkWebSocket.run"
    ]


async def settled(simulator: BlinkSimulator, before: set[asyncio.Task[object]]) -> None:
    """The server has seen every socket go, and every task but the test's is gone.

    The client's tasks must be gone at once; the server's need a moment.
    """
    assert client_tasks() == []
    await simulator.wait_for(lambda: simulator.open_sockets == 0)
    await simulator.wait_for(lambda: not_servers(tasks_now() - before) == [])


def not_servers(tasks: set[asyncio.Task[object]]) -> list[asyncio.Task[object]]:
    """Leave out the server's handlers (HTTP keep-alive outlives a request)."""
    return [
        task
        for task in tasks
        if not getattr(task.get_coro(), "__qualname__", "").startswith(
            "RequestHandler."
        )
    ]


async def test_close_while_connected(simulator: BlinkSimulator, harness: Build) -> None:
    before = tasks_now()
    h = harness()
    h.my_updates()
    h.realtime_price()
    h.start()
    await h.streaming()
    assert len(tasks_now() - before) >= 3  # run, reader, keeper

    await h.ws.close()

    assert h.task is not None
    assert h.task.done()
    assert h.task.result() is None
    await settled(simulator, before)
    assert h.connection == [True, False]


async def test_close_while_waiting_to_reconnect(
    simulator: BlinkSimulator, harness: Build
) -> None:
    await simulator.stop()
    before = tasks_now()
    h = harness(backoff_base=10.0, backoff_cap=10.0)
    h.my_updates()
    h.start()
    await h.wait_for(lambda: h.ws.backoff.failures == 1)

    async with asyncio.timeout(1):
        await h.ws.close()

    await settled(simulator, before)


async def test_close_while_waiting_for_the_ack(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.behaviour.withhold_ack = True
    before = tasks_now()
    h = harness(ack_timeout=10.0)
    h.my_updates()
    h.start()
    await simulator.wait_for(lambda: simulator.stats.connection_inits == 1)

    async with asyncio.timeout(1):
        await h.ws.close()

    await settled(simulator, before)
    assert h.connection == []


async def test_close_asked_for_by_the_gap_callback(
    simulator: BlinkSimulator, harness: Build
) -> None:
    holder: list[Harness] = []
    closing: list[asyncio.Task[None]] = []

    def close_now() -> None:
        closing.append(asyncio.get_running_loop().create_task(holder[0].ws.close()))

    before = tasks_now()
    h = harness(gap=close_now)
    holder.append(h)
    h.my_updates()
    h.start()
    await h.streaming()

    await simulator.drop_sockets()
    async with asyncio.timeout(2):
        assert h.task is not None
        await h.task
        await closing[0]

    await settled(simulator, before)


async def test_cancelling_run_cleans_up_like_close(
    simulator: BlinkSimulator, harness: Build
) -> None:
    before = tasks_now()
    h = harness()
    h.my_updates()
    task = h.start()
    await h.streaming()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await settled(simulator, before)
    assert h.connection == [True, False]


async def test_nothing_is_left_after_run_gives_up_on_the_key(
    simulator: BlinkSimulator, harness: Build
) -> None:
    before = tasks_now()
    h = harness(api_key="revoked")
    h.my_updates()

    with pytest.raises(BlinkAuthError):
        await h.ws.run()

    await settled(simulator, before)


async def test_many_reconnects_leak_nothing(
    simulator: BlinkSimulator, harness: Build
) -> None:
    before = tasks_now()
    h = harness()
    h.my_updates()
    h.start()
    for connections in range(2, 12):
        await h.streaming()
        await simulator.drop_sockets()
        await simulator.wait_for(
            lambda n=connections: simulator.stats.ws_connections >= n  # type: ignore[misc]
        )
    await h.streaming()

    assert simulator.open_sockets == 1
    await h.ws.close()
    await settled(simulator, before)


async def test_close_says_goodbye_with_1000(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    codes: list[int | None] = []
    closed = asyncio.Event()

    async def acknowledging(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("graphql-transport-ws",))
        await ws.prepare(request)
        async for message in ws:
            if message.type is WSMsgType.TEXT and '"connection_init"' in message.data:
                await ws.send_str('{"type":"connection_ack"}')
        codes.append(ws.close_code)
        closed.set()
        return ws

    app = web.Application()
    app.router.add_get("/graphql", acknowledging)
    async with serve(app) as url:
        h = Harness(session, f"{url}/graphql", f"{url}/graphql", "k")
        h.start()
        await h.connected()
        await h.ws.close()
        await asyncio.wait_for(closed.wait(), 2)

    assert codes == [1000]


@asynccontextmanager
async def hanging_key_check() -> AsyncIterator[tuple[str, list[int]]]:
    """A Blink that refuses the socket (403) and never answers the HTTP check."""
    checks: list[int] = []
    released = asyncio.Event()

    async def forbidden(_request: web.Request) -> web.Response:
        return web.Response(status=403)

    async def hang(_request: web.Request) -> web.Response:
        checks.append(1)
        await released.wait()
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/graphql", forbidden)
    app.router.add_post("/graphql", hang)
    async with serve(app) as url:
        try:
            yield f"{url}/graphql", checks
        finally:
            released.set()


async def test_close_does_not_wait_for_a_hanging_key_check(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    before = tasks_now()
    async with hanging_key_check() as (url, checks):
        h = Harness(session, url, url, "k", pong_timeout=0.1)
        h.my_updates()
        h.start()
        await h.wait_for(lambda: bool(checks))
        loop = asyncio.get_running_loop()
        started = loop.time()

        await h.ws.close()

        assert loop.time() - started < 0.5
        assert h.task is not None
        assert h.task.result() is None  # still the normal end
        assert client_tasks() == []
    assert not_servers(tasks_now() - before) == []


async def test_close_does_not_wait_for_a_peer_that_never_answers(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    released = asyncio.Event()

    async def deaf(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("graphql-transport-ws",))
        await ws.prepare(request)
        await ws.receive()  # connection_init
        await ws.send_str('{"type":"connection_ack"}')
        await released.wait()  # never reads again: our close is never answered
        return ws

    app = web.Application()
    app.router.add_get("/graphql", deaf)
    async with serve(app) as url:
        h = Harness(
            session,
            f"{url}/graphql",
            f"{url}/graphql",
            "k",
            pong_timeout=0.2,
            ping_interval=60,
        )
        h.start()
        await h.connected()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await h.ws.close()
        elapsed = loop.time() - started
        released.set()

    assert elapsed < 0.6
    assert h.task is not None
    assert h.task.result() is None


async def test_cancelling_run_by_someone_else_is_not_swallowed(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with hanging_key_check() as (url, checks):
        h = Harness(session, url, url, "k", pong_timeout=0.1)
        h.my_updates()
        task = h.start()
        await h.wait_for(lambda: bool(checks))

        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
