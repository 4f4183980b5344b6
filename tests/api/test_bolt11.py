"""Reading BOLT11 payment requests: BOLT #11's own examples, then drifted input.

The valid examples were written and signed by the specification's reference
encoder; the hand-made ones are built with the simulator's bech32 writer, so
that each malformation is the only thing wrong with them.
"""

from datetime import UTC, datetime, timedelta
import hashlib

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.blink_wallet.api import (
    BlinkError,
    BlinkInvoiceAmountError,
    BlinkInvoiceError,
    Bolt11Invoice,
    decode_bolt11,
)
from custom_components.blink_wallet.api.bolt11 import MAX_LENGTH
from tests.simulator import bolt11 as writer

from . import bolt11_vectors as spec

COFFEE_BEANS = "coffee beans"


@pytest.mark.parametrize(
    ("request_", "prefix", "amount_msat", "description", "expiry"),
    [
        (
            spec.DONATION,
            "lnbc",
            None,
            "Please consider supporting this project",
            3600,
        ),
        (spec.COFFEE, "lnbc", 250_000_000, "1 cup coffee", 60),
        (spec.NONSENSE, "lnbc", 250_000_000, "ナンセンス 1杯", 60),
        (spec.HASHED_DESCRIPTION, "lnbc", 2_000_000_000, None, 3600),
        (spec.TESTNET, "lntb", 2_000_000_000, None, 3600),
        (spec.ROUTE_HINTS, "lnbc", 2_000_000_000, None, 3600),
        (spec.FEATURES, "lnbc", 2_500_000_000, COFFEE_BEANS, 3600),
        (spec.UPPER_CASE, "lnbc", 2_500_000_000, COFFEE_BEANS, 3600),
        (spec.IGNORED_FIELDS, "lnbc", 2_500_000_000, COFFEE_BEANS, 3600),
        (spec.METADATA, "lnbc", 1_000_000_000, "payment metadata inside", 3600),
    ],
    ids=[
        "donation",
        "coffee",
        "nonsense",
        "hashed",
        "testnet",
        "route-hints",
        "features",
        "upper-case",
        "ignored-fields",
        "metadata",
    ],
)
def test_the_specification_examples_decode(
    request_: str,
    prefix: str,
    amount_msat: int | None,
    description: str | None,
    expiry: int,
) -> None:
    invoice = decode_bolt11(request_)

    assert invoice.network_prefix == prefix
    assert invoice.amount_msat == amount_msat
    assert invoice.description == description
    assert invoice.expiry == timedelta(seconds=expiry)
    assert invoice.timestamp == datetime.fromtimestamp(spec.SPEC_TIMESTAMP, UTC)
    assert invoice.payment_hash == spec.SPEC_HASH
    assert invoice.payment_request == request_.lower()
    assert invoice.payee is None


def test_amounts_in_every_unit_become_millisatoshis() -> None:
    assert decode_bolt11(spec.COFFEE).amount_sats == 250_000  # 2500u
    assert decode_bolt11(spec.HASHED_DESCRIPTION).amount_sats == 2_000_000  # 20m
    assert decode_bolt11(spec.PICO_AMOUNT).amount_msat == 967_878_534  # ...340p


def test_an_amountless_invoice_has_no_amount_in_sats() -> None:
    invoice = decode_bolt11(spec.DONATION)

    assert invoice.amount_msat is None
    assert invoice.amount_sats is None


def test_an_amount_below_a_sat_is_refused_as_such() -> None:
    invoice = decode_bolt11(spec.PICO_AMOUNT)

    with pytest.raises(BlinkInvoiceAmountError, match="967878534 msat"):
        _ = invoice.amount_sats
    assert issubclass(BlinkInvoiceAmountError, BlinkInvoiceError)


def test_expiry_and_expires_at() -> None:
    invoice = decode_bolt11(spec.PICO_AMOUNT)
    issued = datetime.fromtimestamp(1572468703, UTC)

    assert invoice.timestamp == issued
    assert invoice.expiry == timedelta(weeks=1)
    assert invoice.expires_at == issued + timedelta(weeks=1)
    assert invoice.payment_hash == (
        "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f"
    )
    assert invoice.is_expired()
    assert not invoice.is_expired(issued + timedelta(days=6))
    assert invoice.is_expired(issued + timedelta(weeks=1))


def test_a_lightning_uri_and_blanks_are_accepted() -> None:
    invoice = decode_bolt11(f"  LIGHTNING:{spec.COFFEE.upper()}\n")

    assert invoice.payment_request == spec.COFFEE
    assert invoice.amount_sats == 250_000


def test_fields_of_the_wrong_length_are_skipped() -> None:
    # p, h, s and n fields of 51 and 53 words come after the real ones
    invoice = decode_bolt11(spec.IGNORED_FIELDS)

    assert invoice.payment_hash == spec.SPEC_HASH
    assert invoice.payee is None


def test_the_payee_is_read_when_present() -> None:
    node_id = bytes.fromhex(spec.SPEC_NODE_ID)
    request = _signed(fields=[("p", bytes.fromhex(spec.SPEC_HASH)), ("n", node_id)])

    assert decode_bolt11(request).payee == spec.SPEC_NODE_ID


