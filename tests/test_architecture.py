"""Rules of the codebase that no single module's tests would notice breaking."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLOCK_MODULE = ROOT / "shared" / "clock.py"
BOT_REGISTRY = ROOT / "shared" / "bot_registry.py"

# What a bot module may never reach through its module-level imports: strategies decide, the
# runtime does the I/O (a bot's `main()` imports the runtime only when it runs as a process).
IO_FOR_BOTS = ("shared.saxo_client", "shared.saxo_sim", "requests", "websocket", "gspread",
               "aiohttp")
# ARCHITECTURE.md "foundations": pure facts and types, below the runtime and every port.
FOUNDATIONS = ("shared.market_hours", "shared.event_calendar", "shared.technical_indicators",
               "shared.options_math", "shared.domain", "shared.clock", "shared.paths",
               "shared.strategy")
ABOVE_FOUNDATIONS = ("shared.bot_runtime", "shared.runtime", "shared.execution",
                     "shared.journal", "shared.sheets", "shared.broker", "shared.brokers",
                     "shared.saxo_client", "shared.circuit_breaker", "shared.reconciliation")


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(body: list[ast.stmt]) -> Iterator[str]:
    """Modules imported when the module loads: top level, try and if blocks (not the
    `TYPE_CHECKING` ones), never inside functions. `from a import b` names `a` and `a.b`."""
    for node in body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If) and not _is_type_checking(node.test):
            yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _load_time_imports(node.body)
            for handler in node.handlers:
                yield from _load_time_imports(handler.body)
            yield from _load_time_imports(node.orelse)
            yield from _load_time_imports(node.finalbody)


def _import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules and third-party top-level packages it loads."""
    modules = {_module_name(path): path for path in _python_files("shared", "bots")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for imported in _load_time_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            parts = imported.split(".")
            if parts[0] not in ("shared", "bots"):
                edges.add(parts[0])
                continue
            # Importing a.b.c loads the packages a and a.b too.
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                         if ".".join(parts[:i]) in modules)
        graph[name] = edges - {name}
    return graph


GRAPH = _import_graph()


def _path_to(start: str, targets: tuple[str, ...]) -> list[str] | None:
    """The import chain from `start` to the first module in (or under) `targets`, or None."""
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for target in sorted(GRAPH.get(current, ())):
            if target in parent:
                continue
            parent[target] = current
            if target in targets or target.startswith(tuple(f"{t}." for t in targets)):
                chain = [target]
                while (step := parent[chain[-1]]) is not None:
                    chain.append(step)
                return chain[::-1]
            queue.append(target)
    return None


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("bots")))
def test_bots_reach_no_broker_client_or_network_library(module: str) -> None:
    chain = _path_to(module, IO_FOR_BOTS)
    assert chain is None, f"{module} loads I/O code: {' -> '.join(chain or [])}"


@pytest.mark.parametrize("module", FOUNDATIONS)
def test_foundations_load_nothing_above_them(module: str) -> None:
    chain = _path_to(module, ABOVE_FOUNDATIONS)
    assert chain is None, f"foundation {module} loads {' -> '.join(chain or [])}"


@pytest.mark.parametrize(
    ("package", "other"),
    [("shared.saxo_sim", "shared.saxo_client"), ("shared.saxo_client", "shared.saxo_sim")],
)
def test_the_simulator_and_the_client_share_nothing(package: str, other: str) -> None:
    for module in sorted(m for m in GRAPH if m == package or m.startswith(f"{package}.")):
        chain = _path_to(module, (other,))
        assert chain is None, f"{module} loads {' -> '.join(chain or [])}"


def test_the_import_graph_sees_a_forbidden_import() -> None:
    # The rules above are only as good as the graph: it must see a chain that exists.
    assert _path_to("shared.runtime.startup", ("requests",)) is not None


def _names_a_bot_module(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in ("import_module", "__import__") or not node.args:
        return False
    argument = node.args[0]
    text = ast.unparse(argument)
    return "bots" in text


def test_bots_are_loaded_by_name_in_one_place_only() -> None:
    loaders = sorted(
        str(path.relative_to(ROOT))
        for path in _python_files("shared", "bots")
        if any(isinstance(node, ast.Call) and _names_a_bot_module(node)
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    )
    assert loaders == [str(BOT_REGISTRY.relative_to(ROOT))]


@pytest.mark.parametrize(
    "path", list(_python_files("shared")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_shared_never_imports_the_bots(path: Path) -> None:
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
