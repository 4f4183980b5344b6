"""Every row of the contract's table "The socket: what each ending means"."""

import asyncio
from collections.abc import Callable, Sequence
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.blink_wallet.api import (
    BlinkAuthError,
    BlinkConfigurationError,
)
from tests.simulator import BlinkSimulator

from .conftest import serve
from .harness import Harness

type Build = Callable[..., Harness]

LOGGER_NAME = "custom_components.blink_wallet.api"
NOT_AUTHENTICATED = {
    "errors": [
        {
            "message": "Not Authenticated for subscription",
            "path": ["myUpdates"],
            "code": "NOT_AUTHENTICATED",
        }
    ]
}


async def started(h: Harness) -> None:
    h.my_updates()
    h.start()
    await h.streaming()


async def recovered(h: Harness, simulator: BlinkSimulator, connections: int) -> None:
    """The socket came back, subscribed again and carries payments."""
    await simulator.wait_for(lambda: simulator.stats.ws_connections >= connections)
    await h.streaming()
    before = len(h.payments)
    await simulator.receive_lightning(21)
    await h.wait_for(lambda: len(h.payments) > before)


# --- retryable -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1011, 1012, 1013, 4408, 4499, 4500])
async def test_retryable_close_reconnects_resubscribes_and_reports_the_gap(
    simulator: BlinkSimulator, harness: Build, code: int
) -> None:
    h = harness()
    await started(h)

    await simulator.close_sockets(code, "bye")
    await recovered(h, simulator, 2)

    assert h.connection == [True, False, True]
    await h.wait_for(lambda: h.gaps == 1)
    assert simulator.live_subscriptions["myUpdates"] == 1


async def test_dropped_connection_1006_reconnects(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    await simulator.drop_sockets()
    await recovered(h, simulator, 2)

    assert h.connection == [True, False, True]


async def test_server_down_then_back_reconnects_and_catches_up(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)
    # On a loaded machine run()'s first attempt may miss a deadline; the first
    # socket then reports a gap too (test_first_connection_failing_...). The gap
    # task starts at announce, before any data, so started() has counted it.
    gaps_at_start = h.gaps

    await simulator.stop(close_code=1012)
    await h.wait_for(lambda: h.ws.backoff.failures >= 3)  # refused connections
    assert h.connection == [True, False]  # nothing got through while down
    await simulator.start()
    await recovered(h, simulator, 2)

    assert h.connection == [True, False, True]
    await h.wait_for(lambda: h.gaps == gaps_at_start + 1)


async def test_first_connection_failing_still_reports_a_gap_once_up(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.fail_handshake(503, times=2)
    h = harness()
    await started(h)

    # State fetched before run() may be stale by now: the owner catches up.
    await h.wait_for(lambda: h.gaps == 1)
    assert h.connection == [True]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 404])
async def test_refused_upgrade_is_retried(
    simulator: BlinkSimulator, harness: Build, status: int
) -> None:
    simulator.fail_handshake(status, times=3)
    h = harness()
    await started(h)

    assert simulator.stats.ws_connections == 1
    assert h.ws.backoff.failures == 0  # data arrived: reset


