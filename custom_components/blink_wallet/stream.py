"""Runs an entry's socket until unload, and acts on the two ways it ends for good.

The socket reconnects by itself through drops and outages; `run()` returns only
when Blink refuses the key (which may be Blink's own outage: the key watch takes
over) or refuses our subscriptions (a wrong endpoint, or Blink changed its API:
a repair issue says so). Either way the data is stale from then on.
"""

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .api import BlinkAuthError, BlinkConfigurationError, BlinkWebSocket
from .const import DOMAIN, LOGGER


class Stream:
    """The background task of one entry's socket."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        websocket: BlinkWebSocket,
        *,
        on_key_refused: Callable[[], None],
        on_ended: Callable[[], None],
    ) -> None:
        """Run `websocket`; `on_key_refused()`, then `on_ended()`, when it stops."""
        self._hass = hass
        self._entry = entry
        self._websocket = websocket
        self._on_key_refused = on_key_refused
        self._on_ended = on_ended
        self.running = False

    @property
    def _issue_id(self) -> str:
        return f"stream_refused_{self._entry.entry_id}"

    @callback
    def async_start(self) -> None:
        """Start the socket (again) as a background task of the entry."""
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
        self.running = True
        self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} stream {self._entry.title}"
        )

    async def _async_run(self) -> None:
        try:
            await self._websocket.run()
        except BlinkAuthError:
            self._on_ended()
            self._on_key_refused()
        except BlinkConfigurationError as err:
            LOGGER.error(
                "Blink refused the live updates of %s: %s", self._entry.title, err
            )
            self._on_ended()
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                self._issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="stream_refused",
                translation_placeholders={
                    "title": self._entry.title,
                    "error": str(err),
                },
            )
        finally:
            self.running = False
