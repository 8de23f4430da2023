"""docs/IRON_FLY_EDGE_CASES.md: every catalogue id mapped, every cited test real."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "IRON_FLY_EDGE_CASES.md"
MODULES = {
    "entry": "tests/bots/iron_fly_0dte/test_entry_day.py",
    "exits": "tests/bots/iron_fly_0dte/test_exits.py",
    "closing": "tests/bots/iron_fly_0dte/test_closing.py",
    "restore": "tests/bots/iron_fly_0dte/test_restore.py",
    "parts": "tests/bots/iron_fly_0dte/test_parts.py",
    "compat": "tests/bots/iron_fly_0dte/test_saved_state_compat.py",
    "hand_over": "tests/bots/iron_fly_0dte/test_hand_over.py",
    "config": "tests/bots/test_iron_fly_0dte_config.py",
    "shared/test_config_loader.py": "tests/shared/test_config_loader.py",
    "shared/test_event_calendar.py": "tests/shared/test_event_calendar.py",
}
# The catalogue of strategies.md 5.1: prefix -> number of ids.
CATALOGUE = {"CONN": 8, "ORDER": 7, "POS": 5, "DATA": 5, "STOP": 5, "FILTER": 6, "WING": 4,
             "CB": 4, "TIME": 5, "MKT": 5, "SIM": 3, "CFG": 4, "LOG": 2, "LIVE": 10}


def test_every_catalogue_id_has_a_row() -> None:
    rows = set(re.findall(r"^\| ([A-Z]+-\d{3}) \|", DOC.read_text(), flags=re.MULTILINE))
    expected = {f"{prefix}-{n:03d}" for prefix, count in CATALOGUE.items()
                for n in range(1, count + 1)}
    assert rows == expected
    assert len(expected) == 73


def test_every_cited_test_exists() -> None:
    text = DOC.read_text()
    cited = re.findall(r"`([\w/.]+)::(test_\w+)", text)
    assert cited
    for module, name in cited:
        path = ROOT / MODULES.get(module, f"tests/{module}")  # else a path under tests/
        names = {node.name for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.FunctionDef)}
        assert name in names, f"{module}::{name} is cited but does not exist"
