"""The Blink simulator's graphql-transport-ws: Blink's answers, close codes, faults.

Driven with raw frames over plain aiohttp, never with the integration's client.
"""

import asyncio
from collections.abc import AsyncIterator, Generator
import json
from typing import Any

import aiohttp
import pytest

from tests.simulator import TEST_API_KEY, BlinkSimulator
from tests.simulator.protocol import WsSession
from tests.simulator.raw import RawSocket, connect

# Until tests/conftest.py registers it for the whole suite.
pytest_plugins = ["tests.simulator.fixtures"]

MY_UPDATES = """subscription { myUpdates { errors { message code } me { id }
  update {
    __typename
    ... on RealtimePrice { denominatorCurrency btcSatPrice { base offset }
                           usdCentPrice { base offset } }
    ... on Price { base offset currencyUnit formattedAmount }
    ... on LnUpdate { paymentHash status transaction { id } }
  } } }"""
REALTIME = """subscription ($c: DisplayCurrency) {
  realtimePrice(input: {currency: $c}) {
    errors { message code } realtimePrice { denominatorCurrency btcSatPrice { base } } } }"""
PRICE = """subscription ($amount: SatAmount!, $from: ExchangeCurrencyUnit!,
  $to: ExchangeCurrencyUnit!) {
  price(input: {amount: $amount, amountCurrencyUnit: $from, priceCurrencyUnit: $to}) {
    errors { message } price { base offset currencyUnit formattedAmount } } }"""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def update_of(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "next", message
    payload = message["payload"]
    assert isinstance(payload, dict)
    return payload["data"]["myUpdates"]["update"]  # type: ignore[no-any-return]


async def subscribed(socket: RawSocket, sub_id: str = "1") -> None:
    """Subscribe to myUpdates and swallow the two initial price updates."""
    await socket.subscribe(sub_id, MY_UPDATES)
    assert update_of(await socket.receive())["__typename"] == "Price"
    assert update_of(await socket.receive())["__typename"] == "RealtimePrice"


# --- Blink's answers ------------------------------------------------------------


@pytest.mark.parametrize("key", [TEST_API_KEY, "unknown-key", None])
async def test_every_connection_is_acknowledged(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, key: str | None
) -> None:
    async with connect(session, simulator.ws_url, key=key):
        pass
    async with connect(session, simulator.ws_url, init=False) as socket:
        await socket.send({"type": "connection_init"})  # no payload at all
        assert await socket.receive() == {"type": "connection_ack"}

    assert simulator.stats.connection_inits == 2
    assert simulator.stats.acks_sent == 2
    assert simulator.stats.ws_connections == 2


async def test_my_updates_starts_with_the_price_in_the_display_currency(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", MY_UPDATES)
        price = await socket.receive()
        realtime = await socket.receive()

    assert price == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "myUpdates": {
                    "errors": [],
                    "me": None,
                    "update": {
                        "__typename": "Price",
                        "base": 95_000_000_000,
                        "offset": 12,
                        "currencyUnit": "USDCENT",
                        "formattedAmount": "0.095",
                    },
                }
            }
        },
    }
    payload = realtime["payload"]["data"]["myUpdates"]
    assert payload["errors"] == []
    # `me` on the socket is the account (my-updates.ts `userPayload(domainAccount)`),
    # so its id is the account's, not the user's as over HTTP.
    assert payload["me"] == {"id": simulator.account.id}
    assert simulator.account.id != simulator.account.user.id
    assert payload["update"] == {
        "__typename": "RealtimePrice",
        "denominatorCurrency": "USD",
        "btcSatPrice": {"base": 95_000_000_000, "offset": 12},
        "usdCentPrice": {"base": 1_000_000, "offset": 6},
    }


