"""Reading BOLT11 payment requests: what an invoice asks for, before paying it.

Blink verifies the signature when it pays, so this reader does not: it only
tells the caller what the request says (amount, network, payment hash, expiry,
description), so that limits can be checked before anything is sent. Anything
that is not a well-formed BOLT11 request raises `BlinkInvoiceError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re
from typing import Final

from .exceptions import BlinkInvoiceAmountError, BlinkInvoiceError

_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES: Final = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# lnd's limit; BOLT11 has none, but nothing sensible comes near it.
MAX_LENGTH: Final = 7089
DEFAULT_EXPIRY: Final = timedelta(seconds=3600)
_URI_SCHEME: Final = "lightning:"
_CHECKSUM_WORDS: Final = 6
_TIMESTAMP_WORDS: Final = 7
_SIGNATURE_WORDS: Final = 104  # 65 bytes: r, s and the recovery id
_HASH_WORDS: Final = 52  # 256 bits, as BOLT11 requires of `p`
_PAYEE_WORDS: Final = 53  # a 33-byte compressed public key
_MSAT_PER_SAT: Final = 1000
_PICO_PER_MSAT: Final = 10
# Pico-bitcoin per unit of the human-readable amount.
_PICO_PER_UNIT: Final = {"": 10**12, "m": 10**9, "u": 10**6, "n": 10**3, "p": 1}
# "ln", the currency prefix (bc, tb, tbs, bcrt, ...), then an optional amount.
_HRP: Final = re.compile(r"(ln[a-z]+?)(?:([0-9]+)([a-z]?))?")


@dataclass(frozen=True, slots=True)
class Bolt11Invoice:
    """A decoded BOLT11 payment request.

    `payment_request` is the request as Blink expects it (lower case, without a
    `lightning:` prefix); `network_prefix` is `ln` plus the currency prefix:
    `lnbc` on mainnet, `lntbs` on signet. `amount_msat` is None for an
    amountless invoice.
    """

    payment_request: str
    network_prefix: str
    amount_msat: int | None
    timestamp: datetime
    expiry: timedelta
    payment_hash: str
    description: str | None
    payee: str | None = None

    @property
    def amount_sats(self) -> int | None:
        """The amount in sats; None when the invoice leaves it to the payer.

        Raises BlinkInvoiceAmountError when the amount is not a whole number of
        sats: Blink's wallets count in sats, so such an invoice cannot be paid
        exactly.
        """
        if self.amount_msat is None:
            return None
        sats, rest = divmod(self.amount_msat, _MSAT_PER_SAT)
        if rest:
            msg = f"The invoice asks for {self.amount_msat} msat, not whole sats"
            raise BlinkInvoiceAmountError(msg)
        return sats

    @property
    def expires_at(self) -> datetime:
        """When the invoice stops being payable: its timestamp plus its expiry."""
        return self.timestamp + self.expiry

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether the invoice has expired at `now` (default: the current time)."""
        return (now or datetime.now(UTC)) >= self.expires_at


def decode_bolt11(payment_request: str) -> Bolt11Invoice:
    """Read a BOLT11 payment request; BlinkInvoiceError if it is not one."""
    text = payment_request.strip()
    if text[: len(_URI_SCHEME)].lower() == _URI_SCHEME:
        text = text[len(_URI_SCHEME) :]
    if len(text) > MAX_LENGTH:
        msg = "The payment request is too long"
        raise BlinkInvoiceError(msg)
    hrp, words = _bech32(text)
    prefix, amount_msat = _human_readable_part(hrp)
    if len(words) < _TIMESTAMP_WORDS + _SIGNATURE_WORDS:
        msg = "The payment request is too short"
        raise BlinkInvoiceError(msg)
    data = words[:-_SIGNATURE_WORDS]
    timestamp = _integer(data[:_TIMESTAMP_WORDS])
    fields = _tagged_fields(data[_TIMESTAMP_WORDS:])

    payment_hash = _fixed(fields, "p", _HASH_WORDS)
    if payment_hash is None:
        msg = "The payment request has no payment hash"
        raise BlinkInvoiceError(msg)
    description = None
    if "d" in fields:
        try:
            description = _bytes(fields["d"][0]).decode()
        except UnicodeDecodeError:
            msg = "The payment request's description is not UTF-8"
            raise BlinkInvoiceError(msg) from None
    expiry = DEFAULT_EXPIRY
    try:
        if "x" in fields:
            expiry = timedelta(seconds=_integer(fields["x"][0]))
        invoice = Bolt11Invoice(
            payment_request=text.lower(),
            network_prefix=prefix,
            amount_msat=amount_msat,
            timestamp=datetime.fromtimestamp(timestamp, UTC),
            expiry=expiry,
            payment_hash=payment_hash,
            description=description,
            payee=_fixed(fields, "n", _PAYEE_WORDS),
        )
        invoice.expires_at  # noqa: B018 - it must be a representable moment
    except OverflowError, ValueError, OSError:
        msg = "The payment request's time or expiry is out of range"
        raise BlinkInvoiceError(msg) from None
    return invoice


