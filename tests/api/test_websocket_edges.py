"""Rarer paths of the socket: odd servers, odd timing, odd owners."""

import asyncio
from collections.abc import Callable, Sequence
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.blink_wallet.api import (
    BlinkClient,
    BlinkModelError,
    BlinkWebSocket,
    MyUpdate,
)
from custom_components.blink_wallet.api.models import SubscriptionData
from tests.simulator import TEST_API_KEY, BlinkSimulator

from .conftest import serve
from .harness import FAST, Harness

type Build = Callable[..., Harness]

LOGGER_NAME = "custom_components.blink_wallet.api"


async def test_an_unexpected_exception_is_retried_not_fatal(
    simulator: BlinkSimulator,
    harness: Build,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = harness()
    session = h.ws._session
    real_connect = session.ws_connect
    calls: list[int] = []

    def flaky_connect(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            msg = "something nobody expected"
            raise ValueError(msg)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(session, "ws_connect", flaky_connect)
    h.my_updates()
    h.start()
    await h.streaming()

    assert len(calls) == 2
    warnings = [
        r
        for r in caplog.records
        if r.name == LOGGER_NAME and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    (warning,) = warnings
    assert warning.exc_info is not None  # a bug: keep the traceback


async def test_an_upgrade_that_never_answers_times_out(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    attempts: list[float] = []
    released = asyncio.Event()

    async def stall(_request: web.Request) -> web.Response:
        attempts.append(1)
        await released.wait()
        return web.Response()

    app = web.Application()
    app.router.add_get("/graphql", stall)
    async with serve(app) as url:
        h = Harness(
            session, f"{url}/graphql", f"{url}/graphql", "k", connect_timeout=0.05
        )
        h.start()
        await h.wait_for(lambda: len(attempts) >= 3)
        await h.stop()
        released.set()


async def test_an_oversized_frame_replaces_the_socket(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()

    await simulator.send_raw("x" * (5 * 1024 * 1024))  # above aiohttp's 4 MiB limit
    await simulator.wait_for(lambda: simulator.stats.ws_connections == 2)
    await h.streaming()


async def test_data_with_errors_is_still_delivered(
    simulator: BlinkSimulator, harness: Build
) -> None:
    got: list[SubscriptionData | BlinkModelError] = []
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()
    h.ws.subscribe(
        "subscription Extra { myUpdates { errors { message } } }", None, got.append
    )
    await simulator.wait_for_subscriptions(count=2)
    live_id = next(
        sid for s in simulator.sessions for sid in s.subscriptions if int(sid) > 1
    )
    partial = {"data": {"myUpdates": {"errors": []}}, "errors": [{"message": "partly"}]}

    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "next", "payload": partial})
    )
    await h.wait_for(lambda: SubscriptionData(my_updates=MyUpdate()) in got)


async def test_error_frame_saying_unauthenticated_checks_the_key(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()
    live_id = next(iter(simulator.sessions[0].subscriptions))
    refusal = [{"message": "no", "extensions": {"code": "UNAUTHENTICATED"}}]

    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "error", "payload": refusal})
    )
    await simulator.wait_for(lambda: simulator.stats.http_operations["Scopes"] == 1)
    await simulator.wait_for(lambda: simulator.stats.subscriptions["myUpdates"] == 2)


async def test_cancelled_while_its_key_is_checked(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    subscription = h.my_updates()
    h.start()
    await h.streaming()
    answer = simulator.hold_http("Scopes")
    live_id = next(iter(simulator.sessions[0].subscriptions))
    refusal = {"errors": [{"message": "Not Authenticated for subscription"}]}

    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "next", "payload": refusal})
    )
    await simulator.wait_for(lambda: simulator.stats.http_requests == 1)
    subscription.cancel()
    answer.set()  # the key is fine: the refusal spoilt this socket...
    await asyncio.sleep(0.3)

    # ...for a subscription no longer wanted: the socket stays.
    assert simulator.stats.ws_connections == 1
    assert simulator.stats.subscriptions["myUpdates"] == 1
    assert h.ws.connected


async def test_cancelled_while_waiting_to_be_subscribed_again(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(backoff_base=5.0, backoff_cap=5.0)
    subscription = h.my_updates()
    h.start()
    await h.streaming()
    live_id = next(iter(simulator.sessions[0].subscriptions))

    await simulator.send_raw(json.dumps({"id": live_id, "type": "complete"}))
    await h.wait_for(lambda: not simulator.sessions[0].subscriptions or True)
    await asyncio.sleep(0.05)
    subscription.cancel()

    assert h.ws.subscriptions == ()


async def test_ping_and_pong_before_the_ack_are_fine(
    simulator: BlinkSimulator, harness: Build
) -> None:
    def pong_first(_session: object, text: str) -> Sequence[str]:
        if '"connection_ack"' in text:
            return ['{"type":"pong"}', '{"type":"ping"}', text]
        return [text]

    simulator.behaviour.frame_hook = pong_first
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()

    assert simulator.stats.ws_connections == 1
    assert simulator.stats.pongs_received == 1


async def test_every_gap_is_told_at_once(
    simulator: BlinkSimulator, harness: Build
) -> None:
    """Scheduling the catch-up is the owner's job: the socket only tells, each time."""
    told_while_connected: list[bool] = []
    h: Harness = harness(gap=lambda: told_while_connected.append(h.ws.connected))
    h.my_updates()
    h.start()
    await h.streaming()

    await simulator.drop_sockets()
    await h.wait_for(lambda: h.gaps == 1)
    await h.streaming()
    await simulator.drop_sockets()
    await h.wait_for(lambda: h.gaps == 2)

    assert simulator.stats.ws_connections == 3
    # Told once the new socket's subscriptions are out.
    assert told_while_connected == [True, True]


async def test_a_socket_without_callbacks(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    client = BlinkClient(session, TEST_API_KEY, api_url=simulator.http_url)
    ws = BlinkWebSocket(session, TEST_API_KEY, simulator.ws_url, client=client, **FAST)
    prices: list[object] = []
    ws.subscribe_realtime_price("USD", prices.append)
    task = asyncio.get_running_loop().create_task(ws.run())
    try:
        await simulator.wait_for(lambda: bool(prices))
        await simulator.drop_sockets()
        await simulator.wait_for(lambda: simulator.stats.ws_connections == 2)
        await simulator.set_price(99_000)
        await simulator.wait_for(lambda: len(prices) >= 2)
    finally:
        await ws.close()
        await task


async def test_unsupported_price_currency_is_reported_not_fatal(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()
    h.realtime_price("XXX")
    h.my_updates()
    h.start()
    await h.streaming()
    await h.wait_for(lambda: "Invalid currency" in caplog.text)

    assert h.prices == []
    assert simulator.stats.ws_connections == 1
