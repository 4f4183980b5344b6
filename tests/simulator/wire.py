"""What Blink does to a value between its domain and the socket: pubsub, then scalars.

Blink publishes every payload through `JSON.parse(JSON.stringify(...))` before Redis
(blinkbitcoin/blink `core/api/src/services/pubsub.ts`): a `Date` becomes an ISO
string, a bigint a decimal string, class instances plain objects. The resolvers
then read those plain objects; the `Timestamp` scalar
(`core/api/src/graphql/shared/types/scalar/timestamp.ts`) serialises only a `Date`
or a number and otherwise *returns* an `InputValidationError`, which graphql-js
puts on the wire as the field's value. So the `createdAt` of every pushed
transaction reads `{"message": "Invalid value for Date", "extensions": {...}}`
while HTTP, which reads the ledger directly, serves Unix seconds.

`pushed(update)` turns the simulator's typed update into what Blink's resolver
receives after that round trip; `serialize_timestamp` is Blink's scalar.
"""

from collections.abc import Mapping
import dataclasses
from datetime import UTC, datetime
import json
from typing import Any, Final

from .state import (
    InitiationViaIntraLedger,
    InitiationViaLn,
    InitiationViaOnChain,
    IntraLedgerUpdate,
    LnUpdate,
    OnChainUpdate,
    SettlementViaIntraLedger,
    SettlementViaLn,
    SettlementViaOnChain,
    Transaction,
    TransactionUpdate,
)

# Blink's InputValidationError from `Timestamp.serialize`, as JSON shows it.
INVALID_DATE_MESSAGE: Final = "Invalid value for Date"
INVALID_INPUT: Final = "INVALID_INPUT"

# Blink's domain marks each settlement and initiation method with `type`; the
# GraphQL unions resolve their member from it (`isTypeOf` in
# core/api/src/graphql/shared/types/abstract/settlement-via.ts, initiation-via.ts).
_METHODS: Final[dict[type, str]] = {
    SettlementViaLn: "lightning",
    SettlementViaOnChain: "onchain",
    SettlementViaIntraLedger: "intraledger",
    InitiationViaLn: "lightning",
    InitiationViaOnChain: "onchain",
    InitiationViaIntraLedger: "intraledger",
}
_MEMBERS: Final[dict[tuple[str, str], str]] = {
    ("SettlementVia", "lightning"): "SettlementViaLn",
    ("SettlementVia", "onchain"): "SettlementViaOnChain",
    ("SettlementVia", "intraledger"): "SettlementViaIntraLedger",
    ("InitiationVia", "lightning"): "InitiationViaLn",
    ("InitiationVia", "onchain"): "InitiationViaOnChain",
    ("InitiationVia", "intraledger"): "InitiationViaIntraLedger",
}
# my-updates.ts spreads the published update under `resolveType`, which the
# `UserUpdate` union reads.
_UPDATES: Final[dict[type, str]] = {
    LnUpdate: "LnUpdate",
    OnChainUpdate: "OnChainUpdate",
    IntraLedgerUpdate: "IntraLedgerUpdate",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _domain(value: object) -> Any:
    """The simulator's typed value as Blink's domain object would serialise it."""
    if isinstance(value, Transaction):
        fields = _fields(value)
        # A domain transaction's createdAt is a Date: JSON makes it an ISO string.
        fields["createdAt"] = (
            datetime.fromtimestamp(value.created_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        return fields
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = _fields(value)
        if (method := _METHODS.get(type(value))) is not None:
            fields["type"] = method
        if (member := _UPDATES.get(type(value))) is not None:
            fields["resolveType"] = member
        return fields
    return value


def _fields(value: Any) -> dict[str, Any]:
    return {
        _camel(field.name): _domain(getattr(value, field.name))
        for field in dataclasses.fields(value)
    }


def pushed(update: TransactionUpdate) -> dict[str, Any]:
    """The update as my-updates.ts receives it from Redis: JSON, round-tripped."""
    return json.loads(json.dumps(_domain(update)))  # type: ignore[no-any-return]


def member_of(value: Mapping[str, Any], union: str) -> str | None:
    """The concrete type of a round-tripped value in `union`, as Blink resolves it."""
    if union == "UserUpdate":
        member = value.get("resolveType")
        return member if isinstance(member, str) else None
    return _MEMBERS.get((union, str(value.get("type"))))


def serialize_timestamp(value: object) -> object:
    """Blink's `Timestamp.serialize`: a Date or a number, else the error object."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return {"message": INVALID_DATE_MESSAGE, "extensions": {"code": INVALID_INPUT}}
