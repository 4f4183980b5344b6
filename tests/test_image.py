"""The QR code image entities, decoded as a phone would read them."""

from http import HTTPStatus
import io

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
import zxingcpp

from custom_components.blink_wallet.const import (
    CONF_LIGHTNING_ADDRESS_DOMAIN,
    DOMAIN,
)
from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator

RECEIVE_QR = "image.satoshi_receive_qr_code"
LATEST_INVOICE_QR = "image.satoshi_latest_invoice_qr_code"


async def fetch_qr(hass_client: ClientSessionGenerator, entity_id: str) -> str:
    """Fetch the entity's image through the image proxy and decode its QR code."""
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{entity_id}")
    assert response.status == HTTPStatus.OK
    assert response.content_type == "image/png"
    image = Image.open(io.BytesIO(await response.read()))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


async def test_image_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The registry entries (the states carry access tokens and times)."""
    entries = er.async_entries_for_config_entry(
        entity_registry, init_integration.entry_id
    )
    images = sorted(
        (entry for entry in entries if entry.domain == "image"),
        key=lambda entry: entry.entity_id,
    )
    assert [entry.entity_id for entry in images] == [LATEST_INVOICE_QR, RECEIVE_QR]
    for entry in images:
        assert entry == snapshot(name=f"{entry.entity_id}-entry")


async def test_receive_qr_is_the_lightning_address(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    assert state_of(hass, RECEIVE_QR) != STATE_UNAVAILABLE
    assert (
        await fetch_qr(hass_client, RECEIVE_QR) == "lightning:satoshi@blink.localhost"
    )
    # Rendered once, served from then on.
    assert (
        await fetch_qr(hass_client, RECEIVE_QR) == "lightning:satoshi@blink.localhost"
    )


async def test_no_receive_qr_without_a_lightning_address(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_LIGHTNING_ADDRESS_DOMAIN: ""},
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(RECEIVE_QR) is None
    assert hass.states.get(LATEST_INVOICE_QR) is not None
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_latest_invoice_qr_follows_the_open_invoice(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    assert state_of(hass, LATEST_INVOICE_QR) == STATE_UNAVAILABLE
    coordinator = init_integration.runtime_data
    assert coordinator.invoices.latest is None

    first = await hass.services.async_call(
        DOMAIN,
        "create_invoice",
        {"config_entry_id": init_integration.entry_id, "amount": 100},
        blocking=True,
        return_response=True,
    )
    assert isinstance(first, dict)
    await hass.async_block_till_done()
    assert state_of(hass, LATEST_INVOICE_QR) != STATE_UNAVAILABLE
    assert await fetch_qr(hass_client, LATEST_INVOICE_QR) == (
        f"lightning:{first['payment_request']}"
    )

    second = await hass.services.async_call(
        DOMAIN,
        "create_invoice",
        {"config_entry_id": init_integration.entry_id, "amount": 200},
        blocking=True,
        return_response=True,
    )
    assert isinstance(second, dict)
    await hass.async_block_till_done()
    assert await fetch_qr(hass_client, LATEST_INVOICE_QR) == (
        f"lightning:{second['payment_request']}"
    )

    # Paying the older one leaves the latest shown; paying the latest clears it.
    await simulator.pay_invoice(str(first["payment_request"]))
    await wait_until(lambda: coordinator.invoices.open_count == 1)
    assert state_of(hass, LATEST_INVOICE_QR) != STATE_UNAVAILABLE
    await simulator.pay_invoice(str(second["payment_request"]))
    await wait_until(lambda: state_of(hass, LATEST_INVOICE_QR) == STATE_UNAVAILABLE)
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{LATEST_INVOICE_QR}")
    assert response.status != HTTPStatus.OK
