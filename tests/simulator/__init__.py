"""A local Blink (HTTP GraphQL + graphql-transport-ws) for tests and the demo.

See `BlinkSimulator`; `tests.simulator.fixtures` provides the `simulator` fixture.
"""

from .simulator import TEST_API_KEY, BlinkSimulator
from .state import ALL_SCOPES, Invoice, SentPayment, Transaction

__all__ = [
    "ALL_SCOPES",
    "TEST_API_KEY",
    "BlinkSimulator",
    "Invoice",
    "SentPayment",
    "Transaction",
]
