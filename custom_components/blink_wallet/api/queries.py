"""Every GraphQL document the client sends, in one place.

Only non-deprecated fields are read: the payment updates' own `paymentHash`,
`walletId`, `amount` and `txHash` are deprecated in favour of their `transaction`.
A test validates each document against Blink's public schema.
"""

from typing import Final

# The fields of a transaction, without `createdAt`: pushed and read alike.
_TRANSACTION_BODY: Final = """
  id
  direction
  status
  memo
  settlementAmount
  settlementCurrency
  settlementFee
  settlementDisplayAmount
  settlementDisplayCurrency
  externalId
  settlementVia {
    __typename
    ... on SettlementViaOnChain { transactionHash }
    ... on SettlementViaIntraLedger { counterPartyWalletId counterPartyUsername }
  }
  initiationVia {
    __typename
    ... on InitiationViaLn { paymentHash }
  }
"""

TRANSACTION_FRAGMENT: Final = (
    "\nfragment TransactionFields on Transaction {\n  createdAt"
    + _TRANSACTION_BODY
    + "}\n"
)

# What `myUpdates` pushes has no usable `createdAt`: Blink's pubsub JSON-round-trips
# the transaction, its `Date` becomes a string, and the `Timestamp` scalar then
# serialises an error object in its place (core/api/src/services/pubsub.ts,
# core/api/src/graphql/shared/types/scalar/timestamp.ts). Blink's own clients do not
# select it either; a pushed transaction is dated by its arrival.
PUSHED_TRANSACTION_FRAGMENT: Final = (
    "\nfragment PushedTransactionFields on Transaction {" + _TRANSACTION_BODY + "}\n"
)

REALTIME_PRICE_FRAGMENT: Final = """
fragment RealtimePriceFields on RealtimePrice {
  timestamp
  denominatorCurrencyDetails { id }
  btcSatPrice { base offset }
  usdCentPrice { base offset }
}
"""

# `username` is deprecated but the only source of the Lightning address.
ACCOUNT_FRAGMENT: Final = """
fragment AccountFields on User {
  id
  username
  defaultAccount {
    id
    displayCurrency
    wallets { id walletCurrency balance pendingIncomingBalance }
  }
}
"""

ACCOUNT_QUERY: Final = (
    """
query Account {
  me { ...AccountFields }
}
"""
    + ACCOUNT_FRAGMENT
)

