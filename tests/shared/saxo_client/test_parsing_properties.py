"""Generated Saxo payloads (recorded shapes with fields removed, nulled or of the wrong type)
give the parsers' own SaxoPayloadError or a value: never another exception that would fail a
trading-loop pass."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.saxo_client.errors import SaxoPayloadError
from shared.saxo_client.parsing import parse_info_price_list, parse_option_space
from shared.saxo_client.trading_parsing import (
    parse_activities,
    parse_balance,
    parse_open_orders,
    parse_positions,
    parse_single_order,
    placed_order_ids,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "saxo"

PARSERS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "positions": ("positions_options.json", parse_positions),
    "info_prices": ("infoprices_list_options.json", parse_info_price_list),
    "activities": ("activities_final_fill.json", parse_activities),
    "activities_partial": ("activities_partial_then_cancelled.json", parse_activities),
    "balance": ("balance.json", parse_balance),
    "option_space": ("option_space.json", lambda body: parse_option_space(body, "SPXW")),
    "open_orders": ("single_order_working.json", parse_open_orders),
    "single_order": ("single_order_working.json", parse_single_order),
    "placed_order": ("single_order_working.json", placed_order_ids),
}

wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.builds(list),  # a fresh object each draw: never one container inside itself
    st.builds(dict),
    st.lists(st.none(), min_size=1, max_size=1),
)


def containers(node: Any, found: list[Any]) -> list[Any]:
    """Every dict and list inside `node` (including `node`), depth first."""
    if isinstance(node, dict | list):
        found.append(node)
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            containers(child, found)
    return found


@st.composite
def mutated(draw: st.DrawFn, payload: Any) -> Any:
    document = copy.deepcopy(payload)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        nodes = containers(document, [])
        node = draw(st.sampled_from(nodes))
        if not node:
            continue
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        if isinstance(node, dict) and draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(wrong_values)
    return document


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=80, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_malformed_payload_is_a_payload_error_or_a_value(name: str, data: st.DataObject) -> None:
    resource, parse = PARSERS[name]
    payload = data.draw(mutated(json.loads((RESOURCES / resource).read_text())))

    try:
        parse(payload)
    except SaxoPayloadError as exc:
        assert str(exc)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=20, derandomize=True, deadline=None)
@given(body=wrong_values)
def test_a_body_of_the_wrong_type_is_a_payload_error_or_a_value(name: str, body: Any) -> None:
    _, parse = PARSERS[name]

    try:
        parse(body)
    except SaxoPayloadError as exc:
        assert str(exc)
