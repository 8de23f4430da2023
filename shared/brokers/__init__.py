"""Broker adapters: SaxoBroker (over SaxoClient) and DryRunBroker (local fills at quoted prices)."""
