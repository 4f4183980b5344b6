"""Blink-shaped `myUpdates` frames: one captured from the simulator, replayed.

The simulator runs Blink's schema and resolvers, so the frame it pushes for a
Lightning payment is the frame Blink pushes, byte for byte in shape: account,
both wallets, the transaction with its settlement and initiation. The replay
server fills three holes per frame (subscription id, transaction id, BTC
balance) with `str.format`, so each frame is new to the integration's
exactly-once delivery and moves the balance sensor, and costs the server
next to nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
import json
from typing import Any, Final

import aiohttp

from custom_components.blink_wallet.api.queries import MY_UPDATES_SUBSCRIPTION
from tests.simulator import TEST_API_KEY, BlinkSimulator
from tests.simulator.raw import connect

_OP: Final = "@@bench-op@@"
_TX: Final = "@@bench-tx@@"
_BALANCE: Final = "@@bench-balance@@"
# Blink's transaction ids are MongoDB ObjectIds: 24 hexadecimal digits.
_TX_ID_DIGITS: Final = 24


def tx_id(seq: int) -> str:
    """Return the transaction id of frame `seq` (an ObjectId-shaped hex string)."""
    return f"{seq:0{_TX_ID_DIGITS}x}"


def seq_of(transaction_id: str) -> int:
    """Return the frame number a transaction id stands for."""
    return int(transaction_id, 16)


@dataclass(frozen=True, slots=True)
class FrameTemplate:
    """A `next` frame of `myUpdates` with holes for op id, tx id and balance."""

    pattern: str
    base_balance: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> FrameTemplate:
        """Cut the holes into a captured `next` frame of an `LnUpdate`."""
        frame = copy.deepcopy(frame)
        frame["id"] = _OP
        my_updates = frame["payload"]["data"]["myUpdates"]
        wallets = my_updates["me"]["defaultAccount"]["wallets"]
        btc = next(w for w in wallets if w["walletCurrency"] == "BTC")
        base_balance = int(btc["balance"])
        btc["balance"] = _BALANCE
        my_updates["update"]["transaction"]["id"] = _TX
        # graphql-ws sends JSON.stringify's compact form; so does the simulator
        text = json.dumps(frame, separators=(",", ":"))
        text = text.replace("{", "{{").replace("}", "}}")
        text = text.replace(f'"{_BALANCE}"', "{balance}")
        text = text.replace(_OP, "{op}").replace(_TX, "{tx}")
        return cls(text, base_balance)

    def text(self, op_id: str, seq: int) -> str:
        """Return frame `seq` for the subscription `op_id`."""
        return self.pattern.format(
            op=op_id, tx=tx_id(seq), balance=self.base_balance + seq
        )

    def balance_of(self, seq: int) -> int:
        """Return the BTC balance frame `seq` carries."""
        return self.base_balance + seq


@dataclass(frozen=True, slots=True)
class Capture:
    """What the simulator pushed, and who it pushed it for."""

    frame: dict[str, Any]
    template: FrameTemplate


async def capture(simulator: BlinkSimulator, amount: int = 1_000) -> Capture:
    """Subscribe to `myUpdates` on the simulator, receive a payment, keep its frame.

    Uses the client's own subscription document, so the frame selects exactly
    the fields this project asks Blink for.
    """
    async with (
        aiohttp.ClientSession() as session,
        connect(session, simulator.ws_url, key=TEST_API_KEY) as socket,
    ):
        await socket.subscribe("1", MY_UPDATES_SUBSCRIPTION)
        await simulator.wait_for_subscriptions()
        await simulator.receive_lightning(amount, memo="bench")
        while True:
            frame = await socket.receive()
            update = frame["payload"]["data"]["myUpdates"]["update"]
            if update.get("__typename") == "LnUpdate":
                return Capture(frame, FrameTemplate.from_frame(frame))
