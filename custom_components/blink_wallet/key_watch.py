"""A refused API key: ask the user for a new one, and keep asking Blink about this one.

An outage of Blink's key service looks exactly like a revoked key (a 401), except
that it ends (core/api-keys/src/graphql/convert.rs answers 500 on any database
error; Blink's gateway makes that a 401). So a refusal starts the reauth flow and
the same key is checked again after 1, 2 and 4 minutes, then every 5; accepted
again, the flow is aborted and the entry resumes by itself. At setup, Home
Assistant retries a setup that is not ready after 5, 10, 20, 40 s, then every
80 s: a key refused then is not presented again within a minute.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from .api import BlinkAuthError, BlinkClient, BlinkError
from .const import DOMAIN, LOGGER

# A refused key is asked about again after these waits, then every 5 minutes.
KEY_RECHECK_SECONDS = (60, 120, 240, 300)

# Per entry, the key Blink refused at setup and when.
_REFUSED_AT_SETUP: WeakKeyDictionary[ConfigEntry, tuple[str, datetime]] = (
    WeakKeyDictionary()
)


def _key_refused() -> UpdateFailed:
    return UpdateFailed(translation_domain=DOMAIN, translation_key="invalid_auth")


def check_not_refused_just_now(entry: ConfigEntry) -> None:
    """Do not present a key Blink refused at setup within the last minute."""
    refused = _REFUSED_AT_SETUP.get(entry)
    if (
        refused is not None
        and refused[0] == entry.data[CONF_API_KEY]
        and dt_util.utcnow() - refused[1] < timedelta(seconds=KEY_RECHECK_SECONDS[0])
    ):
        raise _key_refused()


@contextmanager
def setup_errors(hass: HomeAssistant, entry: ConfigEntry) -> Iterator[None]:
    """Refused key: reauthenticate, and retry. Anything else: retry later.

    A refusal is no proof of a revoked key (Blink's own outages look the same,
    what-blink-sends 5): Home Assistant keeps retrying the setup with this key
    while the reauth flow asks for a new one.
    """
    try:
        yield
    except BlinkAuthError as err:
        _REFUSED_AT_SETUP[entry] = (entry.data[CONF_API_KEY], dt_util.utcnow())
        entry.async_start_reauth(hass)
        raise _key_refused() from err
    except BlinkError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err


class KeyWatch:
    """Follows a refused key of one entry until Blink accepts it again."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: BlinkClient,
        on_accepted: Callable[[], None],
    ) -> None:
        """Check the key over `client`; `on_accepted()` once Blink takes it again."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._on_accepted = on_accepted
        self._refused = False
        self._checks = 0
        self._timer: CALLBACK_TYPE | None = None
        self._closed = False

    @callback
    def async_set_up(self) -> None:
        """End the reauth flow of a key refused at setup: it is accepted now."""
        if self._entry in _REFUSED_AT_SETUP:
            self._end_reauth()

    @callback
    def async_refused(self) -> None:
        """Ask for a new key, and keep asking Blink about this one meanwhile."""
        if self._refused or self._closed:
            return  # already checking
        self._refused = True
        LOGGER.warning(
            "Blink refused the API key of %s; asking for a new one, and checking "
            "this one again every few minutes (Blink's own outages look the same)",
            self._entry.title,
        )
        self._entry.async_start_reauth(self._hass)
        self._schedule_check()

    @callback
    def async_stop(self) -> None:
        """Check nothing more (on unload)."""
        self._closed = True
        if self._timer is not None:
            self._timer()
            self._timer = None

    def _schedule_check(self) -> None:
        delay = KEY_RECHECK_SECONDS[min(self._checks, len(KEY_RECHECK_SECONDS) - 1)]
        self._checks += 1

        @callback
        def _due(_: datetime) -> None:
            self._timer = None
            self._entry.async_create_background_task(
                self._hass, self._async_check(), f"{DOMAIN} key check"
            )

        self._timer = async_call_later(self._hass, delay, _due)

    async def _async_check(self) -> None:
        """One HTTP call; accepted again: end the reauth flow and resume."""
        try:
            await self._client.scopes()
        except BlinkError as err:
            if self._closed:
                return
            LOGGER.debug(
                "Blink still refuses the key of %s: %s", self._entry.title, err
            )
            self._schedule_check()
            return
        if self._closed:
            return
        LOGGER.info(
            "Blink accepts the API key of %s again; resuming", self._entry.title
        )
        self._checks = 0
        self._refused = False
        self._end_reauth()
        self._on_accepted()

    @callback
    def _end_reauth(self) -> None:
        """Blink accepts the key again: no new one is needed."""
        _REFUSED_AT_SETUP.pop(self._entry, None)
        for flow in self._hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"entry_id": self._entry.entry_id, "source": "reauth"}
        ):
            self._hass.config_entries.flow.async_abort(flow["flow_id"])