TRANSACTIONS_QUERY: Final = (
    """
query Transactions($first: Int, $after: String) {
  me {
    defaultAccount {
      transactions(first: $first, after: $after) {
        edges { cursor node { ...TransactionFields } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
    + TRANSACTION_FRAGMENT
)

PENDING_INCOMING_TRANSACTIONS_QUERY: Final = (
    """
query PendingIncomingTransactions {
  me {
    defaultAccount {
      pendingIncomingTransactions { ...TransactionFields }
    }
  }
}
"""
    + TRANSACTION_FRAGMENT
)

# Blink's price history: US cents per BTC whatever the display currency, buckets
# per range, the live price appended (see tests/simulator/price_history.py).
BTC_PRICE_LIST_QUERY: Final = """
query BtcPriceList($range: PriceGraphRange!) {
  btcPriceList(range: $range) {
    timestamp
    price { base offset currencyUnit }
  }
}
"""

CURRENCY_LIST_QUERY: Final = """
query CurrencyList {
  currencyList { id symbol name flag fractionDigits }
}
"""

REALTIME_PRICE_QUERY: Final = (
    """
query RealtimePrice($currency: DisplayCurrency) {
  realtimePrice(currency: $currency) { ...RealtimePriceFields }
}
"""
    + REALTIME_PRICE_FRAGMENT
)

SCOPES_QUERY: Final = """
query Scopes {
  authorization { scopes }
}
"""

LN_INVOICE_PAYMENT_STATUS_BY_HASH_QUERY: Final = """
query LnInvoicePaymentStatusByHash($paymentHash: PaymentHash!) {
  lnInvoicePaymentStatusByHash(input: { paymentHash: $paymentHash }) {
    paymentHash
    paymentRequest
    status
  }
}
"""

# `Price` is also a member of the union; its fields are not selected because
# `RealtimePrice` carries the same price, exactly, in every currency. `me` is the
# account, read as each update goes out: it comes with every `RealtimePrice` (every
# 30 s) and every payment, null only with `Price`
# (core/api/src/graphql/public/root/subscription/my-updates.ts).
MY_UPDATES_SUBSCRIPTION: Final = (
    """
subscription MyUpdates {
  myUpdates {
    errors { message code }
    me { ...AccountFields }
    update {
      __typename
      ... on RealtimePrice { ...RealtimePriceFields }
      ... on LnUpdate { status transaction { ...PushedTransactionFields } }
      ... on OnChainUpdate {
        txNotificationType
        transaction { ...PushedTransactionFields }
      }
      ... on IntraLedgerUpdate {
        txNotificationType
        transaction { ...PushedTransactionFields }
      }
    }
  }
}
"""
    + ACCOUNT_FRAGMENT
    + REALTIME_PRICE_FRAGMENT
    + PUSHED_TRANSACTION_FRAGMENT
)

REALTIME_PRICE_SUBSCRIPTION: Final = (
    """
subscription RealtimePriceUpdates($currency: DisplayCurrency!) {
  realtimePrice(input: { currency: $currency }) {
    errors { message code }
    realtimePrice { ...RealtimePriceFields }
  }
}
"""
    + REALTIME_PRICE_FRAGMENT
)

PRICE_SUBSCRIPTION: Final = """
subscription PriceUpdates(
  $amount: SatAmount!
  $amountCurrencyUnit: ExchangeCurrencyUnit!
  $priceCurrencyUnit: ExchangeCurrencyUnit!
) {
  price(
    input: {
      amount: $amount
      amountCurrencyUnit: $amountCurrencyUnit
      priceCurrencyUnit: $priceCurrencyUnit
    }
  ) {
    errors { message code }
    price { base offset currencyUnit formattedAmount }
  }
}
"""

LN_INVOICE_PAYMENT_STATUS_BY_HASH_SUBSCRIPTION: Final = """
subscription LnInvoicePaymentStatusByHash($paymentHash: PaymentHash!) {
  lnInvoicePaymentStatusByHash(input: { paymentHash: $paymentHash }) {
    errors { message code }
    paymentHash
    paymentRequest
    status
  }
}
"""

LN_INVOICE_FRAGMENT: Final = """
fragment LnInvoiceFields on LnInvoice {
  paymentRequest
  paymentHash
  satoshis
  paymentStatus
  createdAt
}
"""

# Optional inputs are left out of `variables` when unset, so that Blink applies
# its own defaults (the expiry above all) rather than an explicit null.
LN_INVOICE_CREATE_MUTATION: Final = (
    """
mutation LnInvoiceCreate(
  $walletId: WalletId!
  $amount: SatAmount!
  $memo: Memo
  $expiresIn: Minutes
) {
  lnInvoiceCreate(
    input: { walletId: $walletId, amount: $amount, memo: $memo, expiresIn: $expiresIn }
  ) {
    errors { message code }
    invoice { ...LnInvoiceFields }
  }
}
"""
    + LN_INVOICE_FRAGMENT
)

LN_USD_INVOICE_CREATE_MUTATION: Final = (
    """
mutation LnUsdInvoiceCreate(
  $walletId: WalletId!
  $amount: CentAmount!
  $memo: Memo
  $expiresIn: Minutes
) {
  lnUsdInvoiceCreate(
    input: { walletId: $walletId, amount: $amount, memo: $memo, expiresIn: $expiresIn }
  ) {
    errors { message code }
    invoice { ...LnInvoiceFields }
  }
}
"""
    + LN_INVOICE_FRAGMENT
)

LN_INVOICE_PAYMENT_SEND_MUTATION: Final = (
    """
mutation LnInvoicePaymentSend(
  $walletId: WalletId!
  $paymentRequest: LnPaymentRequest!
  $memo: Memo
) {
  lnInvoicePaymentSend(
    input: { walletId: $walletId, paymentRequest: $paymentRequest, memo: $memo }
  ) {
    errors { message code }
    status
    transaction { ...TransactionFields }
  }
}
"""
    + TRANSACTION_FRAGMENT
)

LN_ADDRESS_PAYMENT_SEND_MUTATION: Final = (
    """
mutation LnAddressPaymentSend(
  $walletId: WalletId!
  $lnAddress: String!
  $amount: SatAmount!
) {
  lnAddressPaymentSend(
    input: { walletId: $walletId, lnAddress: $lnAddress, amount: $amount }
  ) {
    errors { message code }
    status
    transaction { ...TransactionFields }
  }
}
"""
    + TRANSACTION_FRAGMENT
)
