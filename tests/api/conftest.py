"""Fixtures of the API client tests: sessions and purpose-built loopback servers.

The client knows nothing of Home Assistant, so these tests run without `hass`.
The `simulator` fixture comes from tests.simulator.fixtures (see tests/conftest.py).
"""

from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from tests.simulator import TEST_API_KEY, BlinkSimulator

from .harness import Harness


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """Override the suite-wide fixture: no Home Assistant instance is needed here."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) and yield its base URL."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def harness(
    session: aiohttp.ClientSession,
    simulator: BlinkSimulator,
) -> AsyncIterator[Callable[..., Harness]]:
    """Build Harnesses on the simulator; every one is closed after the test."""
    built: list[Harness] = []

    def build(api_key: str = TEST_API_KEY, **kwargs: Any) -> Harness:
        made = Harness(session, simulator.http_url, simulator.ws_url, api_key, **kwargs)
        built.append(made)
        return made

    yield build
    for made in built:
        await made.stop()
