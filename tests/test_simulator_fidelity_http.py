"""The simulator answers over HTTP as Blink does: complexity, scopes, invoices, fees.

Each test pins one behaviour of Blink's (the simulator's code cites the Blink
source it follows). Driven with plain aiohttp on 127.0.0.1, never with the
integration's client.
"""

from collections.abc import AsyncIterator, Generator
import hashlib
from typing import Any

import aiohttp
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
import pytest

from custom_components.blink_wallet.api import queries
from tests.simulator import TEST_API_KEY, BlinkSimulator, bolt11
from tests.simulator.complexity import MAXIMUM_COMPLEXITY, complexity
from tests.simulator.lightning import fee_reserve
from tests.simulator.raw import connect

# Until tests/conftest.py registers it for the whole suite.
pytest_plugins = ["tests.simulator.fixtures"]

NO_READ = (
    "Unexpected error occurred, please try again or contact support if it persists"
    " (code: AuthorizationError: not authorized to read data)"
)
TOO_MANY = "Too many invoices creation, please wait for a while and try again."
RECEIVE_DISABLED = (
    "This account can no longer receive payments. If this is your account, please"
    " update the Blink app to migrate your funds."
)
CREATE = """mutation Create($w: WalletId!, $a: SatAmount!, $e: Minutes) {
  lnInvoiceCreate(input: {walletId: $w, amount: $a, expiresIn: $e}) {
    errors { message code path } invoice { paymentRequest } } }"""
CREATE_USD = """mutation CreateUsd($w: WalletId!, $a: CentAmount!, $e: Minutes) {
  lnUsdInvoiceCreate(input: {walletId: $w, amount: $a, expiresIn: $e}) {
    errors { message code path } invoice { paymentRequest } } }"""
TX = """id direction status memo settlementAmount settlementCurrency settlementFee
externalId
settlementVia { __typename
  ... on SettlementViaIntraLedger { counterPartyWalletId counterPartyUsername preImage }
}
initiationVia { __typename
  ... on InitiationViaIntraLedger { counterPartyWalletId counterPartyUsername }
}"""
HISTORY = f"""query History {{ me {{ defaultAccount {{
  wallets {{ walletCurrency balance }}
  transactions(first: 100) {{ edges {{ node {{ {TX} }} }} }} }} }} }}"""
PAY = f"""mutation Pay($w: WalletId!, $r: LnPaymentRequest!) {{
  lnInvoicePaymentSend(input: {{walletId: $w, paymentRequest: $r}}) {{
    errors {{ message code }} status transaction {{ {TX} }} }} }}"""
REMOTE_KEY = 0xFEE


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(simulator: BlinkSimulator) -> Clock:
    """The simulator's clock, stopped: tests move it."""
    stopped = Clock(float(int(simulator.state.clock())))
    simulator.state.clock = stopped
    return stopped


