"""Parsed JSON into the models, tolerating what Blink added since this client was written.

msgspec validates as it builds: a missing or mistyped required field is a
`BlinkModelError` naming the field and where it sits. What `tolerate` lists is
dropped instead (and logged at debug), and the rest built again.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from .const import LOGGER
from .exceptions import BlinkModelError

# `$.a.b[2].c` in msgspec's messages
_STEP: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _path(where: str) -> list[str | int]:
    return [key or int(index) for key, index in _STEP.findall(where.removeprefix("$"))]


def tolerate(raw: object, error: msgspec.ValidationError) -> str | None:
    """Drop from `raw` what `error` shows is newer than this client; say what.

    Tolerated, in place: a `myUpdates` member of a type this client does not know
    (the update reads as None), a wallet of an unknown currency (left out), and an
    account sent beside an update that does not fit (left out: the update, a
    payment perhaps, must not be lost over the balances). None when `error` is not
    one of these, and it stands.
    """
    message, _, where = str(error).partition(" - at `")
    path = _path(where.rstrip("`"))
    if (
        len(path) >= 2  # noqa: PLR2004 - a wallet's index and its field
        and path[-1] == "walletCurrency"
        and message.startswith("Invalid enum value")
    ):
        wallets = _node(raw, path[:-2])
        index = path[-2]
        if isinstance(wallets, list) and isinstance(index, int):
            del wallets[index]
            return f"a wallet of unknown currency ({message})"
    if path[-2:] == ["update", "__typename"] and message.startswith("Invalid value"):
        parent = _node(raw, path[:-2])
        if isinstance(parent, dict):
            parent["update"] = None
            return f"a myUpdates member newer than this client ({message})"
    if "me" in path:
        at = path.index("me")
        parent = _node(raw, path[:at])
        if isinstance(parent, dict) and "update" in parent:
            parent["me"] = None
            return f"the account sent with an update ({error})"
    return None


def _node(raw: object, path: list[str | int]) -> object:
    node = raw
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def _model_error(error: msgspec.ValidationError, what: str) -> BlinkModelError:
    return BlinkModelError(f"{what} does not fit Blink's schema: {error}")


def repaired[T](
    raw: object, type_: type[T], error: msgspec.ValidationError, what: str
) -> T:
    """Build `type_` from `raw` after `error`, tolerating what `tolerate` does."""
    for _ in range(16):  # a few unknowns at once; never forever
        dropped = tolerate(raw, error)
        if dropped is None:
            break
        LOGGER.debug("Ignoring %s", dropped)
        try:
            return msgspec.convert(raw, type_)
        except msgspec.ValidationError as err:
            error = err
    raise _model_error(error, what)


def convert[T](raw: object, type_: type[T], what: str) -> T:
    """Build `type_` from parsed JSON (an HTTP answer's field)."""
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError as err:
        return repaired(_copy(raw), type_, err, what)


def _copy(raw: object) -> object:
    """Copy parsed JSON (dicts, lists, scalars) to drop things from."""
    if isinstance(raw, dict):
        return {key: _copy(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_copy(value) for value in raw]
    return raw
