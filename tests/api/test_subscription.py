"""The subscription state machine on its own: transitions and deadlines, no socket."""

from collections.abc import Callable
import logging

import pytest

from custom_components.blink_wallet.api import BlinkModelError
from custom_components.blink_wallet.api.backoff import Backoff
from custom_components.blink_wallet.api.models import SubscriptionData
from custom_components.blink_wallet.api.subscription import Due, Subscription

SILENCE = 600.0
RESUBSCRIBE = 75.0

type Build = Callable[..., Subscription]


@pytest.fixture
def build() -> Build:
    def make(*, silence: float | None = SILENCE, **kwargs: object) -> Subscription:
        handler = kwargs.pop("handler", lambda _data: None)
        return Subscription(
            "subscription S { s }",
            {},
            "S",
            handler,  # type: ignore[arg-type]
            silence_timeout=silence,
            resubscribe_timeout=RESUBSCRIBE,
            backoff=Backoff(1.0, 300.0, rng=lambda: 1.0),
            on_cancel=kwargs.pop("on_cancel", lambda _s: None),  # type: ignore[arg-type]
        )

    return make


def test_a_new_subscription_is_due_at_once_and_then_watched_for_silence(
    build: Build,
) -> None:
    sub = build()
    assert sub.due(0.0) is Due.SUBSCRIBE
    assert sub.deadline() is None

    assert sub.start("1", 10.0) is False  # nothing was lost: no catch-up
    assert sub.op_id == "1"
    assert sub.deadline() == 10.0 + SILENCE
    assert sub.due(10.0 + SILENCE - 1) is Due.NOTHING
    assert sub.due(10.0 + SILENCE) is Due.SILENT

    sub.healthy(100.0)
    assert sub.deadline() == 100.0 + SILENCE


def test_a_stream_that_is_not_watched_has_no_deadline(build: Build) -> None:
    sub = build(silence=None)
    sub.start("1", 0.0)
    assert sub.deadline() is None
    assert sub.due(10**9) is Due.NOTHING


def test_silence_resubscribes_once_with_a_shorter_deadline(build: Build) -> None:
    sub = build()
    sub.start("1", 0.0)

    assert sub.silent() is True
    assert sub.drop() == "1"
    assert sub.start("2", SILENCE) is True  # its stream was lost: catch up
    assert sub.deadline() == SILENCE + RESUBSCRIBE
    assert sub.silent() is False  # silent again: the socket must go

    sub.healthy(SILENCE + 1)  # data after all: back to the long deadline
    assert sub.silent() is True


def test_a_refused_subscription_waits_a_doubling_backoff(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    sub = build()
    sub.start("1", 0.0)
    sub.drop()

    sub.retry_later(0.0, "refused")
    assert sub.due(0.5) is Due.NOTHING
    assert sub.deadline() == 1.0
    assert sub.due(1.0) is Due.SUBSCRIBE
    sub.retry_later(1.0, "refused again")
    assert sub.deadline() == 3.0
    # One warning, then debug until it works; then it says so.
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.DEBUG]
    assert sub.refused() == 1
    assert sub.refused() == 2
    sub.start("2", 3.0)
    sub.healthy(5.0)
    assert sub.refused() == 1
    assert "works again" in caplog.text
    sub.drop()
    sub.retry_later(5.0, "refused after working")
    assert sub.deadline() == 6.0  # the backoff starts again from its base


def test_a_key_check_holds_it_until_a_new_socket(build: Build) -> None:
    sub = build()
    sub.start("1", 0.0)
    sub.drop()
    sub.confirm_key()
    assert sub.due(10**9) is Due.NOTHING
    assert sub.deadline() is None

    sub.reset()
    assert sub.due(0.0) is Due.SUBSCRIBE
    assert sub.start("1", 0.0) is False  # a new socket is no lost stream


def test_cancel_tells_the_socket_once(build: Build) -> None:
    cancelled: list[Subscription] = []
    sub = build(on_cancel=cancelled.append)
    sub.cancel()
    sub.cancel()
    assert cancelled == [sub]
    assert not sub.active


def test_a_handler_bug_is_logged_not_raised(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_data: SubscriptionData | BlinkModelError) -> None:
        msg = "owner bug"
        raise RuntimeError(msg)

    build(handler=broken).deliver(SubscriptionData())

    assert "Error handling an update of S" in caplog.text