async def post(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str = TEST_API_KEY,
    operation_name: str | None = None,
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation_name is not None:
        body["operationName"] = operation_name
    headers = {"X-API-KEY": key}
    async with session.post(sim.http_url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def create(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    currency: str = "BTC",
    *,
    key: str = TEST_API_KEY,
    expires_in: int | None = None,
    wallet: str | None = None,
) -> dict[str, Any]:
    """Create a BTC (100 sats) or USD (50 cents) invoice; return the payload."""
    usd = currency == "USD"
    account_wallet = sim.account.usd_wallet if usd else sim.account.btc_wallet
    variables = {"w": wallet or account_wallet.id, "a": 50 if usd else 100}
    if expires_in is not None:
        variables["e"] = expires_in
    status, answer = await post(
        session, sim, CREATE_USD if usd else CREATE, variables, key=key
    )
    assert status == 200, answer
    payload: dict[str, Any] = answer["data"][
        "lnUsdInvoiceCreate" if usd else "lnInvoiceCreate"
    ]
    return payload


def refusal(message: str, code: str) -> dict[str, Any]:
    """An invoice payload refused the way Blink's error map words it."""
    return {
        "errors": [{"message": message, "code": code, "path": None}],
        "invoice": None,
    }


def too_complex(value: int) -> dict[str, Any]:
    message = f"Query too complex. Value of {value} is over the maximum 200."
    return {"errors": [{"message": message, "code": "INTERNAL_SERVER_ERROR"}]}


def typenames(count: int) -> str:
    """A query of `count` fields, each costing 1."""
    return "{ " + " ".join(f"t{i}: __typename" for i in range(count)) + " }"


# --- query complexity (HTTP only) ---------------------------------------------------


async def test_an_operation_costing_200_is_refused_before_it_runs(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    refused = await post(session, simulator, typenames(200))
    allowed = await post(session, simulator, typenames(199))

    assert refused == (500, too_complex(200))
    assert allowed[0] == 200
    assert allowed[1]["data"]["t198"] == "Query"


async def test_a_mutation_costs_120_plus_what_it_selects(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    def mutation(fields: int) -> str:
        selected = " ".join(f"f{i}: paymentHash" for i in range(fields))
        return f"""mutation Create($w: WalletId!) {{
          lnInvoiceCreate(input: {{walletId: $w, amount: 10}}) {{
            errors {{ message }} invoice {{ {selected} }} }} }}"""

    wallet = {"w": simulator.account.btc_wallet.id}
    # 120 + errors { message } (2) + invoice (1) + its fields
    refused = await post(session, simulator, mutation(77), wallet)
    allowed = await post(session, simulator, mutation(76), wallet)

    assert refused == (500, too_complex(200))
    assert allowed[0] == 200
    assert allowed[1]["data"]["lnInvoiceCreate"]["errors"] == []
    assert len(simulator.state.invoices) == 1


async def test_two_mutations_in_one_request_are_refused_and_neither_runs(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    query = """mutation Two($w: WalletId!) {
      a: lnInvoiceCreate(input: {walletId: $w, amount: 10}) { errors { message } }
      b: lnInvoiceCreate(input: {walletId: $w, amount: 20}) { errors { message } }
    }"""

    answer = await post(
        session,
        simulator,
        query,
        {"w": simulator.account.btc_wallet.id},
        operation_name="Two",
    )

    assert answer == (500, too_complex(244))
    assert simulator.state.invoices == {}
    assert simulator.stats.http_operations["Two"] == 0


async def test_fragments_count_where_spread_and_first_multiplies_nothing(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.seed_history(count=150)
    ids = " ".join(f"f{i}: id" for i in range(97))
    fragment = f"fragment Tx on Transaction {{ {ids} }}"
    page = "me { defaultAccount { transactions(first: 100) { edges { node { ...Tx } } } } }"
    once = f"query Once {{ {page} }} {fragment}"
    twice = f"query Twice {{ a: {page} b: {page} }} {fragment}"

    # 5 fields down to `node`, then the fragment's 97: 102, whatever `first` says
    status, body = await post(session, simulator, once)
    refused = await post(session, simulator, twice)

    assert status == 200
    assert len(body["data"]["me"]["defaultAccount"]["transactions"]["edges"]) == 100
    assert complexity(once) == 102
    assert refused == (500, too_complex(204))


def test_a_union_costs_its_dearest_member_and_skipped_fields_cost_nothing() -> None:
    query = """query Via($skip: Boolean!) { me { defaultAccount {
      transactions(first: 1) { edges { node {
        id @skip(if: $skip)
        settlementVia { __typename
          ... on SettlementViaLn { preImage }
          ... on SettlementViaIntraLedger { counterPartyUsername counterPartyWalletId }
        } } } } } } }"""

    # me, defaultAccount, transactions, edges, node: 5; settlementVia 1 + (1 + 2)
    assert complexity(query, "Via", {"skip": True}) == 9
    assert complexity(query, "Via", {"skip": False}) == 10
    # unknown variables: the most the operation can cost
    assert complexity(query, "Via") == 10
    with pytest.raises(GraphQLError):
        complexity(query, "Via", {})


def test_only_the_named_operation_counts_and_fragments_without_a_type_cost_their_fields() -> (
    None
):
    document = """
      query Price { globals { network } }
      query Me($full: Boolean!) { me { id ... @include(if: $full) { username } } }"""

    assert complexity(document, "Price") == 2
    # me 1 + id 1, and the username the fragment includes
    assert complexity(document, "Me", {"full": False}) == 2
    assert complexity(document, "Me", {"full": True}) == 3
    # no name: every operation, the most each can cost
    assert complexity(document) == 5


async def test_the_socket_measures_nothing(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    fields = " ".join(f"t{i}: __typename" for i in range(250))
    query = f"subscription Big {{ myUpdates {{ {fields} }} }}"

    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as raw:
        await raw.subscribe("1", query)
        message = await raw.receive()

    assert complexity(query) == 251
    assert message["type"] == "next"
    assert message["payload"]["data"]["myUpdates"]["t249"] == "MyUpdatesPayload"


def _http_documents() -> list[tuple[str, str]]:
    """The client's documents that go over HTTP (subscriptions use the socket)."""
    found = []
    for name, value in vars(queries).items():
        if not isinstance(value, str):
            continue
        try:
            document = parse(value)
        except GraphQLError:
            continue
        if any(
            isinstance(definition, OperationDefinitionNode)
            and definition.operation != OperationType.SUBSCRIPTION
            for definition in document.definitions
        ):
            found.append((name, value))
    return found


HTTP_DOCUMENTS = _http_documents()


def test_the_client_sends_queries_and_mutations() -> None:
    names = {name for name, _ in HTTP_DOCUMENTS}
    assert {"ACCOUNT_QUERY", "LN_INVOICE_PAYMENT_SEND_MUTATION"} <= names


@pytest.mark.parametrize(
    "document", [doc for _, doc in HTTP_DOCUMENTS], ids=[n for n, _ in HTTP_DOCUMENTS]
)
def test_every_client_document_stays_under_blinks_limit(document: str) -> None:
    assert complexity(document) < MAXIMUM_COMPLEXITY


# --- authorization: READ guards every authed query field ----------------------------


@pytest.mark.parametrize(
    ("query", "data"),
    [
        ("{ authorization { scopes } }", None),
        ("{ me { id } }", {"me": None}),
    ],
)
async def test_a_key_without_read_is_refused_as_blinks_scope_middleware_does(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    query: str,
    data: dict[str, Any] | None,
) -> None:
    simulator.add_key("pay-and-receive", scopes=("RECEIVE", "WRITE"))

    status, body = await post(session, simulator, query, key="pay-and-receive")

    assert status == 200
    field = query.split()[1]
    assert body == {
        "data": data,
        "errors": [
            {
                "message": NO_READ,
                "locations": [{"line": 1, "column": 3}],
                "path": [field],
                "code": "UNEXPECTED_CLIENT_ERROR",
            }
        ],
    }


async def test_a_key_with_read_or_without_scopes_reads_its_scopes(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.add_key("read-only", scopes=("READ",))
    simulator.add_key("no-scopes", scopes=())

    _, read = await post(
        session, simulator, "{ authorization { scopes } }", key="read-only"
    )
    _, unscoped = await post(
        session, simulator, "{ authorization { scopes } }", key="no-scopes"
    )

    assert read == {"data": {"authorization": {"scopes": ["READ"]}}}
    assert unscoped["data"]["authorization"]["scopes"] == ["READ", "RECEIVE", "WRITE"]


# --- invoice creation: the limiter, the wind-down, the expiry -----------------------


async def test_sixty_invoices_a_minute_then_five_minutes_blocked(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    # BTC and USD invoices draw on the same allowance
    for i in range(60):
        payload = await create(session, simulator, "USD" if i % 2 else "BTC")
        assert payload["errors"] == [], i
    clock.now += 30

    refused = await create(session, simulator)
    refused_usd = await create(session, simulator, "USD")
    clock.now += 299  # the minute is long over, the block is not
    still = await create(session, simulator)
    clock.now += 1
    again = await create(session, simulator)

    assert refused == refusal(TOO_MANY, "TOO_MANY_REQUEST")
    assert refused_usd == refusal(TOO_MANY, "TOO_MANY_REQUEST")
    assert still == refusal(TOO_MANY, "TOO_MANY_REQUEST")
    assert again["errors"] == []
    assert len(simulator.state.invoices) == 61


async def test_the_allowance_renews_each_minute_and_is_per_account(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    alice = simulator.add_account("alice")
    simulator.add_key("alice-key", account=alice)
    for _ in range(60):
        await create(session, simulator)

    alices = await create(
        session, simulator, key="alice-key", wallet=alice.btc_wallet.id
    )
    clock.now += 60
    renewed = await create(session, simulator)

    assert alices["errors"] == []
    assert renewed["errors"] == []


async def test_an_account_in_wind_down_cannot_receive_and_pays_no_points(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulator.behaviour.invoice_create_limit = (2, 60, 300)
    simulator.disable_receive()

    refused = [await create(session, simulator, c) for c in ("BTC", "USD", "BTC")]
    simulator.behaviour.receive_disabled.clear()
    allowed = [await create(session, simulator) for _ in range(2)]
    over = await create(session, simulator)
    simulator.disable_receive()
    disabled_first = await create(session, simulator)

    assert refused == [refusal(RECEIVE_DISABLED, "RECEIVE_DISABLED")] * 3
    assert [payload["errors"] for payload in allowed] == [[], []]
    assert over == refusal(TOO_MANY, "TOO_MANY_REQUEST")
    # checked before the limiter
    assert disabled_first == refusal(RECEIVE_DISABLED, "RECEIVE_DISABLED")
    assert len(simulator.state.invoices) == 2


@pytest.mark.parametrize(
    ("currency", "minutes", "seconds"),
    [
        ("BTC", None, 4 * 3600),
        ("BTC", 0, 4 * 3600),
        ("BTC", 1, 60),
        ("BTC", 24 * 60, 24 * 3600),
        ("BTC", 24 * 60 + 1, 4 * 3600),
        ("USD", None, 300),
        ("USD", 1, 60),
        ("USD", 5, 300),
        ("USD", 6, 300),
        ("USD", 24 * 60, 300),
    ],
)
async def test_an_expiry_out_of_range_silently_becomes_the_default(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    currency: str,
    minutes: int | None,
    seconds: int,
) -> None:
    payload = await create(session, simulator, currency, expires_in=minutes)

    assert payload["errors"] == []
    request = payload["invoice"]["paymentRequest"]
    assert bolt11.decode(request).expiry == seconds


# --- fee reimbursements ----------------------------------------------------------------


async def history(
    session: aiohttp.ClientSession, sim: BlinkSimulator
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The transactions (newest first) and the balances, checked to agree."""
    status, body = await post(session, sim, HISTORY)
    assert status == 200, body
    account = body["data"]["me"]["defaultAccount"]
    nodes = [edge["node"] for edge in account["transactions"]["edges"]]
    balances = {w["walletCurrency"]: w["balance"] for w in account["wallets"]}
    for currency, balance in balances.items():
        booked = sum(
            n["settlementAmount"] for n in nodes if n["settlementCurrency"] == currency
        )
        assert balance == booked
    return nodes, balances


def reimbursement(tx_id: str, amount: int, memo: str | None) -> dict[str, Any]:
    return {
        "id": tx_id,
        "direction": "RECEIVE",
        "status": "SUCCESS",
        "memo": memo,
        "settlementAmount": amount,
        "settlementCurrency": "BTC",
        "settlementFee": 0,
        "externalId": None,
        "settlementVia": {
            "__typename": "SettlementViaIntraLedger",
            "counterPartyWalletId": None,
            "counterPartyUsername": None,
            "preImage": None,
        },
        "initiationVia": {
            "__typename": "InitiationViaIntraLedger",
            "counterPartyWalletId": None,
            "counterPartyUsername": None,
        },
    }


async def test_a_fee_reimbursement_reads_like_blinks(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    tx = await simulator.reimburse_fee(60)

    nodes, balances = await history(session, simulator)

    assert nodes[0] == reimbursement(tx.id, 60, "fee reimbursement")
    assert balances["BTC"] == 250_060


async def test_a_small_reimbursement_hides_its_memo(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    small = await simulator.reimburse_fee(49)
    shown = await simulator.reimburse_fee(49, hide_small_memo=False)

    nodes, _ = await history(session, simulator)

    assert nodes[1] == reimbursement(small.id, 49, None)
    assert nodes[0] == reimbursement(shown.id, 49, "fee reimbursement")


async def test_a_fee_reimbursement_is_published_to_nobody(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    query = "subscription { myUpdates { update { __typename } } }"
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as raw:
        await raw.subscribe("1", query)
        await raw.receive()  # Price
        await raw.receive()  # RealtimePrice
        await simulator.reimburse_fee(500)
        await simulator.receive_lightning(1_000)
        message = await raw.receive()

    assert message["payload"]["data"]["myUpdates"]["update"] == {
        "__typename": "LnUpdate"
    }


def external_invoice(sim: BlinkSimulator, sats: int) -> str:
    """An invoice of a node outside Blink."""
    fields = bolt11.invoice_fields(
        payment_hash=hashlib.sha256(b"fees").hexdigest(),
        payment_secret="33" * 32,
        memo="outside",
        expiry=3600,
    )
    return bolt11.encode(
        prefix="lnbc",
        amount_msat=sats * 1000,
        timestamp=int(sim.state.clock()),
        fields=fields,
        private_key=REMOTE_KEY,
    )


@pytest.mark.parametrize(
    ("reimbursing", "fee", "back"), [(False, 200, None), (True, 500, 300)]
)
async def test_a_payment_out_gets_the_unused_fee_reserve_back_when_reimbursing(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    reimbursing: bool,
    fee: int,
    back: int | None,
) -> None:
    simulator.behaviour.reimburse_fees = reimbursing
    variables = {
        "w": simulator.account.btc_wallet.id,
        "r": external_invoice(simulator, 100_000),
    }

    status, answer = await post(session, simulator, PAY, variables)
    nodes, balances = await history(session, simulator)

    assert status == 200
    payload = answer["data"]["lnInvoicePaymentSend"]
    assert payload["status"] == "SUCCESS"
    # the reserve (0.5 %) when reimbursing, else the routing fee alone (0.2 %)
    assert payload["transaction"]["settlementFee"] == fee
    assert payload["transaction"]["settlementAmount"] == -100_000 - fee
    send = [n for n in nodes if n["id"] == payload["transaction"]["id"]]
    assert len(send) == 1
    if back is None:  # Blink's default: skipFeeReimbursement
        assert nodes[0]["id"] == payload["transaction"]["id"]
    else:
        assert nodes[0] == reimbursement(nodes[0]["id"], back, "fee reimbursement")
        assert nodes[1]["id"] == payload["transaction"]["id"]
    assert balances["BTC"] == 250_000 - 100_200


@pytest.mark.parametrize(
    ("sats", "reserve"),
    [(1, 10), (1_000, 10), (2_000, 10), (2_200, 11), (10_300, 51), (10_301, 52)],
)
def test_the_fee_reserve_is_blinks(sats: int, reserve: int) -> None:
    assert fee_reserve(sats) == reserve
