"""Rules of the codebase that no single module's tests would notice breaking."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLOCK_MODULE = ROOT / "shared" / "clock.py"
# The operator CLI is the top layer: it may import the bots to run them.
CLI_PACKAGE = ROOT / "shared" / "cli"


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize(
    "path", list(_python_files("shared")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_shared_never_imports_the_bots(path: Path) -> None:
    if CLI_PACKAGE in path.parents:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offending = [m for m in _imported_modules(tree) if m == "bots" or m.startswith("bots.")]
    where = path.relative_to(ROOT)
    assert offending == [], f"{where} imports {offending}: shared/ sits below bots/"


def _direct_time_calls(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
        if (name, node.func.attr) in {("datetime", "now"), ("datetime", "utcnow"),
                                      ("time", "sleep"), ("date", "today")}:
            yield f"{name}.{node.func.attr} (line {node.lineno})"


@pytest.mark.parametrize(
    "path", list(_python_files("shared", "bots")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_time_is_read_only_through_a_clock(path: Path) -> None:
    if path == CLOCK_MODULE:
        return
    calls = list(_direct_time_calls(ast.parse(path.read_text(encoding="utf-8"))))
    assert calls == [], f"{path.relative_to(ROOT)} reads time or sleeps directly: {calls}"
