"""Deep partial deltas (saxo_api.md §3.5): only changed nested fields, null when cleared."""

from __future__ import annotations

from shared.saxo_sim.streaming.deltas import deep_delta, is_meaningful


def test_delta_keeps_only_changed_nested_fields() -> None:
    old = {"Uic": 1, "Quote": {"Bid": 1.0, "Ask": 1.2, "Mid": 1.1}, "LastUpdated": "t1"}
    new = {"Uic": 1, "Quote": {"Bid": 1.0, "Ask": 1.3, "Mid": 1.15}, "LastUpdated": "t2"}

    assert deep_delta(old, new) == {"Quote": {"Ask": 1.3, "Mid": 1.15}, "LastUpdated": "t2"}


def test_cleared_field_is_sent_as_null() -> None:
    assert deep_delta({"Quote": {"Bid": 1.0, "Ask": 2.0}}, {"Quote": {"Ask": 2.0}}) == {
        "Quote": {"Bid": None}
    }


def test_timestamp_only_change_is_not_worth_sending() -> None:
    delta = deep_delta(
        {"LastUpdated": "t1", "Quote": {"Bid": 1}}, {"LastUpdated": "t2", "Quote": {"Bid": 1}}
    )

    assert delta == {"LastUpdated": "t2"}
    assert not is_meaningful(delta)
