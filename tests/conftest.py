"""Fixtures shared by every test."""

from collections.abc import Generator

import pytest

# Import the integration before any `hass` fixture runs, so Home Assistant resolves
# `custom_components` to this repository and not to the harness's own folder.
import custom_components.blink_wallet  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load integrations from custom_components/."""
    return (yield)
