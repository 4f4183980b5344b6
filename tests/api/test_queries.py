"""Every GraphQL document of the client is valid against Blink's public schema."""

from functools import cache
from pathlib import Path

from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule
import pytest

from custom_components.blink_wallet.api import queries

SCHEMA = Path(__file__).parent.parent / "simulator" / "blink-public-schema.graphql"
DOCUMENTS = {
    name: value
    for name, value in vars(queries).items()
    if name.endswith(("_QUERY", "_SUBSCRIPTION", "_MUTATION"))
}


# Deprecated, yet the only source of the Lightning address (contract: "Lightning
# address"); Blink still serves it.
ALLOWED_DEPRECATED = {"The field User.username is deprecated."}


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA.read_text(encoding="utf-8"))


def test_the_documents_the_brief_names_exist() -> None:
    assert {
        "ACCOUNT_QUERY",
        "TRANSACTIONS_QUERY",
        "PENDING_INCOMING_TRANSACTIONS_QUERY",
        "CURRENCY_LIST_QUERY",
        "REALTIME_PRICE_QUERY",
        "SCOPES_QUERY",
        "MY_UPDATES_SUBSCRIPTION",
        "REALTIME_PRICE_SUBSCRIPTION",
        "PRICE_SUBSCRIPTION",
    } <= DOCUMENTS.keys()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_and_reads_no_deprecated_field(name: str) -> None:
    errors = validate(
        schema(), parse(DOCUMENTS[name]), [*specified_rules, NoDeprecatedCustomRule]
    )

    messages = [error.message for error in errors]
    assert [
        m for m in messages if m.split(". ")[0] + "." not in ALLOWED_DEPRECATED
    ] == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_one_named_operation_of_its_kind(name: str) -> None:
    document = parse(DOCUMENTS[name])
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]

    assert len(operations) == 1
    operation = operations[0]
    assert operation.name is not None
    kind = name.rsplit("_", 1)[1].lower()
    assert operation.operation.value == kind


def test_transactions_share_one_fragment() -> None:
    with_transactions = [
        name for name, document in DOCUMENTS.items() if "Transaction" in document
    ]

    assert with_transactions
    for name in with_transactions:
        if "...TransactionFields" in DOCUMENTS[name]:
            assert queries.TRANSACTION_FRAGMENT in DOCUMENTS[name]
