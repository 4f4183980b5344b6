"""When an entry may announce events: from Home Assistant's start until unload."""

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.start import async_at_started


class AnnounceGate:
    """Opens once Home Assistant has started (automations are armed); closes for good.

    Whatever arises before it opens is held by its owner and released through
    `on_open`; once closed (the entry unloads) nothing more is announced.
    """

    def __init__(self, hass: HomeAssistant, on_open: Callable[[], None]) -> None:
        """Call `on_open` when the gate opens."""
        self._hass = hass
        self._on_open = on_open
        self.open = False
        self.closed = False

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Open once Home Assistant has started; returns the unsubscribe."""
        return async_at_started(self._hass, self._async_started)

    async def _async_started(self, _: HomeAssistant) -> None:
        if not self.closed:
            self.open = True
            self._on_open()

    @callback
    def async_close(self) -> None:
        """Announce nothing more."""
        self.closed = True
        self.open = False