def _bech32(text: str) -> tuple[str, list[int]]:
    """Split and check a bech32 string (any length); return hrp and data words."""
    if text != text.lower() and text != text.upper():
        msg = "The payment request mixes upper and lower case"
        raise BlinkInvoiceError(msg)
    text = text.lower()
    hrp, separator, data = text.rpartition("1")
    if not separator or not hrp or len(data) < _CHECKSUM_WORDS:
        msg = "The payment request is not bech32"
        raise BlinkInvoiceError(msg)
    try:
        words = [_VALUES[c] for c in data]
    except KeyError:
        msg = "The payment request has a character bech32 does not use"
        raise BlinkInvoiceError(msg) from None
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    if _polymod(expanded + words) != 1:
        msg = "The payment request's checksum is wrong (mistyped or cut short?)"
        raise BlinkInvoiceError(msg)
    return hrp, words[:-_CHECKSUM_WORDS]


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _human_readable_part(hrp: str) -> tuple[str, int | None]:
    """Return the network prefix and the amount in msat (None without one)."""
    match = _HRP.fullmatch(hrp)
    if match is None:
        msg = "The payment request does not start like a Lightning invoice"
        raise BlinkInvoiceError(msg)
    prefix, digits, unit = match.groups()
    if digits is None:
        return prefix, None
    if unit not in _PICO_PER_UNIT:
        msg = f"The payment request's amount has an unknown unit {unit!r}"
        raise BlinkInvoiceError(msg)
    if digits.startswith("0"):
        msg = "The payment request's amount is zero or has leading zeros"
        raise BlinkInvoiceError(msg)
    pico = int(digits) * _PICO_PER_UNIT[unit]
    if pico % _PICO_PER_MSAT:
        msg = "The payment request's amount is a fraction of a millisatoshi"
        raise BlinkInvoiceError(msg)
    return prefix, pico // _PICO_PER_MSAT


def _tagged_fields(words: list[int]) -> dict[str, list[list[int]]]:
    """Every tagged field, by tag, in order; unknown tags are kept and ignored."""
    fields: dict[str, list[list[int]]] = {}
    position = 0
    while position < len(words):
        if position + 3 > len(words):
            msg = "The payment request ends inside a field"
            raise BlinkInvoiceError(msg)
        tag = _CHARSET[words[position]]
        size = words[position + 1] << 5 | words[position + 2]
        start, position = position + 3, position + 3 + size
        if position > len(words):
            msg = "A field of the payment request runs past its end"
            raise BlinkInvoiceError(msg)
        fields.setdefault(tag, []).append(words[start:position])
    return fields


def _fixed(fields: dict[str, list[list[int]]], tag: str, size: int) -> str | None:
    """Return the first `tag` field of the right length as hex (BOLT11 skips others)."""
    for words in fields.get(tag, ()):
        if len(words) == size:
            return _bytes(words).hex()
    return None


def _integer(words: list[int]) -> int:
    value = 0
    for word in words:
        value = value << 5 | word
    return value


def _bytes(words: list[int]) -> bytes:
    """5-bit words as bytes; the bits that do not fill a byte are padding."""
    size, spare = divmod(5 * len(words), 8)
    return (_integer(words) >> spare).to_bytes(size)
