"""Thousands of malformed and drifted frames: nothing escapes, the socket recovers.

Twelve thousand go through the frame decoder and the subscriptions' handlers, the
path every frame takes (seeded, so a failure repeats); fifteen hundred more go
through a live socket against the simulator, which must recover from all of them.
The counts are printed in the run's summary.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
import contextlib
import copy
import json
import logging
import random
from typing import Any

import aiohttp
import pytest

from custom_components.blink_wallet.api import (
    BlinkClient,
    BlinkModelError,
    BlinkWebSocket,
)
from custom_components.blink_wallet.api.framing import (
    Drifted,
    ExecutionResult,
    FrameDecoder,
    FrameError,
)
from custom_components.blink_wallet.api.models import SubscriptionData
from tests.simulator import TEST_API_KEY, BlinkSimulator

from .harness import Harness
from .payloads import me, realtime_price, transaction

type Build = Callable[..., Harness]

FRAMES = 1500
DECODED_FRAMES = 12_000
LOGGER_NAME = "custom_components.blink_wallet.api"


def json_value(rng: random.Random, depth: int = 0) -> Any:  # noqa: PLR0911
    """Any JSON value, nested a little."""
    kind = rng.randrange(9 if depth < 3 else 6)
    match kind:
        case 0:
            return None
        case 1:
            return rng.random() < 0.5
        case 2:
            return rng.choice([0, -1, 7, 2**53, 2**64, -(2**70)])
        case 3:
            return rng.choice([0.5, -1e308, 1e-9, 3.0])
        case 4:
            return rng.choice(
                ["", "x", "PAID", "BTC", "NaN", "1e999", "ünïcødé", "\u0000"]
            )
        case 5:
            return "".join(
                chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(20))
            )
        case 6:
            return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
        case _:
            return {
                rng.choice(["a", "id", "__typename", "errors", "data"]): json_value(
                    rng, depth + 1
                )
                for _ in range(rng.randrange(4))
            }


def mutate(rng: random.Random, value: Any) -> Any:
    """Change one spot of a payload: drop a field, retype it, add one, rename a type."""
    value = copy.deepcopy(value)
    node = value
    while isinstance(node, dict) and node and rng.random() < 0.7:
        key = rng.choice(list(node))
        if not isinstance(node[key], dict) or not node[key]:
            break
        node = node[key]
    if not isinstance(node, dict) or not node:
        return json_value(rng)
    key = rng.choice(list(node))
    match rng.randrange(4):
        case 0:
            del node[key]
        case 1:
            node[key] = json_value(rng)
        case 2:
            node[f"new{rng.randrange(100)}"] = json_value(rng)
        case _:
            node["__typename"] = rng.choice(
                ["LnUpdate", "Nope", "Price", "RealtimePrice"]
            )
    return value


def valid_data(rng: random.Random) -> dict[str, Any]:
    """A `data` object as Blink sends it on one of the two subscriptions."""
    if rng.random() < 0.3:
        return {"realtimePrice": {"errors": [], "realtimePrice": realtime_price()}}
    update = rng.choice(
        [
            {"__typename": "RealtimePrice", **realtime_price()},
            {"__typename": "LnUpdate", "status": "PAID", "transaction": transaction()},
            {
                "__typename": "OnChainUpdate",
                "txNotificationType": "OnchainReceipt",
                "transaction": transaction(),
            },
        ]
    )
    return {"myUpdates": {"errors": [], "me": me(), "update": update}}


def frame(rng: random.Random, live: list[str]) -> str:  # noqa: PLR0911 - one per kind
    """One generated frame: malformed (the socket is replaced) or drifted (skipped)."""
    live_id = rng.choice(live)
    roll = rng.random()
    if roll < 0.08:  # not JSON at all
        return rng.choice(
            ["", "{", "}{", "null,", "<html>502</html>", "\x00\x01"]
        ) + str(rng.random())
    if roll < 0.12:  # JSON, but not a message
        return json.dumps(json_value(rng) if rng.random() < 0.5 else [1, 2])
    if roll < 0.16:  # a message of no known type, or an untyped one
        return json.dumps(
            {"type": rng.choice([1, None, "", "Next", "subscribe"]), "id": live_id}
        )
    if roll < 0.20:  # ids that are missing, mistyped or unknown
        kind = rng.choice(["next", "error", "complete"])
        ident = rng.choice([None, 5, "unknown-id", ["x"]])
        message: dict[str, Any] = {"type": kind, "payload": {"data": {}}}
        if ident is not None:
            message["id"] = ident
        return json.dumps(message)
    if roll < 0.24:  # housekeeping at odd times
        return json.dumps(
            rng.choice(
                [
                    {"type": "ping", "payload": json_value(rng)},
                    {"type": "pong"},
                    {"type": "connection_ack", "payload": json_value(rng)},
                ]
            )
        )
    if roll < 0.25:  # the server ending a stream we still want
        return json.dumps({"type": "complete", "id": live_id})
    if roll < 0.255:  # a refusal that looks like a bad key (HTTP says it is fine)
        refusal = {"errors": [{"message": "Not Authenticated for subscription"}]}
        return json.dumps({"type": "next", "id": live_id, "payload": refusal})
    if roll < 0.30:  # payloads of the wrong shape
        payload: Any = rng.choice(
            [None, [], "x", {"data": [1]}, {"errors": json_value(rng)}, {"data": None}]
        )
        return json.dumps({"type": "next", "id": live_id, "payload": payload})
    # drifted data: well-formed frames whose content moved under us
    data = mutate(rng, valid_data(rng))
    return json.dumps({"type": "next", "id": live_id, "payload": {"data": data}})


async def test_twelve_thousand_frames_through_the_decoder_and_handlers(
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    """Each frame is a protocol error, or a frame whose data the handlers take."""
    caplog.set_level(logging.DEBUG, LOGGER_NAME)
    rng = random.Random(20261203)  # noqa: S311 - reproducible, not secret
    async with aiohttp.ClientSession() as session:
        socket = BlinkWebSocket(
            session,
            TEST_API_KEY,
            "ws://127.0.0.1:9/graphql",  # never opened
            client=BlinkClient(session, TEST_API_KEY),
        )
    updates: list[object] = []
    handlers = {
        "1": socket.subscribe_my_updates(updates.append),
        "2": socket.subscribe_realtime_price("USD", updates.append),
    }
    decoder = FrameDecoder(SubscriptionData, secret=TEST_API_KEY)
    outcomes: Counter[str] = Counter()

    for _ in range(DECODED_FRAMES):
        try:
            decoded = decoder.decode(frame(rng, list(handlers)))
        except FrameError:
            outcomes["protocol error"] += 1
            continue
        if isinstance(decoded, Drifted):
            outcomes["drifted"] += 1
            data: SubscriptionData | BlinkModelError = decoded.error
        elif decoded.type == "next" and isinstance(decoded.payload, ExecutionResult):
            outcomes["data"] += 1
            if decoded.payload.data is None:
                continue
            data = decoded.payload.data
        else:
            outcomes["housekeeping"] += 1
            continue
        if decoded.id in handlers:
            handlers[decoded.id].deliver(data)

    summary = ", ".join(f"{n:,} {what}" for what, n in sorted(outcomes.items()))
    record_property("fuzz", f"{DECODED_FRAMES:,} frames decoded: {summary}")
    assert sum(outcomes.values()) == DECODED_FRAMES
    # Every kind came up, and the handlers took updates from what was left.
    assert all(outcomes[kind] > 100 for kind in ("protocol error", "drifted", "data"))
    assert len(updates) > 1000
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_fifteen_hundred_frames_through_a_live_socket(
    simulator: BlinkSimulator,
    harness: Build,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    rng = random.Random(20260101)  # noqa: S311 - reproducible, not secret
    # Hundreds of sockets in seconds: Blink's ingress limit (tested on its own in
    # test_socket_budget.py) would stretch this to hours.
    simulator.ingress.requests_per_minute = None
    h = harness()
    h.my_updates()
    h.realtime_price()
    h.start()
    delivered = 0
    try:
        for _ in range(FRAMES):
            await h.wait_for(
                lambda: (
                    h.ws.connected
                    and any(len(s.subscriptions) >= 2 for s in simulator.sessions)
                ),
                within=10,
            )
            session = next(s for s in simulator.sessions if len(s.subscriptions) >= 2)
            if await session.send_raw(frame(rng, list(session.subscriptions))):
                delivered += 1
            await asyncio.sleep(0)

        # Recovered: both streams carry data again. The last frames may have had
        # a stream resubscribed a moment ago, so allow it a few tries.
        await h.streaming()
        for attempt in range(50):
            prices, payments = len(h.prices), len(h.payments)
            await simulator.set_price(100_000 + attempt)
            await simulator.receive_lightning(99)
            with contextlib.suppress(TimeoutError):
                await h.wait_for(
                    lambda: len(h.prices) > prices and len(h.payments) > payments,  # noqa: B023
                    within=0.1,
                )
                break
        else:
            pytest.fail("the streams did not recover")
    finally:
        loop.set_exception_handler(previous_handler)

    record_property("fuzz", f"{delivered:,} frames through a live socket; it recovered")
    assert delivered >= 1000
    assert unhandled == []
    assert h.task is not None
    assert not h.task.done()
    ours = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert [r.getMessage() for r in ours if r.exc_info] == []
    assert [r.getMessage() for r in ours if r.levelno >= logging.ERROR] == []
    assert simulator.stats.ws_connections > 50  # the malformed ones replaced it
