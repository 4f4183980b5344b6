"""A socket that stops answering, or a stream that stops talking, is replaced."""

import asyncio
from collections.abc import Callable, Sequence
import json

from tests.simulator import BlinkSimulator

from .harness import Harness

type Build = Callable[..., Harness]


async def test_ack_deadline_replaces_a_socket_never_acknowledged(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.behaviour.withhold_ack = True
    h = harness(ack_timeout=0.1)
    h.my_updates()
    loop = asyncio.get_running_loop()
    started = loop.time()
    h.start()

    await simulator.wait_for(lambda: simulator.stats.connection_inits >= 3)
    elapsed = loop.time() - started

    # three deadlines of 0.1 s and two waits of at most 0.05 s
    assert 0.2 <= elapsed < 1.5
    assert h.connection == []  # never acknowledged, never announced
    simulator.behaviour.withhold_ack = False
    await h.streaming()


async def test_server_ping_before_ack_is_answered(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.behaviour.ack_delay = 0.2
    h = harness(ack_timeout=1.0)
    h.my_updates()
    h.start()
    await simulator.wait_for(lambda: simulator.stats.connection_inits == 1)

    await simulator.ping_sockets()
    await simulator.wait_for(lambda: simulator.stats.pongs_received == 1)
    await h.streaming()

    assert simulator.stats.ws_connections == 1


async def test_pong_deadline_replaces_a_silent_socket(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(ping_interval=0.05, pong_timeout=0.1)
    h.my_updates()
    h.start()
    await h.streaming()
    loop = asyncio.get_running_loop()

    simulator.freeze_sockets()  # TCP stays up, nothing comes back
    frozen_at = loop.time()
    await h.wait_for(lambda: h.connection == [True, False])
    lost_after = loop.time() - frozen_at
    await h.streaming()

    # at most a ping interval, then the pong deadline
    assert lost_after < 0.05 + 0.1 + 0.1
    assert simulator.stats.ws_connections == 2
    assert h.connection == [True, False, True]


async def test_production_timings_replace_a_dead_socket_within_45_seconds() -> None:
    from custom_components.blink_wallet.api.backoff import (  # noqa: PLC0415
        DEFAULT_BACKOFF_BASE,
    )
    from custom_components.blink_wallet.api.websocket import (  # noqa: PLC0415
        DEFAULT_ACK_TIMEOUT,
        DEFAULT_PING_INTERVAL,
        DEFAULT_PONG_TIMEOUT,
        DEFAULT_SILENCE_TIMEOUT,
    )

    assert DEFAULT_PING_INTERVAL <= 20
    assert DEFAULT_PONG_TIMEOUT <= 10
    assert DEFAULT_ACK_TIMEOUT <= 10
    assert DEFAULT_SILENCE_TIMEOUT == 600
    # noticed within ping + pong, the first retry within the base wait
    detection = DEFAULT_PING_INTERVAL + DEFAULT_PONG_TIMEOUT
    assert detection + DEFAULT_BACKOFF_BASE + DEFAULT_ACK_TIMEOUT <= 45


async def test_silent_subscription_is_resubscribed_then_the_socket_replaced(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(silence_timeout=0.3, resubscribe_timeout=0.2)
    h.my_updates()
    h.start()
    await h.streaming()

    # Pongs keep coming, data does not (home-assistant/core#86462).
    simulator.silence_sockets()
    await simulator.wait_for(lambda: simulator.stats.subscriptions["myUpdates"] == 2)
    assert simulator.stats.ws_connections == 1  # first, resubscribe on the socket
    await simulator.wait_for(lambda: simulator.stats.ws_connections == 2)
    await h.streaming()

    assert simulator.stats.pongs_sent > 0
    assert h.connection == [True, False, True]
    # One gap for the stream lost on the old socket, one for the new socket.
    await h.wait_for(lambda: h.gaps == 2)


async def test_resubscribing_revives_a_stream_the_server_lost(
    simulator: BlinkSimulator, harness: Build
) -> None:
    lost: list[str] = []

    def lose_the_first_stream(session: object, text: str) -> Sequence[str]:
        frame = json.loads(text)
        if frame.get("type") == "next" and (not lost or frame["id"] == lost[0]):
            if not lost:
                lost.append(frame["id"])
            return []
        return [text]

    h = harness(silence_timeout=0.2, resubscribe_timeout=0.5)
    h.my_updates()
    simulator.behaviour.frame_hook = lose_the_first_stream
    h.start()

    await h.streaming()

    assert simulator.stats.subscriptions["myUpdates"] == 2
    assert simulator.stats.ws_connections == 1
    assert simulator.live_subscriptions["myUpdates"] == 1  # the lost one completed
    # What the lost stream would have carried is read by the owner's catch-up.
    await simulator.wait_for(lambda: h.gaps == 1)


async def test_a_talking_stream_is_left_alone(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(silence_timeout=0.15)
    h.my_updates()
    h.start()
    await h.streaming()

    for step in range(6):
        await simulator.set_price(90_000 + step)
        await asyncio.sleep(0.05)

    assert simulator.stats.subscriptions["myUpdates"] == 1


async def test_unwatched_subscriptions_may_stay_silent(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(silence_timeout=0.05)
    h.ws.subscribe(
        "subscription Watch($hash: PaymentHash!) {"
        " lnInvoicePaymentStatusByHash(input: {paymentHash: $hash}) { status } }",
        {"hash": "0" * 64},
        lambda _data: None,
    )
    h.start()
    await h.wait_for(lambda: h.ws.connected)

    await asyncio.sleep(0.3)

    assert simulator.stats.ws_connections == 1


def test_a_resubscribed_stream_gets_two_of_blinks_price_ticks() -> None:
    # What-blink-sends 3: the price after subscribing is best effort, then every
    # 30 s; silence shorter than two ticks says nothing about the stream.
    from custom_components.blink_wallet.api.websocket import (  # noqa: PLC0415
        DEFAULT_RESUBSCRIBE_TIMEOUT,
    )
    from tests.simulator.simulator import PRICE_EVERY_SECONDS  # noqa: PLC0415

    assert DEFAULT_RESUBSCRIBE_TIMEOUT >= 2 * PRICE_EVERY_SECONDS + 10


async def test_blinks_keepalive_pings_are_answered_and_the_socket_kept(
    simulator: BlinkSimulator, harness: Build
) -> None:
    # What-blink-sends 11: graphql-ws pings at the WebSocket level and drops a
    # socket that does not answer within the interval (12 s; here 20 ms).
    simulator._core.keepalive = 0.02
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()
    await asyncio.sleep(0.3)

    assert simulator.stats.keepalive_pings >= 5
    assert simulator.stats.ws_connections == 1
