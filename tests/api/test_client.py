"""The HTTP client: typed queries against the simulator, failures as real answers."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import aiohttp
from aiohttp import web
import pytest

from custom_components.blink_wallet.api import (
    PRODUCTION_API_URL,
    BlinkAuthError,
    BlinkClient,
    BlinkConnectionError,
    BlinkError,
    BlinkGraphQLError,
    BlinkModelError,
    BlinkPermissionError,
    BlinkProtocolError,
    BlinkRateLimitError,
    WalletCurrency,
)
from tests.simulator import TEST_API_KEY, BlinkSimulator

from .conftest import serve

SECRET_KEY = "blink_SECRETSECRETSECRET"


@pytest.fixture
def client(session: aiohttp.ClientSession, simulator: BlinkSimulator) -> BlinkClient:
    return BlinkClient(session, TEST_API_KEY, api_url=simulator.http_url)


# --- typed queries ------------------------------------------------------------------


async def test_account_with_both_wallets(client: BlinkClient) -> None:
    account = await client.account()

    assert account.username == "satoshi"
    assert account.display_currency == "USD"
    assert account.btc_wallet is not None
    assert account.btc_wallet.balance == 250_000
    assert account.usd_wallet is not None
    assert account.usd_wallet.balance == 5_000
    assert {w.currency for w in account.wallets} == set(WalletCurrency)


async def test_transactions_page_newest_first_by_cursor(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    total = len(simulator.seed_history(count=30))
    assert 20 < total < 40

    first = await client.transactions(first=20)
    second = await client.transactions(first=20, after=first.end_cursor)

    assert len(first.transactions) == 20
    assert first.has_next_page is True
    assert first.end_cursor == first.transactions[-1].id
    assert len(second.transactions) == total - 20
    assert second.has_next_page is False
    everything = first.transactions + second.transactions
    assert len({tx.id for tx in everything}) == total
    times = [tx.created_at for tx in everything]
    assert times == sorted(times, reverse=True)


async def test_pending_incoming_transactions(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    assert await client.pending_incoming_transactions() == ()
    pending = await simulator.receive_onchain(12_345)

    (seen,) = await client.pending_incoming_transactions()

    assert seen.id == pending.id
    assert seen.settlement == "onchain"
    assert seen.tx_hash is not None


async def test_currency_list(client: BlinkClient) -> None:
    currencies = {c.id: c for c in await client.currency_list()}

    assert currencies["USD"].fraction_digits == 2
    assert currencies["JPY"].fraction_digits == 0


async def test_realtime_price(client: BlinkClient) -> None:
    price = await client.realtime_price("USD")

    assert price.denominator_currency == "USD"
    assert price.btc_sat_price == Decimal("0.095")


async def test_btc_price_history_oldest_first_with_the_live_price_last(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.seed_price_history(days=3)

    points = await client.btc_price_history("ONE_DAY")

    # the past 24 hours but this one (stored once the price moves), then the live price
    assert len(points) - 1 in (23, 24)
    stamps = [p.timestamp for p in points]
    assert stamps == sorted(stamps)
    assert all(s.minute == s.second == 0 for s in stamps[:-1])
    # 95,000 survives Blink's 32-bit float exactly
    assert points[-1].usd_per_btc == Decimal(95_000)
    assert points[-1].price.currency_unit == "USDCENT"


async def test_a_null_price_point_is_dropped(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """The schema lets an item of the list be null; Blink's own app drops those."""
    point = {
        "timestamp": 1_796_245_200,
        "price": {"base": 950_000_000_000, "offset": 4, "currencyUnit": "USDCENT"},
    }

    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"data": {"btcPriceList": [None, point]}})

    app = web.Application()
    app.router.add_post("/graphql", answer)
    async with serve(app) as url:
        client = BlinkClient(session, TEST_API_KEY, api_url=f"{url}/graphql")
        (only,) = await client.btc_price_history("ONE_DAY")

    assert only.usd_per_btc == Decimal(950_000)
    assert only.timestamp == datetime.fromtimestamp(1_796_245_200, UTC)


