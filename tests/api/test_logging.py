"""Logs: one info when trouble starts, one when it ends, never the key."""

from collections.abc import Callable
import json
import logging

import pytest

from tests.simulator import BlinkSimulator

from .harness import Harness

type Build = Callable[..., Harness]

LOGGER_NAME = "custom_components.blink_wallet.api"
KEY = "blink_k3y_th4t_must_n0t_leak"


def ours(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno == level
    ]


async def test_an_outage_logs_one_info_when_it_starts_and_one_when_it_ends(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()

    await simulator.stop(close_code=1012)
    await h.wait_for(lambda: h.ws.backoff.failures >= 6)
    await simulator.start()
    await h.streaming()

    assert ours(caplog, logging.WARNING) == []
    interrupted, restored = ours(caplog, logging.INFO)
    assert "interrupted" in interrupted
    assert "1012" in interrupted
    assert "restored" in restored
    assert len([m for m in ours(caplog, logging.DEBUG) if "still" in m]) >= 5
    assert ours(caplog, logging.ERROR) == []


async def test_the_key_never_reaches_the_log(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    simulator.add_key(KEY)
    h = harness(api_key=KEY)
    h.my_updates()
    h.start()
    await h.streaming()

    # a server echoing the key back, in a frame it cannot parse
    await simulator.send_raw(f'{{"type": "connection_init", "payload": "{KEY}"')
    await simulator.wait_for(lambda: simulator.stats.ws_connections == 2)
    await h.streaming()
    live_id = next(iter(simulator.sessions[0].subscriptions))
    await simulator.send_raw(
        json.dumps({"id": live_id, "type": "next", "payload": {"data": KEY}})
    )
    await simulator.wait_for(lambda: simulator.stats.ws_connections == 3)
    await h.streaming()
    simulator.revoke_key(KEY)
    await simulator.close_sockets(4403)
    await h.wait_for(lambda: h.task is not None and h.task.done())

    assert "***" in caplog.text
    assert KEY not in caplog.text
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any, as long as no key
        h.task.result()  # type: ignore[union-attr]
    assert KEY not in str(caught.value)


async def test_a_failing_owner_callback_is_logged_and_the_stream_goes_on(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_update: object) -> None:
        msg = "owner bug"
        raise ValueError(msg)

    h = harness()
    h.ws.subscribe_my_updates(broken)
    h.my_updates()
    h.start()
    await h.streaming()
    await simulator.receive_lightning(5)
    await h.wait_for(lambda: bool(h.payments))

    assert "owner bug" in caplog.text
    assert simulator.stats.ws_connections == 1


async def test_failing_connection_and_gap_callbacks_do_not_stop_the_socket(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_gap() -> None:
        msg = "catch-up bug"
        raise RuntimeError(msg)

    h = harness(gap=broken_gap)

    def broken_announce(connected: bool) -> None:
        h.connection.append(connected)
        msg = "announce bug"
        raise RuntimeError(msg)

    h.ws._on_connection_change = broken_announce
    h.my_updates()
    h.start()
    await h.wait_for(lambda: h.connection == [True])
    await simulator.drop_sockets()
    await h.wait_for(lambda: h.gaps == 1)
    await h.wait_for(lambda: "catch-up bug" in caplog.text)

    assert "announce bug" in caplog.text
    assert h.ws.connected


async def test_drifted_updates_are_skipped_with_one_warning(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()
    h.my_updates()
    h.realtime_price()
    h.start()
    await h.streaming()
    await h.wait_for(lambda: bool(h.prices))
    sessions = simulator.sessions[0].subscriptions
    ids = {live.field: sid for sid, live in sessions.items()}
    drifted = {"myUpdates": {"update": {"__typename": "LnUpdate", "status": 1}}}
    errors = {"realtimePrice": {"errors": [{"message": "Invalid currency."}]}}

    for _ in range(3):
        for payload in ({"data": drifted}, {"data": errors}):
            field = next(iter(payload["data"]))
            frame = {"id": ids[field], "type": "next", "payload": payload}
            await simulator.send_raw(json.dumps(frame))
    await simulator.receive_lightning(7)
    await h.wait_for(lambda: bool(h.payments))

    warnings = ours(caplog, logging.WARNING)
    assert len([w for w in warnings if "myUpdates" in w]) == 1
    assert len([w for w in warnings if "realtimePrice" in w]) == 1
    assert simulator.stats.ws_connections == 1
