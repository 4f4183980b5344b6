"""graphql-transport-ws framing on its own: frames in, frames out, close codes read."""

import json
from typing import Any

import pytest

from custom_components.blink_wallet.api.framing import (
    Drifted,
    Ending,
    ExecutionResult,
    Frame,
    FrameDecoder,
    FrameError,
    complete,
    connection_init,
    ending,
    ping,
    pong,
    subscribe,
)
from custom_components.blink_wallet.api.models import RealtimePrice, SubscriptionData

from .payloads import realtime_price

KEY = "blink_secret_key_0123456789"


@pytest.fixture
def decoder() -> FrameDecoder[SubscriptionData]:
    return FrameDecoder(SubscriptionData, secret=KEY)


def _next(data: Any, **extra: Any) -> str:
    return json.dumps({"id": "1", "type": "next", "payload": {"data": data, **extra}})


def test_a_result_is_decoded_typed_in_one_pass(
    decoder: FrameDecoder[SubscriptionData],
) -> None:
    price = {"errors": [], "realtimePrice": realtime_price()}

    frame = decoder.decode(_next({"realtimePrice": price}))

    assert isinstance(frame, Frame)
    assert frame.id == "1"
    assert isinstance(frame.payload, ExecutionResult)
    assert frame.payload.data is not None
    assert frame.payload.data.realtime_price is not None
    assert isinstance(frame.payload.data.realtime_price.realtime_price, RealtimePrice)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"type":"ping"}', "ping"),
        ('{"type":"pong","payload":{"any":1}}', "pong"),
        ('{"type":"connection_ack","payload":null}', "connection_ack"),
        ('{"type":"complete","id":"7"}', "complete"),
        ('{"type":"error","id":"7","payload":[{"message":"bad"}]}', "error"),
    ],
)
def test_housekeeping_frames_are_read_as_they_are(
    decoder: FrameDecoder[SubscriptionData], text: str, kind: str
) -> None:
    frame = decoder.decode(text)
    assert isinstance(frame, Frame)
    assert frame.type == kind


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"id": "1"}',
        '{"type": 5}',
        '{"type": "next", "id": 5, "payload": {"data": {}}}',
        '{"type": "next", "id": "1", "payload": {"data": [1]}}',
        '{"type": "next", "id": "1", "payload": "data"}',
    ],
)
def test_what_is_not_a_frame_is_a_protocol_error(
    decoder: FrameDecoder[SubscriptionData], text: str
) -> None:
    with pytest.raises(FrameError):
        decoder.decode(text)


def test_a_result_that_does_not_fit_is_drifted_with_its_errors_and_path(
    decoder: FrameDecoder[SubscriptionData],
) -> None:
    broken = realtime_price()
    broken["btcSatPrice"] = {"base": "many", "offset": 12}

    frame = decoder.decode(
        _next(
            {"realtimePrice": {"errors": [], "realtimePrice": broken}},
            errors=[{"message": "partly"}],
        )
    )

    assert isinstance(frame, Drifted)
    assert frame.id == "1"
    assert "$.payload.data.realtimePrice.realtimePrice.btcSatPrice.base" in str(
        frame.error
    )
    assert frame.errors == ({"message": "partly"},)


def test_the_key_is_never_quoted(decoder: FrameDecoder[SubscriptionData]) -> None:
    with pytest.raises(FrameError) as malformed:
        decoder.decode(f"<html>{KEY}</html>")
    # msgspec quotes an enum value it does not know
    status = {"lnInvoicePaymentStatusByHash": {"errors": [], "status": KEY}}
    drifted = decoder.decode(_next(status))

    assert KEY not in str(malformed.value)
    assert isinstance(drifted, Drifted)
    assert KEY not in str(drifted.error)


def test_our_frames() -> None:
    assert json.loads(connection_init(KEY)) == {
        "type": "connection_init",
        "payload": {"X-API-KEY": KEY},
    }
    assert json.loads(subscribe("3", "subscription S { s }", {"a": 1}, "S")) == {
        "id": "3",
        "type": "subscribe",
        "payload": {
            "query": "subscription S { s }",
            "variables": {"a": 1},
            "operationName": "S",
        },
    }
    assert (
        "operationName" not in json.loads(subscribe("3", "{ s }", {}, None))["payload"]
    )
    assert json.loads(complete("3")) == {"id": "3", "type": "complete"}
    assert json.loads(ping()) == {"type": "ping"}
    assert json.loads(pong()) == {"type": "pong"}


@pytest.mark.parametrize(
    ("code", "reason", "kind", "says"),
    [
        (4403, "Forbidden", Ending.KEY, "forbidden (4403): Forbidden"),
        (4406, "", Ending.CONFIGURATION, "refused the graphql-transport-ws protocol"),
        (4400, "Invalid message", Ending.PROTOCOL, "4400 (bad request)"),
        (4401, None, Ending.PROTOCOL, "subscribed before acknowledgement"),
        (4409, None, Ending.PROTOCOL, "subscription id already in use"),
        (4429, None, Ending.PROTOCOL, "too many connection_init"),
        (1001, "Going away", Ending.CONNECTION, "(1001): Going away"),
        (None, None, Ending.CONNECTION, "(None)"),
    ],
)
def test_the_close_code_table(
    code: object, reason: object, kind: Ending, says: str
) -> None:
    read, message = ending(code, reason, "graphql-transport-ws")
    assert read is kind
    assert says in message
