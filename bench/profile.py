"""Where a frame's CPU goes in the client, without sockets: `python -m bench.profile`.

Captures the benchmark's frame from the simulator, then times, on that frame,
orjson.loads (the floor's parse) against the client's path after the socket has
read the text: the frame decoded into typed structs and dispatched to the
`myUpdates` subscription's handler, which calls back with a `MyUpdate`. Prints a
Markdown table of the best of 7 rounds, then cProfile's functions by own time.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sys
import time
from typing import Final

import aiohttp
import orjson

from custom_components.blink_wallet.api import (
    BlinkClient,
    BlinkWebSocket,
    MyUpdate,
    PaymentUpdate,
)
from custom_components.blink_wallet.api.framing import FrameDecoder
from custom_components.blink_wallet.api.models import SubscriptionData
from tests.simulator import TEST_API_KEY, BlinkSimulator

from .frames import capture

ROUNDS: Final = 7
FRAMES: Final = 20_000


def _best(step: object, frames: list[str]) -> float:
    """Best of ROUNDS passes over `frames`, in µs per frame."""
    assert callable(step)  # noqa: S101 - a benchmark's own argument
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for text in frames:
            step(text)
        best = min(best, (time.perf_counter() - start) / len(frames) * 1e6)
    return best


async def main() -> None:
    """Capture, time, profile, print."""
    simulator = BlinkSimulator()
    await simulator.start()
    try:
        captured = await capture(simulator)
    finally:
        await simulator.stop()
    frames = [captured.template.text("1", seq) for seq in range(FRAMES)]

    got = 0

    def on_update(update: MyUpdate) -> None:
        # What the benchmark's callback does: take the transaction's id.
        nonlocal got
        if isinstance(update.update, PaymentUpdate) and update.update.transaction.id:
            got += 1

    async with aiohttp.ClientSession() as session:
        socket = BlinkWebSocket(
            session, TEST_API_KEY, "ws://127.0.0.1:9", client=BlinkClient(session, "")
        )
    subscription = socket.subscribe_my_updates(on_update)
    decoder = FrameDecoder(SubscriptionData, secret=TEST_API_KEY)

    def client(text: str) -> None:
        frame = decoder.decode(text)
        # What BlinkWebSocket._on_next does with a `next` frame of a known id
        # whose result has data and no errors.
        assert frame.payload.data is not None  # type: ignore[union-attr]  # noqa: S101
        subscription.deliver(frame.payload.data)  # type: ignore[union-attr]

    rows = [
        ("orjson.loads (the floor's parse)", _best(orjson.loads, frames)),
        ("frame decode (msgspec, typed)", _best(decoder.decode, frames)),
        ("decode + handler + callback", _best(client, frames)),
    ]
    lines = [
        f"Frame: {len(frames[0].encode()):,} bytes; best of {ROUNDS} x {FRAMES:,}.",
        "",
        "| step | µs per frame |",
        "| --- | ---: |",
        *(f"| {name} | {micros:.2f} |" for name, micros in rows),
    ]
    profiler = cProfile.Profile()
    profiler.enable()
    for text in frames:
        client(text)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines += ["", "```text", out.getvalue().strip(), "```"]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
