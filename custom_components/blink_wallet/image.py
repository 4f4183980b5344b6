"""Image entities: QR codes to receive (Lightning address) and of the latest invoice."""

import io

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
import segno

from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator
from .entity import BlinkWalletEntity

PARALLEL_UPDATES = 0

RECEIVE_QR = ImageEntityDescription(key="receive_qr", translation_key="receive_qr")
LATEST_INVOICE_QR = ImageEntityDescription(
    key="latest_invoice_qr", translation_key="latest_invoice_qr"
)


def render_qr(content: str) -> bytes:
    """Render `content` as a QR code PNG (CPU work: run it in the executor)."""
    buffer = io.BytesIO()
    segno.make_qr(content, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def lightning_uri(target: str) -> str:
    """Return what a wallet app scans: the URI of an invoice or address."""
    return f"lightning:{target}"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlinkWalletConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the QR codes of a Blink account (receive_qr only with an address)."""
    coordinator = entry.runtime_data
    entities: list[BlinkQrImage] = [BlinkQrImage(coordinator, LATEST_INVOICE_QR)]
    if _lightning_address(coordinator) is not None:
        entities.append(BlinkQrImage(coordinator, RECEIVE_QR))
    async_add_entities(entities)


def _lightning_address(coordinator: BlinkWalletCoordinator) -> str | None:
    return coordinator.endpoint.lightning_address(coordinator.data.account.username)


class BlinkQrImage(BlinkWalletEntity, ImageEntity):
    """A QR code as a PNG, rendered when its content changes."""

    _attr_content_type = "image/png"

    def __init__(
        self, coordinator: BlinkWalletCoordinator, description: ImageEntityDescription
    ) -> None:
        """Show the QR code of what `description` names."""
        super().__init__(coordinator, description)
        ImageEntity.__init__(self, coordinator.hass)
        self._content: str | None = None
        self._png: bytes | None = None
        self._update_content()

    def _current(self) -> str | None:
        if self.entity_description.key == RECEIVE_QR.key:
            address = _lightning_address(self.coordinator)
            return None if address is None else lightning_uri(address)
        latest = self.coordinator.invoices.latest
        return None if latest is None else lightning_uri(latest["payment_request"])

    def _update_content(self) -> None:
        content = self._current()
        if content != self._content:
            self._content = content
            self._png = None
            self._attr_image_last_updated = (
                None if content is None else dt_util.utcnow()
            )

    @callback
    def _handle_coordinator_update(self) -> None:
        self._update_content()
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """Unavailable while there is nothing to show (no open invoice)."""
        return super().available and self._content is not None

    async def async_image(self) -> bytes | None:
        """Return the PNG of the current content, rendered off the event loop."""
        content = self._content
        if content is None:
            return None
        if self._png is None:
            png = await self.hass.async_add_executor_job(render_qr, content)
            if content == self._content:
                self._png = png
            return png
        return self._png
