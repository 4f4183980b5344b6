"""BOLT11 payment requests, written and signed the way Lightning nodes do.

The simulator's invoices are real: bech32 without the 90-character limit, the
amount in the human-readable part, tagged fields, and a recoverable secp256k1
signature (RFC 6979 nonces, low S) by a fixed test node key. Given the same
fields and key, `encode` reproduces the examples of BOLT #11 character for
character, so any wallet library reads what it writes.

Pure Python on purpose: the BOLT11 libraries on PyPI need `coincurve`, which has
no wheel for every Python the project runs on. The curve arithmetic here is the
textbook one; it signs test invoices, it guards no money.

`decode` is the simulator's own small reader (amount, hash, expiry, memo), kept
apart from the client's decoder so that each checks the other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
import hashlib
import hmac
import re

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

# secp256k1
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)

# The simulated Blink node; its key is public by design (tests only).
NODE_PRIVATE_KEY = int.from_bytes(hashlib.sha256(b"blink simulator node").digest())
DEFAULT_EXPIRY = 3600
# var_onion_optin (8) and payment_secret (14), both compulsory: what nodes set.
FEATURES = (1 << 8) | (1 << 14)
MIN_FINAL_CLTV_EXPIRY = 80

# BTC amounts in the human-readable part, per unit suffix, in pico-bitcoin.
_PICO_PER_UNIT = {"": 10**12, "m": 10**9, "u": 10**6, "n": 10**3, "p": 1}
_PICO_PER_MSAT = 10

type Field = tuple[str, bytes | int]


# --- bech32 (BIP 173), without the 90-character limit -------------------------


def _polymod(values: Sequence[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            checksum ^= generator if (top >> i) & 1 else 0
    return checksum


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_encode(hrp: str, words: Sequence[int]) -> str:
    """`hrp`, the separator, the 5-bit words and their checksum."""
    polymod = _polymod([*_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in [*words, *checksum])


def bech32_decode(text: str) -> tuple[str, list[int]]:
    """The human-readable part and the 5-bit words; ValueError if malformed."""
    if text.lower() != text and text.upper() != text:
        msg = "mixed case"
        raise ValueError(msg)
    text = text.lower()
    hrp, separator, data = text.rpartition("1")
    if not separator or not hrp or len(data) < 6:
        msg = "no separator or no checksum"
        raise ValueError(msg)
    if any(c not in CHARSET for c in data):
        msg = "not a bech32 character"
        raise ValueError(msg)
    words = [CHARSET.index(c) for c in data]
    if _polymod([*_expand(hrp), *words]) != 1:
        msg = "bad checksum"
        raise ValueError(msg)
    return hrp, words[:-6]


def to_words(data: bytes) -> list[int]:
    """Bytes as 5-bit words, the last one zero-padded."""
    bits = int.from_bytes(data) << (-8 * len(data)) % 5
    count = (8 * len(data) + 4) // 5
    return [(bits >> 5 * (count - 1 - i)) & 31 for i in range(count)]


def from_words(words: Sequence[int], *, pad: bool = False) -> bytes:
    """5-bit words as bytes: the bits left over dropped, or zero-padded to a byte."""
    value = 0
    for word in words:
        value = value << 5 | word
    size, spare = divmod(5 * len(words), 8)
    if pad and spare:
        return (value << 8 - spare).to_bytes(size + 1)
    return (value >> spare).to_bytes(size)


def _int_words(value: int) -> list[int]:
    """An unsigned integer in as few 5-bit words as it needs (none for 0)."""
    words: list[int] = []
    while value:
        words.insert(0, value & 31)
        value >>= 5
    return words


# --- secp256k1 ------------------------------------------------------------------

type _Jacobian = tuple[int, int, int]


def _double(p: _Jacobian) -> _Jacobian:
    # secp256k1 has no point of order 2: y is never 0
    x, y, z = p
    s = 4 * x * y * y % _P
    m = 3 * x * x % _P
    nx = (m * m - 2 * s) % _P
    return (nx, (m * (s - nx) - 8 * y**4) % _P, 2 * y * z % _P)


def _add(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    """P + Q, for Q never the point at infinity nor ±P (as in `_multiply`)."""
    if not p[2]:
        return q
    u1, u2 = p[0] * q[2] ** 2 % _P, q[0] * p[2] ** 2 % _P
    s1, s2 = p[1] * q[2] ** 3 % _P, q[1] * p[2] ** 3 % _P
    h, r = u2 - u1, s2 - s1
    h2 = h * h % _P
    h3 = h * h2 % _P
    x = (r * r - h3 - 2 * u1 * h2) % _P
    return (x, (r * (u1 * h2 - x) - s1 * h3) % _P, h * p[2] * q[2] % _P)


def _multiply(k: int, point: tuple[int, int] = _G) -> tuple[int, int]:
    """k·P for 0 < k < n: the partial sum stays below each power of two added."""
    result: _Jacobian = (0, 0, 0)
    addend: _Jacobian = (point[0], point[1], 1)
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    x, y, z = result
    inverse = pow(z, -1, _P)
    return x * inverse**2 % _P, y * inverse**3 % _P


def public_key(private_key: int) -> bytes:
    """The compressed public key (33 bytes) of `private_key`."""
    x, y = _multiply(private_key)
    return bytes([2 + (y & 1)]) + x.to_bytes(32)


def _nonce(private_key: int, digest: bytes) -> int:
    """RFC 6979 with HMAC-SHA256, as libsecp256k1 derives it (no extra data)."""
    v, k = b"\x01" * 32, b"\x00" * 32
    seed = private_key.to_bytes(32) + digest
    for marker in (b"\x00", b"\x01"):
        k = hmac.digest(k, v + marker + seed, "sha256")
        v = hmac.digest(k, v, "sha256")
    while True:
        v = hmac.digest(k, v, "sha256")
        nonce = int.from_bytes(v)
        if 0 < nonce < _N:
            return nonce
        k = hmac.digest(k, v + b"\x00", "sha256")  # pragma: no cover - p < 2^-127
        v = hmac.digest(k, v, "sha256")  # pragma: no cover


def sign_recoverable(private_key: int, digest: bytes) -> bytes:
    """r, s (low S) and the recovery id: the 65 bytes BOLT11 carries."""
    nonce = _nonce(private_key, digest)
    rx, ry = _multiply(nonce)
    r = rx % _N
    s = pow(nonce, -1, _N) * (int.from_bytes(digest) + r * private_key) % _N
    recovery = (ry & 1) | (2 if rx >= _N else 0)
    if s > _N // 2:
        s, recovery = _N - s, recovery ^ 1
    return r.to_bytes(32) + s.to_bytes(32) + bytes([recovery])


# --- payment requests ---------------------------------------------------------------


def amount_part(amount_msat: int | None) -> str:
    """The shortest human-readable amount (empty for an amountless invoice)."""
    if amount_msat is None:
        return ""
    value, unit = amount_msat * _PICO_PER_MSAT, "p"
    for bigger in ("n", "u", "m", ""):
        if value % 1000:
            break
        value, unit = value // 1000, bigger
    return f"{value}{unit}"


def _field_words(tag: str, data: bytes | int) -> list[int]:
    words = _int_words(data) if isinstance(data, int) else to_words(data)
    return [CHARSET.index(tag), len(words) >> 5, len(words) & 31, *words]


def encode(
    *,
    prefix: str,
    amount_msat: int | None,
    timestamp: int,
    fields: Sequence[Field],
    private_key: int = NODE_PRIVATE_KEY,
) -> str:
    """A signed payment request with `fields` in the order given.

    Bytes fields (p, s, d, h, n) are packed as bytes; int fields (x, c, 9) as
    big-endian integers in as few words as they need.
    """
    hrp = prefix + amount_part(amount_msat)
    words = [(timestamp >> 5 * (6 - i)) & 31 for i in range(7)]
    for tag, data in fields:
        words += _field_words(tag, data)
    digest = hashlib.sha256(hrp.encode() + from_words(words, pad=True)).digest()
    return bech32_encode(hrp, words + to_words(sign_recoverable(private_key, digest)))


def invoice_fields(
    *,
    payment_hash: str,
    payment_secret: str,
    memo: str | None,
    expiry: int,
) -> list[Field]:
    """The fields of an invoice the simulated Blink issues (memo as description)."""
    fields: list[Field] = [
        ("p", bytes.fromhex(payment_hash)),
        ("s", bytes.fromhex(payment_secret)),
    ]
    if memo:
        fields.append(("d", memo.encode()))
    fields += [("x", expiry), ("c", MIN_FINAL_CLTV_EXPIRY), ("9", FEATURES)]
    return fields


@dataclass(frozen=True, slots=True)
class Decoded:
    """What the simulator reads from a payment request it is asked to pay."""

    prefix: str
    amount_msat: int | None
    timestamp: int
    payment_hash: str
    expiry: int
    description: str | None


_HRP = re.compile(r"(ln[a-z]+?)(?:([1-9][0-9]*)([munp]?))?")
_SIGNATURE_WORDS = 104


def decode(request: str) -> Decoded:
    """Read a payment request; ValueError when it is not one."""
    hrp, words = bech32_decode(request)
    match = _HRP.fullmatch(hrp)
    if match is None or len(words) < 7 + _SIGNATURE_WORDS:
        msg = "not a BOLT11 payment request"
        raise ValueError(msg)
    prefix, digits, unit = match.groups()
    amount_msat = None
    if digits is not None:
        pico = int(digits) * _PICO_PER_UNIT[unit]
        if pico % _PICO_PER_MSAT:
            msg = "amount below a millisatoshi"
            raise ValueError(msg)
        amount_msat = pico // _PICO_PER_MSAT
    data = words[:-_SIGNATURE_WORDS]
    timestamp = int("".join(f"{w:05b}" for w in data[:7]), 2)
    fields: dict[str, list[int]] = {}
    rest = data[7:]
    while rest:
        if len(rest) < 3:  # a tag and two length words
            msg = "truncated field"
            raise ValueError(msg)
        size = rest[1] << 5 | rest[2]
        fields.setdefault(CHARSET[rest[0]], rest[3 : 3 + size])
        rest = rest[3 + size :]
    payment_hash = from_words(fields.get("p", []))
    if len(payment_hash) != 32:  # sha256
        msg = "no payment hash"
        raise ValueError(msg)
    expiry = DEFAULT_EXPIRY
    if "x" in fields:
        expiry = int("".join(f"{w:05b}" for w in fields["x"]) or "0", 2)
    return Decoded(
        prefix=prefix,
        amount_msat=amount_msat,
        timestamp=timestamp,
        payment_hash=payment_hash.hex(),
        expiry=expiry,
        description=from_words(fields["d"]).decode() if "d" in fields else None,
    )
