"""Tests of the Blink Wallet integration."""