async def test_outside_usd_my_updates_starts_with_realtime_price_only(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    await simulator.set_display_currency("EUR")

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", MY_UPDATES)
        first = update_of(await socket.receive())
        await socket.silent_for(0.05)
        await simulator.set_price(100_000)
        moved = update_of(await socket.receive())
        await socket.silent_for(0.05)

    assert first["denominatorCurrency"] == "EUR"
    assert first["btcSatPrice"] == {"base": 87_400_000_000, "offset": 12}
    assert moved["btcSatPrice"] == {"base": 92_000_000_000, "offset": 12}


@pytest.mark.parametrize("key", ["unknown-key", None])
async def test_my_updates_with_a_bad_key_is_refused_inside_next_then_complete(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, key: str | None
) -> None:
    async with connect(session, simulator.ws_url, key=key) as socket:
        await socket.subscribe("7", "subscription { myUpdates { errors { message } } }")
        refusal = await socket.receive()
        complete = await socket.receive()

    assert refusal == {
        "id": "7",
        "type": "next",
        "payload": {
            "errors": [
                {
                    "message": "Not Authenticated for subscription",
                    "locations": [{"line": 1, "column": 16}],
                    "path": ["myUpdates"],
                    "extensions": {"code": "NOT_AUTHENTICATED"},
                }
            ]
        },
    }
    assert complete == {"id": "7", "type": "complete"}
    assert simulator.live_subscriptions["myUpdates"] == 0


async def test_a_revoked_key_keeps_open_sockets_but_new_ones_are_refused(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as old:
        simulator.revoke_key(TEST_API_KEY)
        # Blink caches the session of a socket: a resubscribe still works
        await subscribed(old)
        async with connect(session, simulator.ws_url, key=TEST_API_KEY) as new:
            await new.subscribe("1", MY_UPDATES)
            refusal = await new.receive()

    assert (
        refusal["payload"]["errors"][0]["message"]
        == "Not Authenticated for subscription"
    )


async def test_prices_are_open_to_all(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=None) as socket:
        await socket.subscribe("r", REALTIME, {"c": "EUR"})
        await socket.subscribe(
            "p", PRICE, {"amount": 1000, "from": "BTCSAT", "to": "USDCENT"}
        )
        realtime = await socket.receive()
        price = await socket.receive()

    assert realtime["payload"]["data"]["realtimePrice"] == {
        "errors": [],
        "realtimePrice": {
            "denominatorCurrency": "EUR",
            "btcSatPrice": {"base": 87_400_000_000},
        },
    }
    assert price["payload"]["data"]["price"] == {
        "errors": [],
        "price": {
            "base": 95_000_000_000_000,
            "offset": 12,
            "currencyUnit": "USDCENT",
            "formattedAmount": "95",
        },
    }


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (REALTIME, {"c": "XXX"}, "Invalid currency."),
        (
            PRICE,
            {"amount": 1, "from": "USDCENT", "to": "USDCENT"},
            "Unsupported exchange unit",
        ),
        (
            PRICE,
            {"amount": 1_000_000, "from": "BTCSAT", "to": "USDCENT"},
            "Unsupported exchange amount",
        ),
        (
            PRICE,
            {"amount": -5, "from": "BTCSAT", "to": "USDCENT"},
            "Invalid value for SatAmount",
        ),
    ],
)
async def test_price_subscriptions_report_bad_input_in_the_payload(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    query: str,
    variables: dict[str, object],
    message: str,
) -> None:
    async with connect(session, simulator.ws_url) as socket:
        await socket.subscribe("1", query, variables)
        answer = await socket.receive()
        await simulator.set_price(90_000)  # these streams listen to nothing else
        await socket.silent_for(0.05)

    [field] = answer["payload"]["data"].values()
    assert field["errors"][0]["message"] == message


