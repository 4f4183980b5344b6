"""Fixtures of the API client tests: sessions and purpose-built loopback servers.

The client knows nothing of Home Assistant, so these tests run without `hass`.
"""

from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
import pytest


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
