"""Run the simulator on its own: `python -m tests.simulator --port 8899 --key demo-key`.

`--walk` moves the price every few seconds and receives a small payment now and
then, for the demo in scripts/develop. Stops cleanly on SIGINT or SIGTERM.
"""

import argparse
import asyncio
from collections.abc import Sequence
import signal

from .simulator import BlinkSimulator


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--key", default="demo-key", help="the API key to accept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--history", type=int, default=300, help="past payments")
    parser.add_argument(
        "--walk", action="store_true", help="move price, pay now and then"
    )
    parser.add_argument("--price-every", type=float, default=5.0, help="seconds")
    parser.add_argument("--payment-every", type=float, default=30.0, help="seconds")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Serve until `stop` is set."""
    # Blink pings its sockets at the WebSocket level every 12 s.
    sim = BlinkSimulator(
        api_key=args.key, host=args.host, port=args.port, seed=args.seed
    )
    if args.history:
        sim.seed_history(count=args.history, seed=args.seed + 1)
    await sim.start()
    print(f"Blink simulator for @{sim.account.username}", flush=True)  # noqa: T201
    print(f"  HTTP     {sim.http_url}", flush=True)  # noqa: T201
    print(f"  WS       {sim.ws_url}", flush=True)  # noqa: T201
    print(f"  API key  {args.key}", flush=True)  # noqa: T201
    if args.walk:
        sim.start_walk(price_every=args.price_every, payment_every=args.payment_every)
    try:
        await stop.wait()
    finally:
        await sim.stop()
        print("Blink simulator stopped", flush=True)  # noqa: T201


async def serve_until_signalled(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM (from the main thread)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(args, stop)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(serve_until_signalled(parse_args(argv)))


if __name__ == "__main__":  # pragma: no cover - run as a subprocess in the tests
    main()