async def test_a_price_move_reaches_every_matching_stream(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with (
        connect(session, simulator.ws_url, key=TEST_API_KEY) as mine,
        connect(session, simulator.ws_url) as public,
    ):
        await subscribed(mine)
        await public.subscribe("usd", REALTIME, {"c": "USD"})
        await public.subscribe("jpy", REALTIME, {"c": "JPY"})
        await public.subscribe(
            "p", PRICE, {"amount": 1, "from": "BTCSAT", "to": "USDCENT"}
        )
        initial = {(await public.receive())["id"] for _ in range(3)}

        await simulator.set_price(100_000)
        mine_updates = [update_of(await mine.receive()) for _ in range(2)]
        public_updates = {}
        for _ in range(3):
            message = await public.receive()
            public_updates[message["id"]] = message["payload"]["data"]

    assert initial == {"usd", "jpy", "p"}
    assert [u["__typename"] for u in mine_updates] == ["Price", "RealtimePrice"]
    assert mine_updates[1]["btcSatPrice"]["base"] == 100_000_000_000
    assert public_updates["usd"]["realtimePrice"]["realtimePrice"]["btcSatPrice"] == {
        "base": 100_000_000_000
    }
    assert public_updates["jpy"]["realtimePrice"]["realtimePrice"]["btcSatPrice"] == {
        "base": 150_000_000_000
    }
    assert public_updates["p"]["price"]["price"]["formattedAmount"] == "0.1"


async def test_another_my_updates_of_the_account_republishes_the_price_to_all(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket, "1")
        await socket.subscribe("2", MY_UPDATES)
        ids = [(await socket.receive())["id"] for _ in range(4)]

    assert sorted(ids) == ["1", "1", "2", "2"]


# --- refusals ----------------------------------------------------------------------


async def test_a_query_over_the_socket_is_refused(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", "query { currencyList { id } }")
        query = await socket.receive()
        await socket.subscribe(
            "2", 'mutation { userLogout(input: {deviceToken: "x"}) { success } }'
        )
        mutation = await socket.receive()

    for answer, sub_id in ((query, "1"), (mutation, "2")):
        assert answer == {
            "id": sub_id,
            "type": "error",
            "payload": [{"message": "Only subscription operations are supported"}],
        }
    assert simulator.stats.subscriptions.total() == 0


async def test_an_invalid_subscription_gets_its_validation_errors(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", "subscription { myUpdates { errors { mesage } } }")
        answer = await socket.receive()
        # the id is free again
        await socket.subscribe(
            "1",
            "subscription A { myUpdates { me { id } } } subscription B { myUpdates { me { id } } }",
        )
        ambiguous = await socket.receive()

    assert answer["type"] == "error"
    assert answer["id"] == "1"
    [error] = answer["payload"]
    assert "mesage" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 37}]
    assert ambiguous["payload"] == [{"message": "Unable to identify operation"}]


async def test_a_subscription_that_does_not_parse_closes_the_socket_4500(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", "subscription { myUpdates {")
        assert await socket.closed() == (4500, "Internal server error")


async def test_bad_variables_are_refused_in_a_next_then_complete(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url) as socket:
        await socket.subscribe("1", PRICE, {"amount": 1})
        refusal = await socket.receive()
        complete = await socket.receive()

    assert "data" not in refusal["payload"]
    assert "$from" in refusal["payload"]["errors"][0]["message"]
    assert complete == {"id": "1", "type": "complete"}


# --- protocol ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{not json", "Invalid message received"),
        ('["connection_init"]', "Invalid message received"),
        ('{"type": "hello"}', "Invalid message received"),
        ('{"type": "subscribe", "payload": {"query": "{ x }"}}', "non-empty 'id'"),
        ('{"type": "subscribe", "id": "1", "payload": {}}', "'query' string"),
        (
            '{"type": "subscribe", "id": "1", "payload": {"query": "x", "variables": 3}}',
            "'variables'",
        ),
        ('{"type": "complete"}', "'id' string"),
        ('{"type": "connection_init", "payload": 5}', "payload must be an object"),
    ],
)
async def test_a_malformed_message_closes_4400(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, frame: str, reason: str
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.ws.send_str(frame)
        code, text = await socket.closed()

    assert code == 4400
    assert reason in text


async def test_a_binary_frame_closes_4400(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url) as socket:
        await socket.ws.send_bytes(b"{}")
        assert await socket.closed() == (4400, "Invalid message received")


async def test_subscribe_before_the_ack_closes_4401(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, init=False) as socket:
        await socket.subscribe("1", MY_UPDATES)
        assert await socket.closed() == (4401, "Unauthorized")


async def test_a_duplicate_live_id_closes_4409(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket, "dup")
        await socket.subscribe("dup", MY_UPDATES)
        assert await socket.closed() == (4409, "Subscriber for dup already exists")


async def test_a_second_connection_init_closes_4429(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.init(TEST_API_KEY, ack=False)
        assert await socket.closed() == (4429, "Too many initialisation requests")


async def test_no_connection_init_in_time_closes_4408(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.behaviour.init_timeout = 0.2

    async with (
        connect(session, simulator.ws_url, key=TEST_API_KEY) as in_time,
        connect(session, simulator.ws_url, init=False) as socket,
    ):
        assert await socket.closed() == (4408, "Connection initialisation timeout")
        await in_time.send({"type": "ping"})
        assert await in_time.receive() == {"type": "pong"}


async def test_a_socket_without_the_subprotocol_closes_4406(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(
        session, simulator.ws_url, init=False, protocols=("graphql-ws",)
    ) as socket:
        assert await socket.closed() == (4406, "Subprotocol not acceptable")


async def test_ping_gets_pong_and_the_server_may_ping(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, init=False) as socket:
        await socket.send({"type": "ping"})  # allowed before init
        bare = await socket.receive()
        await socket.init(TEST_API_KEY)
        await socket.send({"type": "ping", "payload": {"n": 1}})
        echoed = await socket.receive()
        assert await simulator.ping_sockets() == 1
        server_ping = await socket.receive()
        await socket.send({"type": "pong"})
        await socket.ws.pong(b"unsolicited")  # a WebSocket-level pong is ignored
        await simulator.wait_for(lambda: simulator.stats.pongs_received == 1)

    assert bare == {"type": "pong"}
    assert echoed == {"type": "pong", "payload": {"n": 1}}
    assert server_ping == {"type": "ping"}
    stats = simulator.stats
    assert (stats.pings_received, stats.pongs_sent, stats.pings_sent) == (2, 2, 1)


async def test_client_complete_stops_that_subscription_only(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket, "a")
        await socket.subscribe("b", REALTIME, {"c": "USD"})
        await socket.receive()
        await simulator.wait_for_subscriptions("realtimePrice")
        assert simulator.live_subscriptions == {"myUpdates": 1, "realtimePrice": 1}

        await socket.send({"id": "a", "type": "complete"})
        await socket.send({"id": "unknown", "type": "complete"})
        await simulator.wait_for(lambda: simulator.live_subscriptions["myUpdates"] == 0)
        await simulator.set_price(91_000)
        only = await socket.receive()
        await socket.silent_for(0.05)
        # the id can be used again
        await subscribed(socket, "a")

    assert only["id"] == "b"
    assert simulator.stats.subscriptions == {"myUpdates": 2, "realtimePrice": 1}


async def test_closing_the_socket_ends_its_subscriptions(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
        assert simulator.open_sockets == 1

    await simulator.wait_for(lambda: simulator.open_sockets == 0)
    assert simulator.live_subscriptions.total() == 0
    assert simulator.hub.publish("ACCOUNT_UPDATE." + simulator.account.id, None) == 0  # type: ignore[arg-type]


# --- faults ------------------------------------------------------------------------


async def test_dropped_sockets_end_without_a_close_frame(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
        assert await simulator.drop_sockets() == 1
        assert await socket.closed() == (1006, "")


async def test_sockets_can_be_closed_with_any_code(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with (
        connect(session, simulator.ws_url, key=TEST_API_KEY) as one,
        connect(session, simulator.ws_url) as two,
    ):
        await simulator.send_raw('{"type": "ping"}')
        assert await simulator.close_sockets(4403, "Forbidden") == 2
        assert await one.closed() == (4403, "Forbidden")  # past the ping
        assert await two.closed() == (4403, "Forbidden")


async def test_a_frozen_socket_answers_nothing_at_all(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(
        session, simulator.ws_url, key=TEST_API_KEY, autoping=False
    ) as socket:
        await subscribed(socket)
        simulator.freeze_sockets()
        await socket.send({"type": "ping"})
        await socket.ws.ping(b"are you there")
        await simulator.receive_lightning(1_000)
        await socket.silent_for(0.1)
        assert await simulator.ping_sockets() == 0
        # a new socket is healthy
        async with connect(session, simulator.ws_url, key=TEST_API_KEY) as fresh:
            await subscribed(fresh)
        simulator.heal_sockets()
        await socket.ws.ping(b"back")
        assert (await socket.ws.receive()).type is aiohttp.WSMsgType.PONG

    assert simulator.stats.pings_received == 1
    assert simulator.stats.pongs_sent == 0


async def test_sockets_opened_later_can_be_dead_too(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.freeze_sockets(new_too=True)

    async with connect(session, simulator.ws_url, init=False) as socket:
        await socket.init(TEST_API_KEY, ack=False)
        await socket.silent_for(0.1)


async def test_a_silent_socket_answers_pings_but_sends_no_data(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
        simulator.silence_sockets()
        await simulator.receive_lightning(1_000)
        await socket.subscribe("2", MY_UPDATES)  # resubscribing does not help
        await socket.send({"type": "ping"})
        assert await socket.receive() == {"type": "pong"}
        await socket.silent_for(0.05)
        assert simulator.live_subscriptions["myUpdates"] == 2
        simulator.heal_sockets()
        await simulator.set_price(96_000)
        assert update_of(await socket.receive())["__typename"] == "Price"


async def test_sockets_opened_later_can_be_silent_too(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.silence_sockets(new_too=True)

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", MY_UPDATES)
        await socket.silent_for(0.05)


async def test_the_ack_can_be_delayed_or_withheld(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.behaviour.ack_delay = 0.3
    async with connect(session, simulator.ws_url, init=False) as socket:
        started = asyncio.get_running_loop().time()
        await socket.init(TEST_API_KEY, ack=False)
        await socket.send({"type": "ping"})
        answers = [await socket.receive(), await socket.receive()]
        waited = asyncio.get_running_loop().time() - started

    assert answers[0] == {"type": "pong"}  # alive while it waits
    assert answers[1] == {"type": "connection_ack"}
    assert waited >= 0.3

    simulator.behaviour.ack_delay = 0
    simulator.behaviour.withhold_ack = True
    async with connect(session, simulator.ws_url, init=False) as socket:
        await socket.init(TEST_API_KEY, ack=False)
        await socket.silent_for(0.1)
        await socket.subscribe("1", MY_UPDATES)
        assert await socket.closed() == (4401, "Unauthorized")


async def test_a_raw_frame_reaches_every_socket(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with (
        connect(session, simulator.ws_url) as one,
        connect(session, simulator.ws_url) as two,
    ):
        assert await simulator.send_raw('{"type": "next", "id": ') == 2
        for socket in (one, two):
            assert (await socket.ws.receive()).data == '{"type": "next", "id": '


async def test_a_frame_hook_can_duplicate_drop_and_reorder(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    held: list[tuple[WsSession, str]] = []

    def hook(session_: WsSession, frame: str) -> list[str]:
        if '"LnUpdate"' in frame:
            held.append((session_, frame))
            return []  # hold it back
        if '"RealtimePrice"' in frame:
            return [frame, frame]
        return [frame]

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        simulator.behaviour.frame_hook = hook
        await socket.subscribe("1", MY_UPDATES)
        kinds = [update_of(await socket.receive())["__typename"] for _ in range(3)]
        paid = await simulator.receive_lightning(2_000)
        await simulator.set_price(97_000)
        later = [update_of(await socket.receive())["__typename"] for _ in range(3)]
        for session_, frame in held:
            await session_.send_raw(frame)
        reordered = update_of(await socket.receive())

    assert not await held[0][0].send_raw("too late")  # the socket is gone
    assert kinds == ["Price", "RealtimePrice", "RealtimePrice"]
    assert later == ["Price", "RealtimePrice", "RealtimePrice"]
    assert reordered["transaction"] == {"id": paid.id}


async def test_the_handshake_can_be_refused(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.fail_handshake(503)

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(simulator.ws_url, protocols=("graphql-transport-ws",))
    async with connect(session, simulator.ws_url, key=TEST_API_KEY):
        pass

    assert refused.value.status == 503


async def test_websocket_keepalive_pings_like_blink(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async with (
        BlinkSimulator(keepalive=0.05) as sim,
        connect(session, sim.ws_url, key=TEST_API_KEY, autoping=False) as socket,
    ):
        msg = await socket.ws.receive(timeout=1)
        assert msg.type is aiohttp.WSMsgType.PING
        # Unanswered: graphql-ws terminates the socket an interval later, with no
        # close frame (the client sees the connection drop).
        msg = await socket.ws.receive(timeout=1)
        assert msg.type in {aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE}
        assert socket.ws.close_code in {None, 1006}
    assert sim.stats.keepalive_pings >= 1


def test_blink_pings_every_12_seconds_and_republishes_prices_every_30() -> None:
    # graphql-ws 5's default keep-alive (Blink's ws-server.ts sets none) and
    # trigger.ts's price interval: the simulator's defaults, as Blink runs.
    sim = BlinkSimulator()
    assert sim._core.keepalive == 12.0
    assert sim._price_every == 30.0


# --- lifecycle -------------------------------------------------------------------------


async def test_a_restart_keeps_the_port_and_the_state(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    port = simulator.port
    paid = await simulator.receive_lightning(4_321)

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
        await simulator.restart()
        assert await socket.closed() == (1001, "Server shutting down")

    assert simulator.running
    assert simulator.port == port
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
    assert simulator.account.transactions[-1] == paid


async def test_stop_can_drop_sockets_and_start_twice_is_harmless(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    await simulator.start()

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await simulator.stop(close_code=None)
        assert await socket.closed() == (1006, "")
    assert not simulator.running
    await simulator.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.post(simulator.http_url, json={"query": "{ me { id } }"})


async def test_a_busy_port_fails_to_start(
    simulator: BlinkSimulator,
) -> None:
    other = BlinkSimulator(port=simulator.port)

    with pytest.raises(OSError, match="address already in use"):
        await other.start()
    assert not other.running


async def test_the_demo_walk_moves_the_price_and_pays_now_and_then(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    before = len(simulator.account.transactions)

    simulator.start_walk(price_every=0.01, payment_every=0.02, seed=3)
    simulator.start_walk()  # already walking
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await subscribed(socket)
        await simulator.wait_for(
            lambda: len(simulator.account.transactions) >= before + 4
        )
    await simulator.stop_walk()

    assert simulator.price != 95_000
    assert json.dumps(simulator.stats.subscriptions) == '{"myUpdates": 1}'


async def test_a_send_on_a_cut_connection_is_a_no_op(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        [server_side] = simulator.sessions
        server_side.drop()
        assert not await server_side.send_raw('{"type": "ping"}')
        assert await socket.closed() == (1006, "")


async def test_a_listener_closes_once_and_then_ends(simulator: BlinkSimulator) -> None:
    listener = simulator.hub.listen(["topic"])

    await listener.aclose()
    await listener.aclose()

    assert simulator.hub.publish("topic", None) == 0  # type: ignore[arg-type]
    with pytest.raises(StopAsyncIteration):
        await anext(listener)


async def test_the_raw_client_notices_unexpected_frames(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url) as socket:
        await simulator.send_raw("surprise")
        with pytest.raises(AssertionError, match="expected silence"):
            await socket.silent_for(1)


# --- what Blink really sends (blink-api.md, "What Blink really sends") ----------------

ME_AND_PRICE = """subscription { myUpdates { errors { message code }
  me { id defaultAccount { displayCurrency wallets { walletCurrency balance } } }
  update { __typename ... on RealtimePrice { denominatorCurrency } } } }"""


async def test_prices_come_every_tick_with_the_balances_of_that_moment(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    # trigger.ts republishes every 30 s (here 50 ms), moved or not; my-updates.ts
    # sends `me` with every RealtimePrice, its balances read as it goes out.
    async with (
        BlinkSimulator(price_every=0.05) as sim,
        connect(session, sim.ws_url, key=TEST_API_KEY) as socket,
    ):
        await socket.subscribe("1", ME_AND_PRICE)
        ticks: list[dict[str, Any]] = []
        while len(ticks) < 3:
            payload = (await socket.receive())["payload"]["data"]["myUpdates"]
            if payload["update"]["__typename"] == "RealtimePrice":
                ticks.append(payload)
                if len(ticks) == 2:
                    sim.account.btc_wallet.balance += 1  # moved behind the socket
        balances = [
            {
                w["walletCurrency"]: w["balance"]
                for w in t["me"]["defaultAccount"]["wallets"]
            }
            for t in ticks
        ]

    assert balances[0] == balances[1] == {"BTC": 250_000, "USD": 5_000}
    assert balances[2] == {"BTC": 250_001, "USD": 5_000}


async def test_a_key_check_that_failed_at_connect_refuses_until_a_new_connect(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    # ws-server.ts keeps each key's outcome of its last connect; an outage of the
    # key service at connect refuses myUpdates on that socket even once the
    # service is back, and a later connect with the key heals it.
    simulator.key_service(up=False)
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as poisoned:
        simulator.key_service(up=True)
        await poisoned.subscribe("1", MY_UPDATES)
        refused = await poisoned.receive()
        assert refused["payload"]["errors"][0]["message"] == (
            "Not Authenticated for subscription"
        )
        assert refused["payload"]["errors"][0]["extensions"] == {
            "code": "NOT_AUTHENTICATED"
        }
        assert "code" not in refused["payload"]["errors"][0]  # socket: extensions only
        assert await poisoned.receive() == {"id": "1", "type": "complete"}
        await poisoned.subscribe("2", MY_UPDATES)  # same socket: still refused
        assert "errors" in (await poisoned.receive())["payload"]
        assert await poisoned.receive() == {"id": "2", "type": "complete"}

        async with connect(session, simulator.ws_url, key=TEST_API_KEY) as fresh:
            await subscribed(fresh)
        # The new connect refreshed the key's outcome for the old socket too.
        await poisoned.subscribe("3", MY_UPDATES)
        assert update_of(await poisoned.receive())["__typename"] == "Price"
    assert simulator.stats.key_checks_failed == 1


async def test_while_the_key_service_is_down_http_says_401_like_a_revoked_key(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    query = {"query": "{ me { id } }"}
    headers = {"X-API-KEY": TEST_API_KEY}
    simulator.key_service(up=False)
    async with session.post(simulator.http_url, json=query, headers=headers) as down:
        assert down.status == 401
    simulator.key_service(up=True)
    async with session.post(simulator.http_url, json=query, headers=headers) as up:
        assert up.status == 200


async def test_a_display_currency_change_reaches_the_socket_only_at_a_new_connect(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as before:
        await before.subscribe("1", ME_AND_PRICE)
        await before.receive()  # Price (USD)
        await before.receive()  # RealtimePrice
        await simulator.set_display_currency("EUR")
        await simulator.publish_prices()
        await before.receive()  # Price again
        old = (await before.receive())["payload"]["data"]["myUpdates"]
        async with connect(session, simulator.ws_url, key=TEST_API_KEY) as after:
            await after.subscribe("1", ME_AND_PRICE)
            new = (await after.receive())["payload"]["data"]["myUpdates"]

    assert old["update"]["denominatorCurrency"] == "USD"
    assert old["me"]["defaultAccount"]["displayCurrency"] == "USD"
    assert new["update"]["denominatorCurrency"] == "EUR"
    assert new["me"]["defaultAccount"]["displayCurrency"] == "EUR"


async def test_the_ingress_admits_ten_sockets_a_minute_with_a_burst_then_503(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    # blinkbitcoin/charts websocket-ingress.yaml: limit-rpm 10, burst x2, 503.
    now = [1_000.0]
    async with BlinkSimulator(clock=lambda: now[0]) as sim:
        statuses: list[int] = []
        for _ in range(22):
            try:
                ws = await session.ws_connect(
                    sim.ws_url, protocols=("graphql-transport-ws",)
                )
            except aiohttp.WSServerHandshakeError as refused:
                statuses.append(refused.status)
            else:
                statuses.append(101)
                await ws.close()
        assert statuses == [101] * 21 + [503]

        now[0] += 6  # one more drains every six seconds
        async with connect(session, sim.ws_url, key=TEST_API_KEY):
            pass
    assert sim.ingress.refused == 1


async def test_the_ingress_admits_ten_open_sockets_per_address(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async with BlinkSimulator() as sim:
        sim.ingress.requests_per_minute = None  # the connection limit alone
        sockets = [
            await session.ws_connect(sim.ws_url, protocols=("graphql-transport-ws",))
            for _ in range(10)
        ]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(sim.ws_url, protocols=("graphql-transport-ws",))
        assert refused.value.status == 503
        await sockets[0].close()
        await sim.wait_for(lambda: sim.open_sockets == 9)
        again = await session.ws_connect(
            sim.ws_url, protocols=("graphql-transport-ws",)
        )
        for ws in [*sockets[1:], again]:
            await ws.close()
