"""The Blink simulator for the browser test, with a small control endpoint.

Run by scripts/e2e through `scripts/python-env exec python -m e2e.simulator ...`. It
serves the bundled simulator (tests.simulator.BlinkSimulator: account "satoshi", a
seeded history) and, on a second loopback port, a control API the browser test uses
to make things happen at a moment of its choosing:

    GET  /health                          200 once both ports listen
    GET  /state                           balances (sats, cents) and the BTC price
    POST /pay   {"amount": 4321, "memo": "..."}
                                          a Lightning payment into the BTC wallet;
                                          answers with its transaction id and the new
                                          balance

Nothing moves on its own (no random walk), so every run sees the same numbers.
Stops cleanly on SIGINT or SIGTERM.
"""

import argparse
import asyncio
import signal
from typing import Any

from aiohttp import web

from tests.simulator import BlinkSimulator


def _state(sim: BlinkSimulator) -> dict[str, Any]:
    account = sim.account
    return {
        "username": account.username,
        "btc_balance": account.btc_wallet.balance,
        "usd_balance": account.usd_wallet.balance,
        "btc_usd": str(sim.price),
    }


def control_app(sim: BlinkSimulator) -> web.Application:
    """Build the control endpoint."""

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def state(_request: web.Request) -> web.Response:
        return web.json_response(_state(sim))

    async def pay(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        amount = int(body.get("amount", 1000))
        if amount <= 0:
            raise web.HTTPBadRequest(text="amount must be positive")
        tx = await sim.receive_lightning(amount, memo=body.get("memo"))
        print(f"e2e simulator: received {amount} sats ({tx.id})", flush=True)  # noqa: T201
        return web.json_response({"transaction_id": tx.id, **_state(sim)})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/state", state)
    app.router.add_post("/pay", pay)
    return app


async def serve(args: argparse.Namespace) -> None:
    """Serve both ports until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Blink pings its sockets at the WebSocket level every 12 s.
    sim = BlinkSimulator(api_key=args.key, port=args.port, seed=0, keepalive=12.0)
    sim.seed_history(count=args.history, seed=1)
    await sim.start()
    runner = web.AppRunner(control_app(sim), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.control_port).start()
    print(  # noqa: T201
        f"e2e simulator: Blink on {sim.http_url}, control on "
        f"http://127.0.0.1:{args.control_port}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await sim.stop()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--key", required=True, help="the API key to accept")
    parser.add_argument("--history", type=int, default=300, help="past payments")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
