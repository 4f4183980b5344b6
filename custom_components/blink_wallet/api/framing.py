"""graphql-transport-ws on the wire: Blink's frames decoded, ours encoded, close codes read.

Pure: no sockets, no clocks. A frame is decoded in one pass, straight from its text
into typed structs, payload included (`Frame`). A frame whose `type` or `id` is not
what the protocol allows is a `FrameError`; a frame whose result does not fit the
models is `Drifted`, so the socket can skip that one update and go on.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import Any, Final

import msgspec

from ._errors import cut
from .decoding import repaired
from .exceptions import BlinkModelError, BlinkProtocolError

# msgspec names where a validation failed; under here, a subscription's field
_DATA_FIELD: Final = "`$.payload.data."
_PING: Final = '{"type":"ping"}'
_PONG: Final = '{"type":"pong"}'
_encode = msgspec.json.Encoder().encode


class FrameError(BlinkProtocolError):
    """A frame that is not graphql-transport-ws: not JSON, or no `type`."""


class ExecutionResult[D](msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A GraphQL result: the `payload` of a `next` frame."""

    data: D | None = None
    errors: tuple[Any, ...] = ()


class Frame[D](msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One server frame.

    `payload` is a result (`next`), a list of errors (`error`), or whatever
    `ping`/`pong`/`connection_ack` carry, which is not read.
    """

    type: str
    id: str | None = None
    payload: ExecutionResult[D] | list[Any] | None = None


class Drifted(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A frame whose result does not fit the models: Blink's schema drifted."""

    type: str
    id: str | None
    error: BlinkModelError
    # the result's `errors`, still read: they say more than the drift
    errors: tuple[Any, ...] = ()


class FrameDecoder[D]:
    """Decodes Blink's frames, with `data_type` as the type of a result's data."""

    def __init__(self, data_type: type[D], *, secret: str) -> None:
        """Prepare the decoder once: frames are many. `secret` is never quoted."""
        self._type: type[Frame[D]] = Frame[data_type]  # type: ignore[valid-type]
        self._decode = msgspec.json.Decoder(self._type).decode
        self._secret = secret

    def quote(self, text: object, limit: int = 160) -> str:
        """Cut what Blink sent short for a message, without the key should it echo it."""
        said = text if isinstance(text, str) else repr(text)
        return cut(said.replace(self._secret, "***") if self._secret else said, limit)

    def decode(self, text: str | bytes) -> Frame[D] | Drifted:
        """Return the frame; FrameError when it is not one."""
        try:
            return self._decode(text)
        except msgspec.ValidationError as err:
            error = err
        except msgspec.DecodeError:
            msg = f"Blink sent a frame that is not JSON: {self._text(text)}"
            raise FrameError(msg) from None
        try:
            raw = msgspec.json.decode(text)
        except msgspec.DecodeError:
            msg = f"Blink sent a frame that is not JSON: {self._text(text)}"
            raise FrameError(msg) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            msg = f"Blink sent a malformed frame: {self._text(text)}"
            raise FrameError(msg)
        try:
            return repaired(raw, self._type, error, "The frame")
        except BlinkModelError as drift:
            if _DATA_FIELD not in str(drift):
                # The frame itself is wrong, not what a subscription carries.
                msg = f"Blink sent a malformed frame: {self._text(text)}"
                raise FrameError(msg) from None
            op_id = raw.get("id")
            payload = raw.get("payload")
            errors = payload.get("errors") if isinstance(payload, dict) else None
            return Drifted(
                type=raw["type"],
                id=op_id if isinstance(op_id, str) else None,
                error=BlinkModelError(self.quote(str(drift), limit=320)),
                errors=tuple(errors) if isinstance(errors, list) else (),
            )

    def _text(self, text: str | bytes) -> str:
        return self.quote(
            text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        )


# --- what we send --------------------------------------------------------------------


def connection_init(api_key: str) -> str:
    """Open the conversation: Blink reads the key from this frame's payload."""
    return _encode(
        {"type": "connection_init", "payload": {"X-API-KEY": api_key}}
    ).decode()


def subscribe(
    op_id: str,
    document: str,
    variables: dict[str, Any],
    operation_name: str | None,
) -> str:
    """Start a subscription under `op_id`."""
    payload: dict[str, Any] = {"query": document, "variables": variables}
    if operation_name is not None:
        payload["operationName"] = operation_name
    return _encode({"id": op_id, "type": "subscribe", "payload": payload}).decode()


def complete(op_id: str) -> str:
    """Stop the subscription under `op_id`."""
    return _encode({"id": op_id, "type": "complete"}).decode()


def ping() -> str:
    """Ask the server for a pong."""
    return _PING


def pong() -> str:
    """Answer a ping."""
    return _PONG


# --- how a socket ended --------------------------------------------------------------


class Ending(Enum):
    """What a close code means for the next socket (the contract's table)."""

    KEY = auto()  # the key may be refused: one HTTP call decides
    CONFIGURATION = auto()  # the endpoint refuses what we speak: stop
    PROTOCOL = auto()  # a bug on one side: reconnect, with backoff
    CONNECTION = auto()  # anything else: reconnect, with backoff


CLOSE_FORBIDDEN: Final = 4403
CLOSE_SUBPROTOCOL_REFUSED: Final = 4406
_PROTOCOL_BUGS: Final = {
    4400: "bad request",
    4401: "subscribed before acknowledgement",
    4409: "subscription id already in use",
    4429: "too many connection_init",
}


def ending(code: object, reason: object, protocol: str) -> tuple[Ending, str]:
    """Read a close frame: what it means and a message that says so."""
    said = f": {cut(reason, 80)}" if isinstance(reason, str) and reason else ""
    if code == CLOSE_FORBIDDEN:
        return Ending.KEY, f"Blink closed the socket as forbidden (4403){said}"
    if code == CLOSE_SUBPROTOCOL_REFUSED:
        return (
            Ending.CONFIGURATION,
            f"Blink refused the {protocol} protocol (4406){said}",
        )
    if isinstance(code, int) and code in _PROTOCOL_BUGS:
        return (
            Ending.PROTOCOL,
            f"Blink closed the socket with {code} ({_PROTOCOL_BUGS[code]}){said}",
        )
    return Ending.CONNECTION, f"Blink closed the socket ({code}){said}"
