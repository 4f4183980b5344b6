"""Pytest plugin: the `simulator` fixture (register with `pytest_plugins`)."""

from collections.abc import AsyncGenerator

import pytest

from .simulator import BlinkSimulator


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[BlinkSimulator]:
    """A started BlinkSimulator on 127.0.0.1 (random port), key `test-key`.

    The key has every scope. Teardown closes every socket and stops the server.
    """
    sim = BlinkSimulator()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()