async def test_upgrade_429_honours_retry_after(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    async def too_many(_request: web.Request) -> web.Response:
        attempts.append(loop.time())
        return web.Response(status=429, headers={"Retry-After": "0.3"})

    app = web.Application()
    app.router.add_get("/graphql", too_many)
    async with serve(app) as url:
        h = Harness(session, f"{url}/graphql", f"{url}/graphql", "k")
        h.my_updates()
        h.start()
        await h.wait_for(lambda: len(attempts) >= 3)
        await h.stop()

    # the jittered backoff alone would wait at most 50 ms
    assert attempts[1] - attempts[0] >= 0.29
    assert attempts[2] - attempts[1] >= 0.29


# --- protocol bugs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (4400, "bad request"),
        (4401, "subscribed before acknowledgement"),
        (4409, "subscription id already in use"),
        (4429, "too many connection_init"),
    ],
)
async def test_protocol_bug_close_is_logged_once_and_reconnects(
    simulator: BlinkSimulator,
    harness: Build,
    caplog: pytest.LogCaptureFixture,
    code: int,
    meaning: str,
) -> None:
    h = harness()
    await started(h)

    # Three closes before any data flows again: one episode, one warning.
    simulator.silence_sockets(new_too=True)
    for connections in (2, 3, 4):
        await simulator.close_sockets(code, "Invalid message received")
        await simulator.wait_for(
            lambda n=connections: simulator.stats.ws_connections >= n  # type: ignore[misc]
        )
        await h.connected()
    simulator.heal_sockets()
    await simulator.set_price(90_000)
    await recovered(h, simulator, 4)

    ours = [r for r in caplog.records if r.name == LOGGER_NAME]
    warnings = [r for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert str(code) in warnings[0].getMessage()
    assert meaning in warnings[0].getMessage()
    assert len([r for r in ours if r.levelno == logging.INFO]) == 1


@pytest.mark.parametrize(
    "frame",
    [
        "this is not json",
        '{"type": "next", "id": 1',
        "[1, 2, 3]",
        '"next"',
        '{"id": "1"}',
        '{"type": 7}',
        '{"type": "subscribe", "id": "1"}',
        '{"type": "next"}',
        '{"type": "next", "id": "MYID", "payload": "data"}',
        '{"type": "next", "id": "MYID", "payload": {"data": [1]}}',
    ],
)
async def test_malformed_frame_is_logged_cut_short_and_reconnects(
    simulator: BlinkSimulator,
    harness: Build,
    caplog: pytest.LogCaptureFixture,
    frame: str,
) -> None:
    h = harness()
    await started(h)
    live_id = next(iter(simulator.sessions[0].subscriptions))

    await simulator.send_raw(frame.replace("MYID", live_id))
    await recovered(h, simulator, 2)

    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
    assert any("Blink sent" in message for message in warnings)


async def test_binary_frame_is_a_protocol_bug(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    await simulator.sessions[0].ws.send_bytes(b"\x00\x01")
    await recovered(h, simulator, 2)


async def test_a_long_frame_is_quoted_cut_short(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()
    await started(h)

    await simulator.send_raw("<html>" + "x" * 5000)
    await recovered(h, simulator, 2)

    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER_NAME and r.levelno == logging.WARNING
    ]
    assert "<html>" in warning
    assert len(warning) < 300


async def test_unexpected_frame_before_ack_is_a_protocol_bug(
    simulator: BlinkSimulator, harness: Build
) -> None:
    sent: list[bool] = []

    def next_before_ack(_session: object, text: str) -> Sequence[str]:
        if not sent and json.loads(text)["type"] == "connection_ack":
            sent.append(True)
            return ['{"type":"next","id":"1","payload":{}}']
        return [text]

    simulator.behaviour.frame_hook = next_before_ack
    h = harness()
    await started(h)

    assert simulator.stats.ws_connections == 2


# --- authentication -------------------------------------------------------------------------


async def test_unknown_key_ends_run_after_one_http_check(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(api_key="not-a-key")
    h.my_updates()

    with pytest.raises(BlinkAuthError):
        async with asyncio.timeout(5):
            await h.ws.run()

    assert simulator.stats.http_requests == 1
    assert simulator.stats.ws_connections == 1
    await simulator.wait_for(lambda: simulator.open_sockets == 0)


async def test_revoked_key_stops_without_retrying(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    simulator.revoke_key("test-key")
    await simulator.drop_sockets()
    with pytest.raises(BlinkAuthError):
        async with asyncio.timeout(5):
            await asyncio.shield(h.task)  # type: ignore[arg-type]
    connections = simulator.stats.ws_connections
    await asyncio.sleep(0.2)

    assert simulator.stats.ws_connections == connections == 2
    assert simulator.stats.http_unauthorized == 1
    assert h.connection[-1] is False


def refuse_my_updates(times: int) -> Callable[[object, str], Sequence[str]]:
    """Build a frame hook answering the first `times` myUpdates as a refused key."""
    refused: list[str] = []

    def hook(_session: object, text: str) -> Sequence[str]:
        frame = json.loads(text)
        if len(refused) < times and frame["type"] == "next" and "myUpdates" in text:
            refused.append(frame["id"])
            return [
                json.dumps(
                    {"id": frame["id"], "type": "next", "payload": NOT_AUTHENTICATED}
                ),
                json.dumps({"id": frame["id"], "type": "complete"}),
            ]
        return [text]

    return hook


async def test_a_socket_whose_key_check_failed_at_connect_is_replaced(
    simulator: BlinkSimulator, harness: Build
) -> None:
    # what-blink-sends 4: Blink keeps the outcome of the key check at connect, so
    # that socket refuses myUpdates for good while HTTP accepts the key; only a
    # new socket (a new check) helps, never subscribing again on the old one.
    simulator.fail_key_checks(1)
    h = harness()
    await started(h)
    tx = await simulator.receive_lightning(1_000)
    await h.wait_for(lambda: len(h.payments) == 1)

    assert simulator.stats.key_checks_failed == 1
    assert simulator.stats.http_operations["Scopes"] == 1
    assert simulator.stats.ws_connections == 2
    assert simulator.stats.subscriptions["myUpdates"] == 2  # one per socket
    assert h.payments[0].transaction.id == tx.id
    await h.wait_for(lambda: h.gaps == 1)  # what the refused stream missed


async def test_key_without_read_scope_is_refused(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.add_key("receive-only", scopes=("RECEIVE",))
    simulator.behaviour.frame_hook = refuse_my_updates(1)
    h = harness(api_key="receive-only")
    h.my_updates()

    with pytest.raises(BlinkAuthError, match="READ"):
        async with asyncio.timeout(5):
            await h.ws.run()


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_upgrade_is_checked_over_http_then_retried(
    simulator: BlinkSimulator, harness: Build, status: int
) -> None:
    simulator.fail_handshake(status)
    h = harness()
    await started(h)

    assert simulator.stats.http_operations["Scopes"] == 1


async def test_refused_upgrade_with_a_revoked_key_ends_run(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.fail_handshake(401)
    simulator.revoke_key("test-key")
    h = harness()
    h.my_updates()

    with pytest.raises(BlinkAuthError):
        async with asyncio.timeout(5):
            await h.ws.run()
    assert simulator.stats.ws_connections == 0


async def test_close_4403_with_a_good_key_reconnects(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    await simulator.close_sockets(4403, "Forbidden")
    await recovered(h, simulator, 2)

    assert simulator.stats.http_operations["Scopes"] == 1


async def test_close_4403_with_a_revoked_key_ends_run(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    simulator.revoke_key("test-key")
    await simulator.close_sockets(4403, "Forbidden")

    with pytest.raises(BlinkAuthError):
        async with asyncio.timeout(5):
            await asyncio.shield(h.task)  # type: ignore[arg-type]
    assert simulator.stats.ws_connections == 1


async def test_key_check_that_cannot_reach_blink_is_retried(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.fail_handshake(403)
    simulator.fail_http(502, body="<html>Bad gateway</html>", content_type="text/html")
    h = harness()
    await started(h)

    assert simulator.stats.ws_connections == 1


# --- configuration ----------------------------------------------------------------------------


async def test_close_4406_is_a_configuration_error(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)

    await simulator.close_sockets(4406, "Subprotocol not acceptable")

    with pytest.raises(BlinkConfigurationError, match="4406"):
        async with asyncio.timeout(5):
            await asyncio.shield(h.task)  # type: ignore[arg-type]
    assert simulator.stats.ws_connections == 1
    assert h.connection == [True, False]


@pytest.mark.parametrize(
    "document",
    [
        "subscription Drifted { myUpdates { errors { message } renamedField } }",
        "query NotASubscription { globals { network } }",
    ],
)
async def test_subscription_refused_three_times_running_is_schema_drift(
    simulator: BlinkSimulator, harness: Build, document: str
) -> None:
    h = harness()
    h.my_updates()
    h.ws.subscribe(document, {}, lambda _data: None)

    with pytest.raises(BlinkConfigurationError, match="3 times"):
        async with asyncio.timeout(5):
            await h.ws.run()
    # retried on the same socket, the working subscription left alone
    assert simulator.stats.ws_connections == 1


async def test_refusals_interrupted_by_data_are_not_drift(
    simulator: BlinkSimulator, harness: Build
) -> None:
    answers: list[str] = []

    def refuse_twice_then_twice_again(_session: object, text: str) -> Sequence[str]:
        frame: dict[str, Any] = json.loads(text)
        if frame["type"] != "next" or "realtimePrice" not in text:
            return [text]
        answers.append(frame["id"])
        if len(answers) in (1, 2, 4, 5):
            refusal = [
                {"message": "Cannot query field", "code": "GRAPHQL_VALIDATION_FAILED"}
            ]
            return [
                json.dumps({"id": frame["id"], "type": "error", "payload": refusal})
            ]
        return [text]

    simulator.behaviour.frame_hook = refuse_twice_then_twice_again
    h = harness()
    h.realtime_price()
    h.start()

    await h.wait_for(lambda: len(h.prices) == 1)
    await simulator.set_price(90_000)
    await h.wait_for(lambda: len(h.prices) == 2)
    assert len(answers) == 6
    assert not h.task.done()  # type: ignore[union-attr]


# --- the server ending one stream ----------------------------------------------------------------


async def test_server_completing_a_live_stream_gets_it_resubscribed(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    await started(h)
    live_id = next(iter(simulator.sessions[0].subscriptions))

    prices = len(h.price_updates)
    await simulator.send_raw(json.dumps({"id": live_id, "type": "complete"}))
    await simulator.wait_for(lambda: simulator.stats.subscriptions["myUpdates"] == 2)
    # the price Blink pushes to a new myUpdates shows its listener is up
    await h.wait_for(lambda: len(h.price_updates) > prices)
    await recovered(h, simulator, 1)

    assert simulator.stats.ws_connections == 1
    await h.wait_for(lambda: h.gaps == 1)  # what the ended stream missed


async def test_errors_without_data_are_reported_and_the_stream_kept(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()
    await started(h)
    live_id = next(iter(simulator.sessions[0].subscriptions))
    oops = {"errors": [{"message": "Got 'undefined' payload", "code": "UNKNOWN"}]}

    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "next", "payload": oops})
    )
    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "next", "payload": oops})
    )
    await recovered(h, simulator, 1)

    assert "undefined" in caplog.text
    assert simulator.stats.subscriptions["myUpdates"] == 1
