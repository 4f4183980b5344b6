"""Balance history in long-term statistics, the way core's tibber imports consumption.

At the first setup the wallet's transaction history is read (bounded, see
`HISTORY_DAYS`) and every past hour's balance is imported as external statistics
(`blink_wallet:<account>_<currency>_balance`), so a statistics graph shows the
past from the day the integration is added. After that the series is continued
hour by hour from what the integration already sees (pushes and catch-ups): each
update starts at the hour after the last imported one, so nothing is imported twice
and the seam has no gap.

A balance at any moment follows from the balance now and the transactions since:
balance(t) = balance(now) - the settled amounts of every transaction after t.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .api import Account, Transaction, TxStatus, Wallet, WalletCurrency
from .const import DOMAIN, LOGGER

# How far back the first import reads: a year of balance history is what a
# statistics graph is used for, and it bounds the requests of the first setup.
HISTORY_DAYS = 366
HOUR = timedelta(hours=1)
UNITS = {WalletCurrency.BTC: "sat", WalletCurrency.USD: "USD"}
CENT = Decimal("0.01")


def statistic_id(account_id: str, currency: WalletCurrency) -> str:
    """Return the external statistic id of one wallet's balance."""
    account = "".join(c if c.isalnum() else "_" for c in account_id.lower())
    return f"{DOMAIN}:{account}_{currency.value.lower()}_balance"


def _moves(tx: Transaction) -> bool:
    # Failed payments never moved money; pending sends already did.
    return tx.status is not TxStatus.FAILURE


@dataclass(frozen=True, slots=True)
class HourlyBalance:
    """One hour of a wallet's balance, in the wallet's minor unit."""

    start: datetime
    state: int
    minimum: int
    maximum: int
    mean: float


def hourly_balances(
    balance_now: int,
    transactions: Iterable[Transaction],
    first_hour: datetime,
    end: datetime,
) -> list[HourlyBalance]:
    """Hours from `first_hour` up to (not including) the hour of `end`.

    `transactions` must hold every transaction of the wallet since `first_hour`.
    """
    changes = sorted(
        (tx.created_at, tx.settlement_amount) for tx in transactions if _moves(tx)
    )
    changes = [(at, amount) for at, amount in changes if at >= first_hour]
    balance = balance_now - sum(amount for _, amount in changes)
    hours: list[HourlyBalance] = []
    hour = first_hour
    index = 0
    while hour + HOUR <= end:
        hour_end = hour + HOUR
        low = high = balance
        weighted = 0.0
        since = hour
        while index < len(changes) and changes[index][0] < hour_end:
            at, amount = changes[index]
            weighted += balance * (at - since).total_seconds()
            balance += amount
            low, high = min(low, balance), max(high, balance)
            since = at
            index += 1
        weighted += balance * (hour_end - since).total_seconds()
        hours.append(
            HourlyBalance(hour, balance, low, high, weighted / HOUR.total_seconds())
        )
        hour = hour_end
    return hours


class BalanceStatistics:
    """Imports and continues the balance statistics of one account."""

    def __init__(self, hass: HomeAssistant, title: str) -> None:
        """Statistics named after the entry's title."""
        self._hass = hass
        self._title = title

    def available(self) -> bool:
        """Whether the recorder runs (statistics are skipped without it)."""
        return "recorder" in self._hass.config.components

    async def async_last_hour(
        self, account: Account, wallet: Wallet
    ) -> datetime | None:
        """Return the start of the last imported hour of a wallet, if any."""
        stat_id = statistic_id(account.id, wallet.currency)
        last = await get_instance(self._hass).async_add_executor_job(
            get_last_statistics,
            self._hass,
            1,
            stat_id,
            True,  # noqa: FBT003 - convert units, as get_last_statistics is called
            {"state"},
        )
        if not last.get(stat_id):
            return None
        return dt_util.utc_from_timestamp(last[stat_id][0]["start"])

    async def async_next_hour(self, account: Account) -> datetime | None:
        """Return the first hour some wallet still lacks; None before any import."""
        lasts = [await self.async_last_hour(account, w) for w in account.wallets]
        if not lasts or any(last is None for last in lasts):
            return None
        return min(last for last in lasts if last is not None) + HOUR

    async def async_import(
        self,
        account: Account,
        transactions: Sequence[Transaction],
        *,
        history_start: datetime | None,
        now: datetime | None = None,
    ) -> int:
        """Import every complete hour not imported yet; return how many rows.

        `transactions` must cover everything since the last imported hour (or since
        `history_start` when nothing was imported yet).
        """
        now = now or dt_util.utcnow()
        imported = 0
        # Every lookup first, then every write with no await in between: an unload
        # cancels this task, and one wallet imported and not the other would read
        # to the next start as no import at all (the whole history read again).
        lasts = [await self.async_last_hour(account, w) for w in account.wallets]
        for wallet, last in zip(account.wallets, lasts, strict=True):
            if last is not None:
                first_hour = last + HOUR
            elif history_start is not None:
                first_hour = _hour_of(history_start)
            else:
                continue  # the history import has not run for this wallet
            hours = hourly_balances(
                wallet.balance,
                [
                    tx
                    for tx in transactions
                    if tx.settlement_currency is wallet.currency
                ],
                first_hour,
                now,
            )
            if not hours:
                continue
            self._add(account, wallet.currency, hours)
            imported += len(hours)
            LOGGER.debug(
                "Imported %s hours of %s balance statistics of %s from %s",
                len(hours),
                wallet.currency,
                self._title,
                hours[0].start,
            )
        return imported

    def _add(
        self, account: Account, currency: WalletCurrency, hours: list[HourlyBalance]
    ) -> None:
        scale = CENT if currency is WalletCurrency.USD else Decimal(1)
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.ARITHMETIC,
            has_sum=False,
            name=f"{self._title} {'BTC' if currency is WalletCurrency.BTC else 'Stablesats'} balance",
            source=DOMAIN,
            statistic_id=statistic_id(account.id, currency),
            unit_class=None,
            unit_of_measurement=UNITS[currency],
        )
        rows = [
            StatisticData(
                start=hour.start,
                state=float(hour.state * scale),
                min=float(hour.minimum * scale),
                max=float(hour.maximum * scale),
                mean=float(Decimal(hour.mean) * scale),
            )
            for hour in hours
        ]
        async_add_external_statistics(self._hass, metadata, rows)


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
