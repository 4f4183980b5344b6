"""Reading failures: Retry-After, GraphQL error lists, messages fit for a log."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from custom_components.blink_wallet.api import BlinkGraphQLError
from custom_components.blink_wallet.api._errors import (
    MAX_RETRY_AFTER,
    cut,
    graphql_error,
    retry_after,
    says_unauthenticated,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-5", 0.0),
        ("nan", None),
        ("99999999", MAX_RETRY_AFTER),
        ("soon", None),
        ("Mon, 99 Foo 2025 99:99:99 GMT", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    headers = {} if value is None else {"Retry-After": value}

    assert retry_after(headers) == expected


def test_retry_after_http_date_in_the_future() -> None:
    when = datetime.now(UTC) + timedelta(seconds=60)

    seconds = retry_after({"Retry-After": format_datetime(when, usegmt=True)})

    assert seconds is not None
    assert 50 < seconds <= 60


def test_retry_after_date_without_zone_is_read_as_utc() -> None:
    when = datetime.now(UTC) + timedelta(seconds=60)
    naive = when.strftime("%a, %d %b %Y %H:%M:%S -0000")

    seconds = retry_after({"Retry-After": naive})

    assert seconds is not None
    assert 50 < seconds <= 60


def test_retry_after_without_headers() -> None:
    assert retry_after(None) is None


def test_graphql_error_reads_messages_and_codes_of_any_shape() -> None:
    error = graphql_error(
        [
            {"message": "top-level code", "code": "NOT_AUTHORIZED"},
            {"message": "extension code", "extensions": {"code": "BAD_USER_INPUT"}},
            {"message": 5},
            "a bare string",
            {"message": "x" * 500},
        ]
    )

    assert error.codes == ("NOT_AUTHORIZED", "BAD_USER_INPUT", None, None, None)
    assert error.messages[:4] == (
        "top-level code",
        "extension code",
        "unknown error",
        "a bare string",
    )
    assert len(error.messages[4]) < 200


def test_graphql_error_from_a_single_object() -> None:
    error = graphql_error({"message": "alone"})

    assert error.messages == ("alone",)


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([{"message": "Not Authenticated for subscription"}], True),
        ([{"message": "x", "code": "NOT_AUTHENTICATED"}], True),
        ([{"message": "x", "extensions": {"code": "UNAUTHENTICATED"}}], True),
        ([{"message": "x", "code": "unauthenticated"}], True),
        ([{"message": "Not authorized", "code": "NOT_AUTHORIZED"}], False),
        ([{"message": "Invalid currency."}], False),
    ],
)
def test_says_unauthenticated(errors: list[object], expected: bool) -> None:
    assert says_unauthenticated(graphql_error(errors)) is expected


def test_graphql_error_summary_is_short() -> None:
    error = BlinkGraphQLError(["y" * 1000])

    assert len(str(error)) < 250
    assert str(BlinkGraphQLError([])) == "Blink answered with an error: unknown error"


def test_cut_folds_whitespace_and_decodes_bytes() -> None:
    assert cut("a \n\t b") == "a b"
    assert cut(b"\xff ok") == "\ufffd ok"
    assert cut("z" * 10, 4) == "zzzz…"
