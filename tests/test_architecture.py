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


# --- the import graph (issue 12, section 4) -------------------------------------------------------
# Computed from the source with ast, so a forbidden import added anywhere on the path fails here.
# Every import statement counts, also one inside a function; only `if TYPE_CHECKING:` blocks are
# skipped (they never run).
FORBIDDEN_FOR_BOTS = ("shared.saxo_client", "shared.saxo_sim", "requests", "websocket",
                      "gspread", "aiohttp")
FOUNDATIONS = ("shared.market_hours", "shared.event_calendar", "shared.technical_indicators",
               "shared.options_math", "shared.domain", "shared.strategy_contract",
               "shared.strategy")
FORBIDDEN_FOR_FOUNDATIONS = ("shared.runtime", "shared.bot_runtime", "shared.execution",
                             "shared.journal", "shared.sheets", "shared.broker", "shared.brokers",
                             "shared.saxo_client", "shared.saxo_sim")
# The one module that imports a bot's module by name (config, main, strategy class).
BOT_LOADER = ROOT / "shared" / "bot_modules.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_of(path: Path, module: str) -> set[str]:
    """Modules `path` (named `module`) imports: absolute and resolved relative imports, and
    `from package import submodule` as the submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and _is_type_checking(node) for n in ast.walk(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """Project module -> the modules it imports (project ones only resolve further)."""
    files = {_module_name(p): p for p in _python_files("shared", "bots")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = {t for t in _imports_of(path, name) if t}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parents = {".".join(t.split(".")[:i]) for t in targets for i in range(1, t.count(".") + 1)}
        graph[name] = targets | parents
    return graph


GRAPH = _graph()


def _reach(start: str) -> dict[str, str]:
    """Every module reachable from `start` -> the module that imported it (for the path)."""
    came_from: dict[str, str] = {start: ""}
    todo = [start]
    while todo:
        current = todo.pop()
        for target in GRAPH.get(current, ()):
            if target not in came_from:
                came_from[target] = current
                todo.append(target)
    return came_from


def _path_to(reached: dict[str, str], target: str) -> str:
    chain = [target]
    while reached[chain[-1]]:
        chain.append(reached[chain[-1]])
    return " -> ".join(reversed(chain))


def _violations(start: str, forbidden: tuple[str, ...]) -> list[str]:
    """One import path from `start` to each forbidden package it reaches."""
    reached = _reach(start)
    paths = []
    for banned in forbidden:
        hits = sorted(n for n in reached if n == banned or n.startswith(banned + "."))
        if hits:
            paths.append(_path_to(reached, min(hits, key=len)))
    return paths


def _modules_under(*prefixes: str) -> list[str]:
    return sorted(m for m in GRAPH if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_the_graph_sees_the_known_edges() -> None:
    # Guards the parser itself: a graph that resolved nothing would let every rule pass.
    assert "shared.saxo_client.transport" in _reach("shared.brokers.saxo_broker")
    assert "shared.strategy.quotes" in _reach("bots.iron_fly_0dte.strategy")


# A bot's process entry points (`main.py`, `__main__.py`) hand its strategy to the runtime, so
# they sit above every layer; every other module of a bot is strategy code and stays below.
BOT_ENTRY_POINTS = ("main", "__main__")


@pytest.mark.parametrize(
    "module",
    [m for m in _modules_under("bots") if m.rpartition(".")[2] not in BOT_ENTRY_POINTS],
)
def test_bots_never_reach_a_client_the_simulator_or_a_network_library(module: str) -> None:
    found = _violations(module, FORBIDDEN_FOR_BOTS)
    assert found == [], f"{module} reaches a broker client or network library: {found}"


@pytest.mark.parametrize("module", _modules_under(*FOUNDATIONS))
def test_foundations_import_no_runtime_execution_journal_sheets_broker_or_client(
    module: str,
) -> None:
    found = _violations(module, FORBIDDEN_FOR_FOUNDATIONS)
    assert found == [], f"foundation {module} reaches an upper layer: {found}"


@pytest.mark.parametrize(
    ("package", "other"),
    [("shared.saxo_sim", "shared.saxo_client"), ("shared.saxo_client", "shared.saxo_sim")],
)
def test_the_simulator_and_the_client_import_nothing_from_each_other(
    package: str, other: str
) -> None:
    found = [v for m in _modules_under(package) for v in _violations(m, (other,))]
    assert found == [], f"{package} reaches {other}: {found}"


def _dynamic_imports(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                yield node


def _names_only_shared(call: ast.Call) -> bool:
    """True when the imported name is a literal or f-string starting with `shared.`."""
    if not call.args:
        return False
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value.startswith("shared.")
    if isinstance(arg, ast.JoinedStr) and arg.values:
        head = arg.values[0]
        return isinstance(head, ast.Constant) and str(head.value).startswith("shared.")
    return False


@pytest.mark.parametrize(
    "path", list(_python_files("shared", "bots")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_bots_are_loaded_by_name_in_one_place_only(path: Path) -> None:
    if path == BOT_LOADER:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    loose = [f"line {c.lineno}" for c in _dynamic_imports(tree) if not _names_only_shared(c)]
    where = path.relative_to(ROOT)
    assert loose == [], f"{where} imports a module by name ({loose}): use shared.bot_modules"
