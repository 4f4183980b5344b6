"""A subscriber process: one client, one measurement, its own CPU clock.

`python -m bench.subscriber --client project --mode throughput --frames 20000 ...`

* throughput / latency: receive `--frames` frames, print one JSON result, exit.
  CPU time and wall time run from the first callback to the last, so connecting
  and subscribing are not counted.
* reconnect: print one line per frame received (`seq`, `recv_ns`) and answer
  `sample` (memory, tasks, sockets), `trace` (start tracemalloc) and `stop`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
import gc
import json
import logging
import os
from pathlib import Path
import sys
import time
import tracemalloc
from typing import Any

from .clients import ALL_CLIENTS, Target, runner
from .frames import seq_of
from .pipes import read_lines, say
from .server import digest_of

_PAGE = os.sysconf("SC_PAGE_SIZE")


class Recorder:
    """The callback every client ends in: keep the transaction id and its time."""

    __slots__ = (
        "count",
        "done",
        "expected",
        "first_cpu",
        "first_ns",
        "ids",
        "keep",
        "last_cpu",
        "last_ns",
        "on_frame",
        "recv_ns",
    )

    def __init__(
        self,
        expected: int,
        on_frame: Callable[[str, int], None] | None = None,
        *,
        keep: bool = True,
    ) -> None:
        """Expect `expected` frames (0: any number); `on_frame` sees each one.

        Without `keep` nothing is kept (so that a memory measurement does not
        count the measurement's own lists): `on_frame` reports each frame.
        """
        self.expected = expected
        self.on_frame = on_frame
        self.keep = keep
        self.count = 0
        self.ids: list[str] = []
        self.recv_ns: list[int] = []
        self.done = asyncio.Event()
        self.first_cpu = self.last_cpu = self.first_ns = self.last_ns = 0

    def record(self, transaction_id: str) -> None:
        """Keep one frame's transaction id and when its callback ran."""
        now = time.monotonic_ns()
        if self.keep:
            self.ids.append(transaction_id)
            self.recv_ns.append(now)
        self.count = n = self.count + 1
        if n == 1:
            self.first_cpu = time.process_time_ns()
            self.first_ns = now
        if n == self.expected:
            self.last_cpu = time.process_time_ns()
            self.last_ns = now
            self.done.set()
        if self.on_frame is not None:
            self.on_frame(transaction_id, now)


def resources() -> dict[str, Any]:
    """Memory, asyncio tasks and open sockets of this process, after a full GC."""
    gc.collect()
    rss_pages = int(Path("/proc/self/statm").read_text().split()[1])
    fds = list(Path("/proc/self/fd").iterdir())
    sockets = 0
    for fd in fds:
        try:
            if str(fd.readlink()).startswith("socket:"):
                sockets += 1
        except OSError:
            continue
    return {
        "rss": rss_pages * _PAGE,
        "traced": tracemalloc.get_traced_memory()[0]
        if tracemalloc.is_tracing()
        else None,
        "tasks": len(asyncio.all_tasks()),
        "fds": len(fds),
        "sockets": sockets,
    }


async def measure(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Receive `args.frames` frames and describe how it went."""
    recorder = Recorder(args.frames)
    client = runner(args.client, target, recorder.record)
    task = asyncio.get_running_loop().create_task(client.run())
    try:
        async with asyncio.timeout(args.timeout):
            await recorder.done.wait()
    except TimeoutError:
        pass
    await client.stop()
    await task
    n = len(recorder.ids)
    result: dict[str, Any] = {
        "client": args.client,
        "mode": args.mode,
        "count": n,
        "complete": n == args.frames,
        "digest": digest_of(recorder.ids),
        "wall_ns": recorder.last_ns - recorder.first_ns,
        "cpu_ns": recorder.last_cpu - recorder.first_cpu,
    }
    if args.mode == "latency":
        result["recv_ns"] = recorder.recv_ns
        result["seqs"] = (
            [seq_of(i) for i in recorder.ids] if args.client != "sink" else []
        )
    return result


async def reconnects(args: argparse.Namespace, target: Target) -> None:
    """Report every frame; answer the driver's samples until told to stop."""

    def on_frame(transaction_id: str, now: int) -> None:
        say({"seq": seq_of(transaction_id), "recv_ns": now})

    recorder = Recorder(0, on_frame, keep=False)
    client = runner(args.client, target, recorder.record)
    task = asyncio.get_running_loop().create_task(client.run())
    async for line in read_lines(sys.stdin):
        command = json.loads(line).get("cmd")
        if command == "sample":
            say(resources())
        elif command == "trace":
            tracemalloc.start()
            say({"tracing": True})
        elif command == "stop":
            break
    await client.stop()
    await task
    say({"stopped": True, "frames": recorder.count})


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.subscriber")
    parser.add_argument("--client", choices=ALL_CLIENTS, required=True)
    parser.add_argument(
        "--mode", choices=("throughput", "latency", "reconnect"), required=True
    )
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--frames", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--backoff", type=float, default=0.001)
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    """Run the measurement the arguments ask for."""
    target = Target(
        args.ws_url,
        args.api_url,
        args.api_key,
        reconnect=args.mode == "reconnect",
        backoff=args.backoff,
    )
    if args.mode == "reconnect":
        await reconnects(args, target)
    else:
        say(await measure(args, target))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of a subscriber process."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    main()
