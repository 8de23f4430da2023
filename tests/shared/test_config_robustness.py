"""Odd config input: every bot's loader answers with a ConfigError naming the problem (and the
key where there is one), never another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import paths
from shared.config_loader import MAX_NESTING_DEPTH, ConfigError, parse_bot_config

FILE = Path("config.json")


def example(bot: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(paths.bot_example_config_path(bot).read_text())
    return document


def problems(bot: str, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_bot_config(bot, text, file=FILE)
    return str(caught.value)


def test_deep_nesting_is_a_config_error_not_a_recursion_error() -> None:
    text = '{"a":' * 5000 + "1" + "}" * 5000

    assert f"nested more than {MAX_NESTING_DEPTH} levels deep" in problems("iron_fly_0dte", text)


def test_a_five_thousand_digit_number_is_named_by_its_key() -> None:
    document = example("iron_fly_0dte")
    huge = '"strategy": {"huge": ' + "9" * 5000 + ", "
    text = json.dumps(document).replace('"strategy": {', huge)

    message = problems("iron_fly_0dte", text)

    assert "strategy.huge" in message and "more than 30 digits" in message
    assert "set_int_max_str_digits" not in message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_named_by_their_key(literal: str) -> None:
    key, value = next(iter(example("iron_fly_0dte")["strategy"].items()))
    text = json.dumps(example("iron_fly_0dte")).replace(
        f'"{key}": {json.dumps(value)}', f'"{key}": {literal}', 1
    )

    assert f"strategy.{key}: {literal}" in problems("iron_fly_0dte", text)


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    text = "\ufeff" + json.dumps(example("iron_fly_0dte"))

    assert parse_bot_config("iron_fly_0dte", text, file=FILE).bot.name == "iron_fly_0dte"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    document = example("iron_fly_0dte")
    document["bot"]["name"] = "[" * 100

    message = problems("iron_fly_0dte", json.dumps(document))

    assert "levels deep" not in message and "bot" in message


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


def mutate(document: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`document` with the value at `path` (created where missing) replaced by `value`."""
    node = document
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value
    return document


@pytest.mark.parametrize("bot", paths.BOT_NAMES)
@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_documents_give_a_config_error_or_a_config(bot: str, data: st.DataObject) -> None:
    document = example(bot)
    sections = [key for key, value in document.items() if isinstance(value, dict)]
    section = data.draw(st.sampled_from(sections))
    keys = [*document[section], "no_such_key"]
    path = [section, data.draw(st.sampled_from(keys))]
    value = data.draw(json_values)
    text = json.dumps(mutate(document, path, value), allow_nan=True)
    if data.draw(st.booleans()):
        depth = data.draw(st.integers(min_value=1, max_value=3000))
        text = '{"x": ' * depth + text + "}" * depth

    try:
        parse_bot_config(bot, text, file=FILE)
    except ConfigError as exc:
        assert str(exc)
