"""Parameter sweeps: every combination of a grid of config values, one backtest each.

The grid (`KEY=V1,V2,...`, values parsed as JSON where they can be, else strings) is expanded
and every combination is validated by the bot's config model before anything runs. Runs go to
a local process pool (`workers`) or, with `dask_address`, to an existing Dask distributed
cluster (the optional `cluster` extra): the same picklable task either way, so the table is the
same. Rows are ranked by total P&L (then by key order, so ties are stable).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shared.backtest.history import DailyHistory, load_arch_history, load_csv_history
from shared.backtest.report import summarise
from shared.backtest.runner import BacktestSpec, run_backtest, with_overrides

CLUSTER_HINT = 'pip install "calypso[cluster]"'


class GridError(ValueError):
    """A --grid argument is malformed; the message quotes it."""


@dataclass(frozen=True)
class SweepRow:
    """One combination's result; money in USD as exact strings."""

    values: tuple[tuple[str, Any], ...]
    trades: int
    win_rate_percent: float
    total_pnl_usd: str
    max_drawdown_usd: str
    sharpe: float | None


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """`["max_hold_minutes=30,60"]` -> {"max_hold_minutes": [30, 60]}; GridError names a bad one."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise GridError(f"--grid {item!r}: expected KEY=V1,V2,...")
        if key in grid:
            raise GridError(f"--grid {item!r}: {key} is given twice")
        grid[key.strip()] = [_value(v.strip()) for v in raw.split(",") if v.strip()]
    if not grid:
        raise GridError("a sweep needs at least one --grid KEY=V1,V2,...")
    return grid


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def expand(base: BacktestSpec, grid: Mapping[str, Sequence[Any]]) -> list[BacktestSpec]:
    """One validated spec per combination (ConfigError names the first bad key and value)."""
    keys = list(grid)
    specs = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        overrides = dict(zip(keys, combo, strict=True))
        text = with_overrides(base.bot, base.config_text, Path(base.config_file), overrides)
        specs.append(replace(base, config_text=text, overrides=tuple(overrides.items())))
    return specs


@functools.cache
def _history(data_dir: str | None) -> DailyHistory:
    return load_arch_history() if data_dir is None else load_csv_history(Path(data_dir))


def run_one(spec: BacktestSpec, data_dir: str | None) -> SweepRow:
    """One combination (runs in a worker process or on a Dask worker)."""
    history = _history(data_dir)
    engine, result = run_backtest(spec, history)
    try:
        days = [bar.day for bar in history.between(spec.start, spec.end)]
        summary = summarise(result, days)
    finally:
        engine.close()
    return SweepRow(
        values=spec.overrides,
        trades=summary.trades,
        win_rate_percent=summary.win_rate_percent,
        total_pnl_usd=f"{summary.total_pnl_usd:.2f}",
        max_drawdown_usd=f"{summary.max_drawdown_usd:.2f}",
        sharpe=summary.sharpe_daily_annualised,
    )


Done = Callable[[SweepRow], None]


def run_local(specs: Sequence[BacktestSpec], data_dir: str | None, workers: int,
              done: Done | None = None) -> list[SweepRow]:  # fmt: skip
    """Every spec on a pool of `workers` processes (1: in this process); ranked rows."""
    rows: list[SweepRow] = []
    if workers <= 1:
        for spec in specs:
            rows.append(run_one(spec, data_dir))
            if done is not None:
                done(rows[-1])
        return ranked(rows)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(run_one, specs, itertools.repeat(data_dir)):
            rows.append(row)
            if done is not None:
                done(row)
    return ranked(rows)


def run_dask(specs: Sequence[BacktestSpec], data_dir: str | None, address: str) -> list[SweepRow]:
    """Every spec on the Dask cluster at `address`; ranked rows. RuntimeError names the
    install command when the `cluster` extra is missing."""
    try:
        from distributed import Client
    except ImportError as exc:
        hint = f"--dask needs the optional cluster dependencies: {CLUSTER_HINT}"
        raise RuntimeError(hint) from exc
    with Client(address) as client:
        futures = client.map(run_one, list(specs), [data_dir] * len(specs), pure=False)
        rows: list[SweepRow] = client.gather(futures)
    return ranked(rows)


def ranked(rows: Sequence[SweepRow]) -> list[SweepRow]:
    """Best total P&L first; ties by the combination's values (stable across runs)."""
    from decimal import Decimal

    return sorted(rows, key=lambda r: (-Decimal(r.total_pnl_usd), json.dumps(r.values)))


def write_heatmap(rows: Sequence[SweepRow], target: Path) -> None:
    """Total P&L over a 2-key grid as a heat map (PNG, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    (x_key, _), (y_key, _) = rows[0].values
    xs = sorted({dict(r.values)[x_key] for r in rows}, key=json.dumps)
    ys = sorted({dict(r.values)[y_key] for r in rows}, key=json.dumps)
    grid = [[0.0] * len(xs) for _ in ys]
    for row in rows:
        values = dict(row.values)
        grid[ys.index(values[y_key])][xs.index(values[x_key])] = float(row.total_pnl_usd)
    figure, axes = plt.subplots(figsize=(6, 5))
    image = axes.imshow(grid, cmap="RdYlGn", origin="lower")
    axes.set_xticks(range(len(xs)), [str(x) for x in xs])
    axes.set_yticks(range(len(ys)), [str(y) for y in ys])
    axes.set_xlabel(x_key)
    axes.set_ylabel(y_key)
    figure.colorbar(image, label="total P&L (USD)")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
