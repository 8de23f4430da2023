"""The strategy toolkit: pure pieces every bot's strategy uses (quotes, ...).

Foundation-level code: it imports only `shared.domain` and `shared.strategy_contract`, never the
runtime, the execution layer, the journal or a broker client (see `tests/test_architecture.py`).
"""
