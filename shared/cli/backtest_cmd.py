"""`calypso backtest BOT --from DATE --to DATE` and `calypso backtest sweep BOT --grid KEY=V,...`.

Runs the bot's unchanged strategy over history in-process (see `shared.backtest`). Exit codes:
0 done, 2 bad arguments, bad config, missing data, a bot without a strategy, or the optional
`backtest` extra not installed (the message names the install command).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shared.backtest.events import MISSING_EVENT_CHOICES, BacktestCalendar
from shared.backtest.history import (
    BacktestExtraMissing,
    DailyHistory,
    HistoryError,
    load_arch_history,
    load_csv_history,
)
from shared.backtest.runner import BOTS, BacktestSpec, config_text
from shared.config.errors import ConfigError
from shared.runtime.startup import StrategyNotImplemented

EXIT_OK, EXIT_USAGE = 0, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="run a bot's strategy over history; `backtest sweep` runs a grid of configs",
        description="Backtest BOT over daily history (arch's S&P 500/VIX data or --data DIR), "
        "or `calypso backtest sweep BOT --grid KEY=V1,V2 ...`.",
    )
    parser.add_argument("bot", help=f"one of {', '.join(BOTS)}, or `sweep`")
    parser.add_argument("sweep_bot", nargs="?", help="with `sweep`: the bot")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True,
                        help="first day (YYYY-MM-DD, New York)")  # fmt: skip
    parser.add_argument("--to", dest="end", type=date.fromisoformat, required=True,
                        help="last day (YYYY-MM-DD, New York)")  # fmt: skip
    parser.add_argument("--config", type=Path, help="config file (default: the bot's example)")
    parser.add_argument("--data", type=Path,
                        help="folder: SPX.csv (daily or 1-minute bars), VIX.csv")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="seed of the intraday paths")
    parser.add_argument("--missing-events", choices=MISSING_EVENT_CHOICES, default="skip-days",
                        help="years without event data: skip those days (as live) or ignore")
    parser.add_argument("--slippage-ticks", type=int, default=0,
                        help="fills this many option ticks worse than the bid/ask")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write trades.csv, journal.sqlite, equity.png")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--grid", action="append", default=[], help="sweep: KEY=V1,V2,...")
    parser.add_argument("--workers", type=int, default=1, help="sweep: local processes")
    parser.add_argument("--dask", metavar="SCHEDULER_ADDRESS", help="sweep: Dask cluster")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The strategy's per-trade INFO/WARNING lines would drown the report; the journal has them.
    logging.disable(logging.WARNING)
    try:
        return _run(args)
    finally:
        logging.disable(logging.NOTSET)


def _run(args: argparse.Namespace) -> int:
    sweeping = args.bot == "sweep"
    bot = args.sweep_bot if sweeping else args.bot
    try:
        if bot is None:
            raise ValueError("`calypso backtest sweep` needs a bot")
        if args.end < args.start:
            raise ValueError(f"--to {args.end} is before --from {args.start}")
        if args.slippage_ticks < 0 or args.workers < 1:
            raise ValueError("--slippage-ticks must be >= 0 and --workers >= 1")
        text, file = config_text(bot, args.config)
        spec = BacktestSpec(bot, text, str(file), args.start, args.end, args.seed,
                            args.missing_events, args.slippage_ticks)  # fmt: skip
        history = load_csv_history(args.data) if args.data else load_arch_history()
        if sweeping:
            return _sweep(spec, args)
        return _single(spec, history, args)
    except (ValueError, ConfigError, HistoryError, BacktestExtraMissing,
            StrategyNotImplemented, RuntimeError) as exc:  # fmt: skip
        print(f"calypso backtest: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _single(spec: BacktestSpec, history: DailyHistory, args: argparse.Namespace) -> int:
    from shared.backtest import report
    from shared.backtest.runner import run_backtest

    days = [bar.day for bar in history.between(spec.start, spec.end)]
    if not days:
        raise ValueError(f"the history has no days from {spec.start} to {spec.end}")
    progress = Progress(transient=True, disable=not sys.stderr.isatty() or args.json)
    with progress:
        task = progress.add_task(f"{spec.bot} {spec.start}..{spec.end}", total=len(days))
        engine, result = run_backtest(spec, history,
                                      progress=lambda _day: progress.advance(task))  # fmt: skip
    try:
        summary = report.summarise(result, days)
        header = _header(spec, history, result.skipped)
        header["trades_left_open"] = len(engine.journal.open_trades())
        header["legs_expired_unclosed"] = engine.expired_legs
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "trades.csv").write_text(report.trades_csv(result.trades), "utf-8")
            engine.save_journal(args.out / "journal.sqlite")
            title = f"{spec.bot} {spec.start}..{spec.end} (seed {spec.seed})"
            report.write_chart(summary, args.out / "equity.png", title)
    finally:
        engine.close()
    data = report.as_json(summary, header)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_report(data)
    return EXIT_OK


def _header(spec: BacktestSpec, history: DailyHistory, skipped: dict[str, int]) -> dict[str, Any]:
    uncovered = BacktestCalendar(spec.missing_events).uncovered(spec.start, spec.end)
    return {
        "bot": spec.bot,
        "from": spec.start.isoformat(),
        "to": spec.end.isoformat(),
        "seed": spec.seed,
        "config": spec.config_file,
        "data": history.source,
        "slippage_ticks": spec.slippage_ticks,
        "missing_events": spec.missing_events,
        "events_without_data": {k: v for k, v in uncovered.items()},
        "days_skipped": skipped,
        "minutes_filled": history.filled_minutes,
    }


def _print_report(data: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]{data['bot']}[/] {data['from']} .. {data['to']}  seed {data['seed']}")
    console.print(f"data: {data['data']}")
    console.print(f"note: {data['note']}")
    if data["events_without_data"]:
        console.print(f"[yellow]event data missing[/] {data['events_without_data']}: "
                      f"--missing-events {data['missing_events']}")  # fmt: skip
    table = Table(show_header=False)
    for key in ("trades", "win_rate_percent", "total_pnl_usd", "average_pnl_usd",
                "worst_trade_usd", "max_drawdown_usd", "sharpe_daily_annualised"):  # fmt: skip
        table.add_row(key, str(data[key]))
    table.add_row("exits_by_reason", json.dumps(data["exits_by_reason"]))
    table.add_row("pnl_by_year_usd", json.dumps(data["pnl_by_year_usd"]))
    console.print(table)


def _sweep(base: BacktestSpec, args: argparse.Namespace) -> int:
    from shared.backtest import sweep

    specs = sweep.expand(base, sweep.parse_grid(args.grid))  # validated before anything runs
    data_dir = None if args.data is None else str(args.data)
    if args.dask:
        rows = sweep.run_dask(specs, data_dir, args.dask)
    else:
        rows = sweep.run_local(specs, data_dir, args.workers)
    if args.out is not None and len(rows[0].values) == 2:
        args.out.mkdir(parents=True, exist_ok=True)
        sweep.write_heatmap(rows, args.out / "heatmap.png")
    if args.json:
        print(json.dumps([row.__dict__ | {"values": dict(row.values)} for row in rows], indent=2))
        return EXIT_OK
    table = Table(title=f"{base.bot} sweep {base.start}..{base.end} (seed {base.seed})")
    keys = [key for key, _ in rows[0].values]
    for column in [*keys, "trades", "win %", "total P&L", "max drawdown", "Sharpe"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*[json.dumps(v) for _, v in row.values], str(row.trades),
                      str(row.win_rate_percent), row.total_pnl_usd, row.max_drawdown_usd,
                      str(row.sharpe))  # fmt: skip
    Console().print(table)
    return EXIT_OK