async def test_btc_price_history_blink_does_not_have(client: BlinkClient) -> None:
    with pytest.raises(BlinkGraphQLError) as refused:
        await client.btc_price_history("ONE_WEEK")

    assert refused.value.codes == ("UNEXPECTED_CLIENT_ERROR",)


async def test_scopes(
    session: aiohttp.ClientSession, simulator: BlinkSimulator, client: BlinkClient
) -> None:
    simulator.add_key("read-only", scopes=("READ",))
    read_only = BlinkClient(session, "read-only", api_url=simulator.http_url)

    assert await client.scopes() == {"READ", "RECEIVE", "WRITE"}
    assert await read_only.scopes() == {"READ"}


async def test_execute_returns_data_and_sends_the_key(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    data = await client.execute("query Who { me { id } }", operation_name="Who")

    assert data["me"]["id"]
    assert simulator.stats.http_operations["Who"] == 1
    assert client.api_url == simulator.http_url


def test_production_is_the_default_endpoint(session: aiohttp.ClientSession) -> None:
    assert BlinkClient(session, "k").api_url == PRODUCTION_API_URL


# --- failures ------------------------------------------------------------------------


async def test_unknown_key_is_an_auth_error(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    client = BlinkClient(session, SECRET_KEY, api_url=simulator.http_url)

    with pytest.raises(BlinkAuthError, match="401") as caught:
        await client.account()

    assert SECRET_KEY not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_status_is_an_auth_error(
    client: BlinkClient, simulator: BlinkSimulator, status: int
) -> None:
    simulator.fail_http(status, body='{"error": "no"}', content_type="application/json")

    with pytest.raises(BlinkAuthError, match=str(status)):
        await client.scopes()


async def test_429_with_retry_after_seconds(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.fail_http(429, body="slow down", headers={"Retry-After": "42"})

    with pytest.raises(BlinkRateLimitError) as caught:
        await client.account()

    assert caught.value.retry_after == 42
    assert isinstance(caught.value, BlinkConnectionError)


async def test_429_with_retry_after_http_date(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    simulator.fail_http(
        429, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )

    with pytest.raises(BlinkRateLimitError) as caught:
        await client.account()

    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


async def test_429_without_retry_after(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.fail_http(429)

    with pytest.raises(BlinkRateLimitError) as caught:
        await client.account()

    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_gateway_html_is_a_retryable_connection_error(
    client: BlinkClient, simulator: BlinkSimulator, status: int
) -> None:
    simulator.fail_http(
        status,
        body="<html><body><h1>502 Bad Gateway</h1></body></html>",
        content_type="text/html",
    )

    with pytest.raises(BlinkConnectionError, match=str(status)) as caught:
        await client.account()

    assert caught.value.retry_after is None
    assert not isinstance(caught.value, BlinkRateLimitError)


async def test_503_with_retry_after(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.fail_http(503, headers={"Retry-After": "7"})

    with pytest.raises(BlinkConnectionError) as caught:
        await client.account()

    assert caught.value.retry_after == 7


async def test_html_with_200_is_a_connection_error(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.fail_http(200, body="<html>maintenance</html>", content_type="text/html")

    with pytest.raises(BlinkConnectionError, match="without JSON"):
        await client.account()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[1, 2]", BlinkProtocolError),
        ('{"data": null}', BlinkProtocolError),
        ('{"data": []}', BlinkProtocolError),
        ('{"data": {"me": {"defaultAccount": null}}}', BlinkModelError),
        ('{"data": {"me": null}}', BlinkAuthError),
        ('{"errors": [{"message": "boom", "code": "INTERNAL"}]}', BlinkGraphQLError),
        ('{"errors": "nonsense", "data": null}', BlinkGraphQLError),
        (
            '{"errors": [{"message": "x", "extensions": {"code": "UNAUTHENTICATED"}}]}',
            BlinkAuthError,
        ),
        ('{"errors": [{"message": "Not authenticated"}]}', BlinkAuthError),
    ],
)
async def test_unexpected_bodies(
    client: BlinkClient, simulator: BlinkSimulator, body: str, error: type[BlinkError]
) -> None:
    simulator.fail_http(200, body=body, content_type="application/json")

    with pytest.raises(error):
        await client.account()


@pytest.mark.parametrize(
    ("call", "data"),
    [
        ("transactions", '{"me": {"defaultAccount": {"transactions": {"edges": 5}}}}'),
        ("transactions", '{"me": {"defaultAccount": null}}'),
        ("pending_incoming_transactions", '{"me": {"defaultAccount": {}}}'),
        (
            "pending_incoming_transactions",
            '{"me": {"defaultAccount": {"pendingIncomingTransactions": 1}}}',
        ),
        ("currency_list", '{"currencyList": {}}'),
        ("currency_list", '{"currencyList": [{"id": "USD"}]}'),
        ("scopes", '{"authorization": {"scopes": [1]}}'),
        ("scopes", '{"authorization": []}'),
        ("realtime_price", '{"realtimePrice": {"timestamp": 1}}'),
    ],
)
async def test_drifted_shapes_are_model_errors(
    client: BlinkClient, simulator: BlinkSimulator, call: str, data: str
) -> None:
    body = f'{{"data": {data}}}'
    simulator.fail_http(200, body=body, content_type="application/json")

    with pytest.raises(BlinkModelError):
        await (
            client.realtime_price("USD")
            if call == "realtime_price"
            else getattr(client, call)()
        )


async def test_top_level_errors_carry_messages_and_codes(client: BlinkClient) -> None:
    with pytest.raises(BlinkGraphQLError) as caught:
        await client.execute("query Broken { me { nope } }")

    assert caught.value.codes == ("GRAPHQL_VALIDATION_FAILED",)
    assert "nope" in caught.value.messages[0]


async def test_missing_scope_is_a_graphql_error(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    simulator.add_key("receive-only", scopes=("RECEIVE",))
    client = BlinkClient(session, "receive-only", api_url=simulator.http_url)

    with pytest.raises(BlinkPermissionError) as caught:
        await client.account()

    # What Blink's scope middleware answers (what-blink-sends 13): its
    # AuthorizationError, unmapped, as an unexpected client error.
    assert caught.value.codes == ("UNEXPECTED_CLIENT_ERROR",)
    assert "not authorized to read data" in str(caught.value)


async def test_slow_answer_is_a_connection_error(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    simulator.behaviour.http_delay = 1.0
    client = BlinkClient(
        session, TEST_API_KEY, api_url=simulator.http_url, request_timeout=0.05
    )

    with pytest.raises(BlinkConnectionError, match="in time"):
        await client.account()


async def test_unreachable_blink_is_a_connection_error(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    client = BlinkClient(session, TEST_API_KEY, api_url=simulator.http_url)
    await simulator.stop()

    with pytest.raises(BlinkConnectionError, match="Cannot reach"):
        await client.account()


async def test_a_server_that_hangs_up_is_a_connection_error(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0)
        return web.Response()

    app = web.Application()
    app.router.add_post("/graphql", hang_up)
    async with serve(app) as url:
        client = BlinkClient(session, TEST_API_KEY, api_url=f"{url}/graphql")
        with pytest.raises(BlinkConnectionError):
            await client.account()


async def test_request_body_and_headers(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    seen: list[tuple[dict[str, str], object]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.json()))
        return web.json_response({"data": {"currencyList": []}})

    app = web.Application()
    app.router.add_post("/graphql", record)
    async with serve(app) as url:
        client = BlinkClient(session, SECRET_KEY, api_url=f"{url}/graphql")
        assert await client.currency_list() == ()

    ((headers, body),) = seen
    assert headers["X-API-KEY"] == SECRET_KEY
    assert headers["Content-Type"] == "application/json"
    assert isinstance(body, dict)
    assert body["operationName"] == "CurrencyList"
    assert body["variables"] == {}
    assert "currencyList" in body["query"]
