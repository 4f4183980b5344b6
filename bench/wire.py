"""Just enough RFC 6455 for a replay server that must never be the bottleneck.

The server writes pre-encoded text frames straight to the transport (a frame
costs it a `str.format` and a memory copy); it reads only the few small frames a
client sends (`connection_init`, `subscribe`, `ping`, `complete`, close).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
import hashlib
import struct
from typing import Final

GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

_FIN: Final = 0x80
_MASKED: Final = 0x80
_LEN_16: Final = 126
_LEN_64: Final = 127
_MAX_16: Final = 1 << 16
_MASK_LEN: Final = 4


def accept_key(key: str) -> str:
    """Return Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1(key.encode() + GUID, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def encode(payload: bytes, opcode: int = OP_TEXT, mask: bytes | None = None) -> bytes:
    """Encode one unfragmented frame (a server's frames are not masked)."""
    n = len(payload)
    first = _FIN | opcode
    flag = _MASKED if mask is not None else 0
    if n < _LEN_16:
        header = struct.pack("!BB", first, flag | n)
    elif n < _MAX_16:
        header = struct.pack("!BBH", first, flag | _LEN_16, n)
    else:
        header = struct.pack("!BBQ", first, flag | _LEN_64, n)
    if mask is None:
        return header + payload
    return header + mask + unmask(payload, mask)


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR `payload` with the 4-byte `mask` (masking and unmasking are the same)."""
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // _MASK_LEN + 1))[:n]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
    return value.to_bytes(n, "big")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame read from a client."""

    opcode: int
    payload: bytes


class FrameReader:
    """Incremental reader of a client's frames (fragments are not expected)."""

    def __init__(self) -> None:
        """Start with nothing buffered."""
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return every frame they complete."""
        self._buffer += data
        frames: list[Frame] = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> Frame | None:
        buf = self._buffer
        if len(buf) < 2:  # noqa: PLR2004 - the two fixed header bytes
            return None
        opcode = buf[0] & 0x0F
        masked = bool(buf[1] & _MASKED)
        length = buf[1] & 0x7F
        pos = 2
        if length == _LEN_16:
            if len(buf) < pos + 2:
                return None
            (length,) = struct.unpack_from("!H", buf, pos)
            pos += 2
        elif length == _LEN_64:
            if len(buf) < pos + 8:
                return None
            (length,) = struct.unpack_from("!Q", buf, pos)
            pos += 8
        mask = b""
        if masked:
            if len(buf) < pos + _MASK_LEN:
                return None
            mask = bytes(buf[pos : pos + _MASK_LEN])
            pos += _MASK_LEN
        if len(buf) < pos + length:
            return None
        payload = bytes(buf[pos : pos + length])
        del buf[: pos + length]
        return Frame(opcode, unmask(payload, mask) if masked else payload)
