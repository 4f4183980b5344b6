"""The Blink simulator over HTTP: queries, keys, errors, pagination, history.

Driven with plain aiohttp, never with the integration's client.
"""

import asyncio
from collections.abc import AsyncIterator, Generator
from decimal import Decimal
from pathlib import Path
import signal
import sys
from typing import Any

import aiohttp
import pytest

from tests.simulator import TEST_API_KEY, BlinkSimulator
from tests.simulator.__main__ import parse_args, serve, serve_until_signalled

# Until tests/conftest.py registers it for the whole suite.
pytest_plugins = ["tests.simulator.fixtures"]

WALLETS = "wallets { __typename id walletCurrency balance pendingIncomingBalance }"
TX_FIELDS = """
id createdAt direction status memo settlementAmount settlementCurrency settlementFee
settlementDisplayAmount settlementDisplayFee settlementDisplayCurrency
settlementPrice { base offset currencyUnit formattedAmount }
settlementVia {
  __typename
  ... on SettlementViaLn { preImage paymentSecret }
  ... on SettlementViaIntraLedger { counterPartyUsername counterPartyWalletId preImage }
  ... on SettlementViaOnChain { transactionHash vout arrivalInMempoolEstimatedAt }
}
initiationVia {
  __typename
  ... on InitiationViaLn { paymentHash paymentRequest }
  ... on InitiationViaIntraLedger { counterPartyUsername counterPartyWalletId }
  ... on InitiationViaOnChain { address }
}
"""
PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $ids: [WalletId]) {
  me { defaultAccount {
    transactions(first: $first, after: $after, last: $last, before: $before,
                 walletIds: $ids) {
      edges { cursor node { id createdAt settlementCurrency } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  } }
}
"""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def post(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = TEST_API_KEY,
    operation_name: str | None = None,
) -> tuple[int, Any]:
    headers = {} if key is None else {"X-API-KEY": key}
    body: dict[str, Any] = {"query": query, "variables": variables}
    if operation_name is not None:
        body["operationName"] = operation_name
    async with session.post(sim.http_url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


# --- queries -----------------------------------------------------------------


async def test_me_returns_the_account_its_wallets_and_history(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    query = f"""{{ me {{ id username defaultAccount {{ id displayCurrency {WALLETS}
        transactions(first: 10) {{ edges {{ cursor node {{ {TX_FIELDS} }} }}
          pageInfo {{ hasNextPage endCursor }} }}
        pendingIncomingTransactions {{ id }} }} }} }}"""
    status, body = await post(session, simulator, query)

    assert status == 200
    assert "errors" not in body
    me = body["data"]["me"]
    account = me["defaultAccount"]
    assert me["username"] == "satoshi"
    assert account["id"] == simulator.account.id
    assert account["displayCurrency"] == "USD"
    assert [(w["__typename"], w["walletCurrency"]) for w in account["wallets"]] == [
        ("BTCWallet", "BTC"),
        ("UsdWallet", "USD"),
    ]
    edges = account["transactions"]["edges"]
    # the opening balances are a history of their own, newest first
    assert [e["node"]["settlementCurrency"] for e in edges] == ["USD", "BTC"]
    assert all(e["cursor"] == e["node"]["id"] for e in edges)
    for wallet in account["wallets"]:
        booked = [
            e["node"]["settlementAmount"]
            for e in edges
            if e["node"]["settlementCurrency"] == wallet["walletCurrency"]
        ]
        assert wallet["balance"] == sum(booked)
    opening = edges[1]["node"]
    assert opening["settlementDisplayAmount"] == "237.50"  # 250,000 sats at $95,000
    assert opening["settlementVia"]["__typename"] == "SettlementViaLn"
    assert opening["settlementPrice"] == {
        "base": 95_000_000_000,
        "offset": 12,
        "currencyUnit": "MINOR",
        "formattedAmount": "0.095",
    }
    assert account["transactions"]["pageInfo"]["hasNextPage"] is False
    assert account["pendingIncomingTransactions"] == []


async def test_currency_list_offers_real_currencies(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    status, body = await post(
        session, simulator, "{ currencyList { id symbol name flag fractionDigits } }"
    )

    assert status == 200
    currencies = {c["id"]: c for c in body["data"]["currencyList"]}
    assert {"USD", "EUR", "JPY", "CRC"} <= currencies.keys()
    assert currencies["USD"]["fractionDigits"] == 2
    assert currencies["EUR"]["fractionDigits"] == 2
    assert currencies["JPY"]["fractionDigits"] == 0
    assert currencies["CRC"]["fractionDigits"] == 2
    assert currencies["EUR"]["symbol"] == "€"


async def test_realtime_price_uses_blinks_base_and_offset(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    query = """query ($c: DisplayCurrency) { realtimePrice(currency: $c) {
      id timestamp denominatorCurrency denominatorCurrencyDetails { id fractionDigits }
      btcSatPrice { base offset currencyUnit } usdCentPrice { base offset } } }"""

    _, usd = await post(session, simulator, query, key=None)
    _, jpy = await post(session, simulator, query, {"c": "JPY"}, key=None)
    _, bad = await post(session, simulator, query, {"c": "XXX"}, key=None)

    price = usd["data"]["realtimePrice"]
    assert price["denominatorCurrency"] == "USD"
    assert price["btcSatPrice"] == {
        "base": 95_000_000_000,
        "offset": 12,
        "currencyUnit": "MINOR",
    }
    assert price["usdCentPrice"] == {"base": 1_000_000, "offset": 6}
    # 150 yen per dollar, no fraction digits: 0.1425 yen per sat
    assert jpy["data"]["realtimePrice"]["btcSatPrice"]["base"] == 142_500_000_000
    assert jpy["data"]["realtimePrice"]["usdCentPrice"]["base"] == 1_500_000
    assert bad["data"] is None
    assert bad["errors"][0]["message"] == "Invalid currency."
    assert bad["errors"][0]["code"] == "INVALID_INPUT"


async def test_authorization_reports_the_scopes_of_the_key(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.add_key("receive-only", scopes=("RECEIVE",))
    simulator.add_key("no-scopes", scopes=())

    _, full = await post(session, simulator, "{ authorization { scopes } }")
    _, receive = await post(
        session, simulator, "{ authorization { scopes } }", key="receive-only"
    )
    _, empty = await post(
        session, simulator, "{ authorization { scopes } }", key="no-scopes"
    )

    assert full["data"]["authorization"]["scopes"] == ["READ", "RECEIVE", "WRITE"]
    # `authorization` itself needs READ (what-blink-sends 13).
    assert receive["data"] is None
    assert receive["errors"][0]["code"] == "UNEXPECTED_CLIENT_ERROR"
    assert empty["data"]["authorization"]["scopes"] == ["READ", "RECEIVE", "WRITE"]


async def test_a_key_without_read_scope_cannot_read_me(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.add_key("write-only", scopes=("WRITE",))

    status, body = await post(session, simulator, "{ me { id } }", key="write-only")

    assert status == 200
    assert body["data"] == {"me": None}
    # Blink's scope middleware returns its AuthorizationError, which its error
    # map does not know (core/api/src/servers/middlewares/scope.ts, error-map.ts).
    assert body["errors"][0]["message"] == (
        "Unexpected error occurred, please try again or contact support if it"
        " persists (code: AuthorizationError: not authorized to read data)"
    )
    assert body["errors"][0]["code"] == "UNEXPECTED_CLIENT_ERROR"


async def test_wallet_fields_and_lookups(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    paid = await simulator.receive_lightning(5_000, memo="coffee")
    pending = await simulator.receive_onchain(80_000)
    btc = simulator.account.btc_wallet
    query = """query ($w: WalletId!, $t: ID!, $h: PaymentHash!) { me { defaultAccount {
      defaultWalletId defaultWallet { id currency walletCurrency } level
      realtimePrice { denominatorCurrency }
      walletById(walletId: $w) {
        id accountId balance pendingIncomingBalance
        pendingIncomingTransactions { id status direction settlementAmount }
        transactionById(transactionId: $t) { id memo }
        transactionsByPaymentHash(paymentHash: $h) { id }
        transactions(first: 1) { edges { node { id } } pageInfo { hasNextPage } }
      } } } }"""
    assert isinstance(paid.initiation_via.payment_hash, str)  # type: ignore[union-attr]
    variables = {"w": btc.id, "t": paid.id, "h": paid.initiation_via.payment_hash}  # type: ignore[union-attr]

    _, body = await post(session, simulator, query, variables)

    account = body["data"]["me"]["defaultAccount"]
    assert account["defaultWalletId"] == btc.id
    assert account["defaultWallet"] == {
        "id": btc.id,
        "currency": "BTC",
        "walletCurrency": "BTC",
    }
    assert account["realtimePrice"]["denominatorCurrency"] == "USD"
    wallet = account["walletById"]
    assert wallet["accountId"] == simulator.account.id
    assert wallet["balance"] == 255_000
    assert wallet["pendingIncomingBalance"] == 80_000
    assert wallet["pendingIncomingTransactions"] == [
        {
            "id": pending.id,
            "status": "PENDING",
            "direction": "RECEIVE",
            "settlementAmount": 80_000,
        }
    ]
    assert wallet["transactionById"] == {"id": paid.id, "memo": "coffee"}
    assert wallet["transactionsByPaymentHash"] == [{"id": paid.id}]
    assert wallet["transactions"] == {
        "edges": [{"node": {"id": paid.id}}],
        "pageInfo": {"hasNextPage": True},
    }


async def test_lookups_of_unknown_things_are_errors(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    other = simulator.add_account("hal")
    query = """query ($w: WalletId!, $t: ID!) { me { defaultAccount {
      walletById(walletId: $w) { id } } }
      tx: me { defaultAccount { wallets { transactionById(transactionId: $t) { id } } } } }"""

    _, body = await post(
        session, simulator, query, {"w": other.btc_wallet.id, "t": "0" * 24}
    )
    _, filtered = await post(session, simulator, PAGE, {"ids": [other.usd_wallet.id]})

    messages = sorted(error["message"] for error in body["errors"])
    assert messages[0].startswith("Invalid walletId for account")
    assert messages[1].startswith("Transaction not found")
    assert filtered["errors"][0]["code"] == "INVALID_INPUT"


async def test_fields_the_simulator_does_not_serve_say_so(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    _, body = await post(session, simulator, "{ globals { network } }")
    _, mutation = await post(
        session,
        simulator,
        'mutation { userLogout(input: {deviceToken: "x"}) { success } }',
    )

    assert (
        body["errors"][0]["message"]
        == "Query.globals is not served by the Blink simulator"
    )
    assert body["errors"][0]["code"] == "NOT_IMPLEMENTED"
    assert mutation["errors"][0]["code"] == "NOT_IMPLEMENTED"


# --- keys --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["unknown-key", "revoked"])
async def test_an_invalid_key_is_refused_with_401_before_graphql(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, key: str
) -> None:
    simulator.add_key("revoked")
    simulator.revoke_key("revoked")

    for query in ("{ me { id } }", "{ currencyList { id } }"):
        status, body = await post(session, simulator, query, key=key)
        assert status == 401
        assert body["error"]["code"] == 401

    simulator.revoke_key("never-existed")  # harmless
    assert simulator.stats.http_unauthorized == 2
    assert simulator.stats.http_requests == 2
    assert not simulator.stats.http_fields


async def test_without_a_key_public_queries_work_and_me_is_refused(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    status, body = await post(
        session, simulator, "{ currencyList { id } me { id } }", key=None
    )
    _, authorization = await post(
        session, simulator, "{ authorization { scopes } }", key=None
    )

    assert status == 200
    assert body["data"]["currencyList"]
    assert body["data"]["me"] is None
    assert body["errors"] == [
        {
            "message": "Not authorized",
            "locations": [{"line": 1, "column": 23}],
            "path": ["me"],
            "code": "NOT_AUTHORIZED",
        }
    ]
    assert authorization["data"] is None
    assert authorization["errors"][0]["code"] == "NOT_AUTHORIZED"


async def test_keys_of_another_account_see_that_account(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    other = simulator.add_account("hal", display_currency="EUR")
    simulator.add_key("hal-key", account=other)

    _, body = await post(
        session,
        simulator,
        "{ me { username defaultAccount { id displayCurrency } } }",
        key="hal-key",
    )

    assert body["data"]["me"] == {
        "username": "hal",
        "defaultAccount": {"id": other.id, "displayCurrency": "EUR"},
    }


# --- malformed requests ---------------------------------------------------------


async def test_a_typo_in_a_query_fails_validation_with_400(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    status, body = await post(
        session, simulator, "{ me { defaultAccount { walets { id } } } }"
    )

    assert status == 400
    [error] = body["errors"]
    assert error["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "walets" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 25}]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": "{ me { id }"}, "GRAPHQL_PARSE_FAILED"),
        ({"variables": {}}, "BAD_REQUEST"),
        (
            {"query": "query A { me { id } } query B { me { id } }"},
            "OPERATION_RESOLUTION_FAILURE",
        ),
        ({"query": "subscription { myUpdates { errors { message } } }"}, "BAD_REQUEST"),
    ],
)
async def test_malformed_requests_get_400(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    payload: dict[str, Any],
    code: str,
) -> None:
    async with session.post(
        simulator.http_url, json=payload, headers={"X-API-KEY": TEST_API_KEY}
    ) as response:
        body = await response.json()

    assert response.status == 400
    assert body["errors"][0]["code"] == code


async def test_a_body_that_is_not_json_gets_400(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    async with session.post(simulator.http_url, data="{not json") as response:
        assert response.status == 400
    async with session.get(simulator.http_url) as response:
        assert response.status == 400
    async with session.get(
        simulator.http_url.replace("/graphql", "/health")
    ) as response:
        assert response.status == 200


# --- pagination ---------------------------------------------------------------------


async def test_pages_are_newest_first_with_the_id_as_cursor(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    history = simulator.seed_history(count=230, days=30, seed=7)
    newest_first = [tx.id for tx in reversed(history)]

    seen: list[str] = []
    after: str | None = None
    pages = []
    while True:
        _, body = await post(session, simulator, PAGE, {"first": 100, "after": after})
        connection = body["data"]["me"]["defaultAccount"]["transactions"]
        seen += [edge["cursor"] for edge in connection["edges"]]
        pages.append(connection["pageInfo"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == newest_first
    assert [p["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["hasPreviousPage"] for p in pages] == [False, True, True]
    assert pages[0]["startCursor"] == newest_first[0]
    assert pages[-1]["endCursor"] == newest_first[-1]


async def test_pages_without_first_hold_one_hundred_and_filter_by_wallet(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    history = simulator.seed_history(count=150, days=30, seed=3)
    usd = simulator.account.usd_wallet.id
    usd_ids = [tx.id for tx in reversed(history) if tx.wallet_id == usd]

    _, everything = await post(session, simulator, PAGE)
    _, only_usd = await post(session, simulator, PAGE, {"ids": [usd, None]})

    assert (
        len(everything["data"]["me"]["defaultAccount"]["transactions"]["edges"]) == 100
    )
    edges = only_usd["data"]["me"]["defaultAccount"]["transactions"]["edges"]
    assert [edge["cursor"] for edge in edges] == usd_ids[:100]


async def test_last_and_before_page_backwards(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    history = simulator.seed_history(count=20, days=10, seed=5)
    newest_first = [tx.id for tx in reversed(history)]

    _, body = await post(
        session, simulator, PAGE, {"last": 3, "before": newest_first[10]}
    )

    connection = body["data"]["me"]["defaultAccount"]["transactions"]
    assert [edge["cursor"] for edge in connection["edges"]] == newest_first[7:10]
    assert connection["pageInfo"]["hasPreviousPage"] is True
    assert connection["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"first": 101},
            "Requested page size (101) is greater than max allowed page size 100.",
        ),
        ({"first": 0}, "Requested page size (0) must be greater than 0."),
        ({"first": 1, "last": 1}, 'Cannot use both "first" and "last".'),
        ({"after": "not-a-cursor"}, "Invalid cursor: not-a-cursor"),
    ],
)
async def test_bad_pagination_arguments_are_errors(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    variables: dict[str, Any],
    message: str,
) -> None:
    _, body = await post(session, simulator, PAGE, variables)

    assert body["errors"][0]["message"] == message
    assert body["data"]["me"]["defaultAccount"]["transactions"] is None


async def test_an_empty_page(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    oldest = simulator.account.transactions[0].id

    _, body = await post(session, simulator, PAGE, {"after": oldest})

    assert body["data"]["me"]["defaultAccount"]["transactions"] == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


# --- history -----------------------------------------------------------------------


def test_seeded_history_is_realistic_consistent_and_reproducible() -> None:
    # One clock for both: seeded histories end at the simulator's "now", and on a
    # loaded machine the two could straddle a second.
    now = 1_790_000_000.0
    first = BlinkSimulator(seed=4, clock=lambda: now)
    second = BlinkSimulator(seed=4, clock=lambda: now)

    history = first.seed_history(count=300, days=120, seed=9)
    again = second.seed_history(count=300, days=120, seed=9)

    assert history == again
    assert len(history) >= 300  # conversions book two transactions
    account = first.account
    for wallet in account.wallets:
        booked = sum(
            tx.settlement_amount for tx in history if tx.wallet_id == wallet.id
        )
        assert wallet.balance == booked >= 0
    kinds = {(tx.direction, type(tx.settlement_via).__name__) for tx in history}
    assert kinds == {
        ("RECEIVE", "SettlementViaLn"),
        ("RECEIVE", "SettlementViaIntraLedger"),
        ("RECEIVE", "SettlementViaOnChain"),
        ("SEND", "SettlementViaLn"),
        ("SEND", "SettlementViaIntraLedger"),
        ("SEND", "SettlementViaOnChain"),
    }
    created = [tx.created_at for tx in history]
    assert created == sorted(created)
    assert created[-1] - created[0] > 100 * 86_400
    assert [tx.id for tx in history] == sorted(tx.id for tx in history)
    # displayed at the price of their day, not today's
    prices = {
        tx.settlement_price.base for tx in history if tx.settlement_currency == "BTC"
    }
    assert len(prices) > 50


def test_a_different_seed_gives_a_different_history() -> None:
    sim = BlinkSimulator()

    one = [tx.settlement_amount for tx in sim.seed_history(count=50, seed=1)]
    two = [tx.settlement_amount for tx in sim.seed_history(count=50, seed=2)]

    assert one != two


async def test_prices_can_be_moved(simulator: BlinkSimulator) -> None:
    await simulator.set_price(100_000)
    assert simulator.quote().btc_sat_price.base == 100_000_000_000

    assert await simulator.move_price(-2.5) == Decimal("97500.00")
    assert simulator.price == Decimal("97500.00")
    assert simulator.quote("EUR").btc_sat_price.base == 89_700_000_000


async def test_display_currency_changes_display_amounts(
    simulator: BlinkSimulator,
) -> None:
    await simulator.set_display_currency("JPY")

    tx = await simulator.receive_lightning(10_000)

    assert tx.settlement_display_currency == "JPY"
    assert tx.settlement_display_amount == "1425"  # 10,000 sats * 0.1425 yen
    with pytest.raises(ValueError, match="unknown display currency"):
        await simulator.set_display_currency("XXX")
    with pytest.raises(ValueError, match="unknown display currency"):
        simulator.add_account("x", display_currency="XXX")


# --- counters and faults -------------------------------------------------------------


async def test_requests_are_counted_by_operation_and_field(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    await post(
        session, simulator, "query Balances { me { id } }", operation_name="Balances"
    )
    await post(session, simulator, "{ me { id } currencyList { id } }")
    await post(session, simulator, "{ me { id } }")

    stats = simulator.stats
    assert stats.http_requests == 3
    assert stats.http_operations == {"Balances": 1, "me,currencyList": 1, "me": 1}
    assert stats.http_fields == {"me": 3, "currencyList": 1}
    stats.reset()
    assert simulator.stats.http_requests == 0
    assert not simulator.stats.http_operations


async def test_http_failures_can_be_injected(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.fail_http(429, body="slow down", headers={"Retry-After": "7"})
    simulator.fail_http(
        502, body="<html>bad gateway</html>", content_type="text/html", times=2
    )

    responses = []
    for _ in range(4):
        async with session.post(
            simulator.http_url, json={"query": "{ me { id } }"}
        ) as r:
            responses.append((r.status, r.headers.get("Retry-After"), await r.text()))

    assert responses[0] == (429, "7", "slow down")
    assert responses[1][0] == responses[2][0] == 502
    assert responses[3][0] == 200


async def test_http_can_be_slow(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.behaviour.http_delay = 0.2

    with pytest.raises(TimeoutError):
        await session.post(
            simulator.http_url,
            json={"query": "{ currencyList { id } }"},
            timeout=aiohttp.ClientTimeout(total=0.05),
        )


# --- running on its own ----------------------------------------------------------------


async def test_serve_prints_the_urls_and_stops_cleanly(
    socket_enabled: None,
    session: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse_args(["--port", "0", "--key", "demo", "--history", "20", "--walk"])
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(serve(args, stop))
    async with asyncio.timeout(5):
        while "API key" not in capsys.readouterr().out:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    stop.set()
    await task

    assert "Blink simulator stopped" in capsys.readouterr().out


async def test_sigterm_stops_the_server(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse_args(["--port", "0", "--history", "0"])
    task = asyncio.get_running_loop().create_task(serve_until_signalled(args))
    async with asyncio.timeout(5):
        while "API key" not in capsys.readouterr().out:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    signal.raise_signal(signal.SIGTERM)
    await asyncio.wait_for(task, 5)

    assert "Blink simulator stopped" in capsys.readouterr().out


async def test_the_command_line_serves_until_sigterm(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.simulator",
        "--port",
        "0",
        "--key",
        "cli-key",
        "--history",
        "5",
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    assert process.stdout is not None
    lines = [
        (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        for _ in range(4)
    ]
    http_url = lines[1].split()[-1]
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            http_url,
            json={"query": "{ me { username } }"},
            headers={"X-API-KEY": "cli-key"},
        ) as response,
    ):
        body = await response.json()
    process.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(process.stdout.read(), 10)

    assert await process.wait() == 0
    assert lines[0].strip() == "Blink simulator for @satoshi"
    assert lines[2].split()[-1].startswith("ws://127.0.0.1:")
    assert lines[3].split()[-1] == "cli-key"
    assert body == {"data": {"me": {"username": "satoshi"}}}
    assert b"stopped" in rest