@pytest.mark.parametrize(
    "request_",
    [
        spec.BAD_CHECKSUM,
        spec.NO_SEPARATOR,
        spec.MIXED_CASE,
        spec.TOO_SHORT,
        spec.BAD_MULTIPLIER,
        spec.SUB_MSAT,
    ],
    ids=["checksum", "no-1", "mixed-case", "too-short", "multiplier", "sub-msat"],
)
def test_the_specification_invalid_examples_are_refused(request_: str) -> None:
    with pytest.raises(BlinkInvoiceError):
        decode_bolt11(request_)


# --- hand-made malformations -----------------------------------------------------


def _signed(
    *,
    prefix: str = "lnbc",
    amount_msat: int | None = 1_000,
    fields: list[writer.Field] | None = None,
) -> str:
    """A signed request whose fields are exactly `fields`."""
    return writer.encode(
        prefix=prefix,
        amount_msat=amount_msat,
        timestamp=spec.SPEC_TIMESTAMP,
        fields=[("p", bytes.fromhex(spec.SPEC_HASH))] if fields is None else fields,
    )


def _raw(hrp: str, words: list[int]) -> str:
    """A bech32 string with a valid checksum around arbitrary words."""
    return writer.bech32_encode(hrp, words)


TIMESTAMP_WORDS = [0] * 7
SIGNATURE_WORDS = [0] * 104


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        ("", "not bech32"),
        ("lnbc1", "not bech32"),
        ("lnbc1qqqqqb", "character"),
        ("1qqqqqqqq", "not bech32"),
        (_raw("lnbc", [0] * 50), "too short"),
        (_raw("bc", [0] * 120), "does not start like"),
        (_raw("lnbc010u", [0] * 120), "leading zeros"),
        (_raw("lnbc0", [0] * 120), "leading zeros"),
        (_raw("lnbc10", [0] * 120), "payment hash"),  # 10 BTC, no fields
        (_raw("lnbc", [*TIMESTAMP_WORDS, 1, 0, *SIGNATURE_WORDS]), "inside a field"),
        (_raw("lnbc", [*TIMESTAMP_WORDS, 1, 0, 9, *SIGNATURE_WORDS]), "past its end"),
        ("lnbc1" + "q" * MAX_LENGTH, "too long"),
    ],
    ids=[
        "empty",
        "nothing",
        "bad-character",
        "no-prefix",
        "short",
        "not-lightning",
        "leading-zero",
        "zero",
        "no-hash",
        "cut-field",
        "long-field",
        "too-long",
    ],
)
def test_malformed_requests_are_refused(request_: str, reason: str) -> None:
    with pytest.raises(BlinkInvoiceError, match=reason):
        decode_bolt11(request_)


def test_a_description_that_is_not_utf8_is_refused() -> None:
    request = _signed(fields=[("p", bytes.fromhex(spec.SPEC_HASH)), ("d", b"\xff\xfe")])

    with pytest.raises(BlinkInvoiceError, match="UTF-8"):
        decode_bolt11(request)


def test_an_expiry_beyond_any_calendar_is_refused() -> None:
    request = _signed(fields=[("p", bytes.fromhex(spec.SPEC_HASH)), ("x", 2**60)])

    with pytest.raises(BlinkInvoiceError, match="out of range"):
        decode_bolt11(request)


def test_a_hash_of_another_length_is_no_hash() -> None:
    request = _signed(fields=[("p", bytes(31))])

    with pytest.raises(BlinkInvoiceError, match="payment hash"):
        decode_bolt11(request)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_decodes_or_raises_the_typed_error(text: str) -> None:
    try:
        invoice = decode_bolt11(text)
    except BlinkInvoiceError:
        return
    assert isinstance(invoice, Bolt11Invoice)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(spec.COFFEE) - 1),
    st.sampled_from(writer.CHARSET + "1B"),
)
def test_a_mistyped_character_is_always_caught(position: int, typo: str) -> None:
    original = spec.COFFEE
    mistyped = original[:position] + typo + original[position + 1 :]
    if mistyped == original:
        return

    with pytest.raises(BlinkInvoiceError):
        decode_bolt11(mistyped)


@settings(max_examples=40, deadline=None)
@given(
    amount_msat=st.none() | st.integers(min_value=1, max_value=21 * 10**18),
    timestamp=st.integers(min_value=0, max_value=2**35 - 1),
    expiry=st.none() | st.integers(min_value=0, max_value=10**9),
    description=st.none() | st.text(max_size=300),
    preimage=st.binary(min_size=32, max_size=32),
)
def test_what_the_simulator_writes_reads_back(
    amount_msat: int | None,
    timestamp: int,
    expiry: int | None,
    description: str | None,
    preimage: bytes,
) -> None:
    payment_hash = hashlib.sha256(preimage).digest()
    fields: list[writer.Field] = [("p", payment_hash), ("s", preimage)]
    if description is not None:
        fields.append(("d", description.encode()))
    if expiry is not None:
        fields.append(("x", expiry))
    request = writer.encode(
        prefix="lnbc", amount_msat=amount_msat, timestamp=timestamp, fields=fields
    )

    invoice = decode_bolt11(request)

    assert invoice.amount_msat == amount_msat
    assert invoice.timestamp == datetime.fromtimestamp(timestamp, UTC)
    assert invoice.expiry == timedelta(seconds=3600 if expiry is None else expiry)
    assert invoice.description == description
    assert invoice.payment_hash == payment_hash.hex()


def test_the_error_is_a_blink_error_not_a_value_error() -> None:
    with pytest.raises(BlinkError) as caught:
        decode_bolt11("definitely not an invoice")

    assert not isinstance(caught.value, ValueError | KeyError)
