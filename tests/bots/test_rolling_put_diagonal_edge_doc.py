"""docs/ROLLING_PUT_DIAGONAL_EDGE_CASES.md: every catalogue id mapped, every cited test real."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ROLLING_PUT_DIAGONAL_EDGE_CASES.md"
HERE = "tests/bots/rolling_put_diagonal"
MODULES = {
    "strategy": f"{HERE}/test_strategy.py",
    "selection": f"{HERE}/test_selection.py",
    "rules": f"{HERE}/test_rules.py",
    "states": f"{HERE}/test_states.py",
    "config": "tests/bots/test_rolling_put_diagonal_config.py",
    "scenario": "tests/scenarios/rolling_put_diagonal/test_campaign_sim.py",
    "exits": "tests/scenarios/rolling_put_diagonal/test_rollups_and_exits_sim.py",
}
# The catalogue of strategies.md 5.3: prefix -> number of ids (53 in all).
CATALOGUE = {"CONN": 6, "ORDER": 8, "POS": 8, "MKT": 7, "TIME": 5, "STATE": 4, "DATA": 5,
             "DRY": 2, "CFG": 2, "LOG": 2, "STRATEGY": 4}  # fmt: skip


def test_every_catalogue_id_has_one_row() -> None:
    rows = re.findall(r"^\| ([A-Z]+-\d{3}) \|", DOC.read_text(), flags=re.MULTILINE)
    expected = {f"{p}-{n:03d}" for p, count in CATALOGUE.items() for n in range(1, count + 1)}
    assert sorted(rows) == sorted(expected)
    assert len(rows) == 53


def test_every_cited_test_exists() -> None:
    cited = re.findall(r"`([\w/.]+)::(test_\w+)", DOC.read_text())
    assert len(cited) > 50
    for module, name in cited:
        path = ROOT / MODULES.get(module, f"tests/{module}")
        names = {node.name for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.FunctionDef)}  # fmt: skip
        assert name in names, f"{module}::{name} is cited but does not exist"
