"""Backtest speed: five years of each bot, and a 3 x 3 sweep of the Iron Fly on 1 vs 2 workers.

Run: `python -m benchmarks.backtest_bench five-years [--bot BOT] [--write] [--out DIR]`
(2014-2018, the bot's shipped config, seed 1; default bot the Iron Fly; RSS is sampled at every
year end to show memory stays flat; `--out` also writes the report JSON, trades CSV and chart;
each bot has its own PERFORMANCE.md section) and
`python -m benchmarks.backtest_bench sweep [--from DATE --to DATE] [--write]` (grid
max_hold_minutes x max_vix_entry, 3 x 3, `--workers 1` then `--workers 2`).
Targets: five years < 60 s on 2 cores for each bot; the 2-worker sweep <= 0.6 of the 1-worker
time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.perf_doc import write_section
from shared.backtest import report, sweep
from shared.backtest.history import load_arch_history
from shared.backtest.runner import BOTS, BacktestSpec, config_text, run_backtest

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
BOT = "iron_fly_0dte"
TARGET_FIVE_YEARS_S = 60.0
TARGET_SWEEP_RATIO = 0.6
GRID = ["max_hold_minutes=30,60,90", "max_vix_entry=16,20,25"]
BOT_TITLES = {"iron_fly_0dte": "the Iron Fly", "delta_neutral": "the Delta Neutral",
              "rolling_put_diagonal": "the Put Diagonal"}  # fmt: skip


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children (the pool)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def five_years(bot: str, write: bool, out: Path | None) -> None:
    history = load_arch_history()
    text, file = config_text(bot, None)
    spec = BacktestSpec(bot, text, str(file), date(2014, 1, 1), date(2018, 12, 31), seed=1)
    rss: dict[int, float] = {}

    def progress(day: date) -> None:
        if day.month == 12 and day.day >= 28:
            rss[day.year] = round(_rss_mb(), 1)

    started, cpu_before = time.perf_counter(), _cpu_s()
    engine, result = run_backtest(spec, history, progress=progress)
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu_before
    days = [bar.day for bar in history.between(spec.start, spec.end)]
    summary = report.summarise(result, days)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "trades.csv").write_text(report.trades_csv(result.trades), "utf-8")
        report.write_chart(summary, out / "equity.png", f"{bot} 2014-2018 (seed 1)")
        header = {"bot": bot, "from": "2014-01-01", "to": "2018-12-31", "seed": 1}
        (out / "report.json").write_text(json.dumps(report.as_json(summary, header), indent=2))
    engine.close()
    verdict = "meets" if elapsed < TARGET_FIVE_YEARS_S else "MISSES"
    per_session = 1000 * elapsed / max(result.days, 1)
    flag = "" if bot == BOT else f" --bot {bot}"
    body = f"""## Backtest: five years of {BOT_TITLES[bot]}

`python -m benchmarks.backtest_bench five-years{flag} --write` on {_machine()},
{datetime.now(UTC):%Y-%m-%d} (one process; the machine shared with other work).
2014-01-02..2018-12-31, default config, seed 1.

| figure | value |
|---|---|
| wall time | {elapsed:.1f} s for {result.days} sessions ({per_session:.0f} ms per session) |
| CPU time | {cpu:.1f} s (load average {os.getloadavg()[0]:.1f} at the end) |
| strategy passes | {engine.passes} |
| trades | {summary.trades} |
| RSS at each year end (MB) | {", ".join(f"{y}: {v}" for y, v in sorted(rss.items()))} |

Target: under {TARGET_FIVE_YEARS_S:.0f} s on 2 cores, memory flat. Verdict: {verdict} the time
target (docs/BACKTEST.md "Speed" says where the time goes); memory is flat when the year-end RSS
does not grow.
"""
    print(body)
    if write:
        key = "five_years" if bot == BOT else f"five_years_{bot}"
        write_section(DOC_PATH, f"backtest_bench:{key}", body)


def sweep_bench(start: date, end: date, write: bool) -> None:
    text, file = config_text(BOT, None)
    base = BacktestSpec(BOT, text, str(file), start, end, seed=1)
    specs = sweep.expand(base, sweep.parse_grid(GRID))
    times: dict[int, float] = {}
    cpu: dict[int, float] = {}
    load: dict[int, float] = {}
    tables = {}
    for workers in (1, 2):
        started, cpu_before = time.perf_counter(), _cpu_s()
        tables[workers] = sweep.run_local(specs, None, workers)
        times[workers] = time.perf_counter() - started
        cpu[workers] = _cpu_s() - cpu_before
        load[workers] = os.getloadavg()[0]
    ratio = times[2] / times[1]
    verdict = "meets" if ratio <= TARGET_SWEEP_RATIO else "MISSES"
    body = f"""## Backtest: 3 x 3 sweep, 1 worker vs 2

`python -m benchmarks.backtest_bench sweep --from {start} --to {end} --write` on {_machine()},
{datetime.now(UTC):%Y-%m-%d}. Grid {" x ".join(GRID)} (9 backtests of {start}..{end}).

| workers | wall time | CPU time (all processes) | cores used (CPU / wall) | load avg at end |
|---|---|---|---|---|
| 1 | {times[1]:.1f} s | {cpu[1]:.1f} s | {cpu[1] / times[1]:.2f} | {load[1]:.1f} |
| 2 | {times[2]:.1f} s | {cpu[2]:.1f} s | {cpu[2] / times[2]:.2f} | {load[2]:.1f} |

Ratio {ratio:.2f} (target <= {TARGET_SWEEP_RATIO}): {verdict}.
Same table from both: {tables[1] == tables[2]}.
"""
    print(body)
    if write:
        write_section(DOC_PATH, "backtest_bench:sweep", body)


def main() -> None:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", choices=("five-years", "sweep"))
    parser.add_argument("--bot", choices=BOTS, default=BOT, help="five-years: the bot to run")
    parser.add_argument("--write", action="store_true", help="rewrite its PERFORMANCE.md section")
    parser.add_argument("--out", type=Path, help="five-years: report.json, trades.csv, equity.png")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2014, 1, 1))
    parser.add_argument("--to", dest="end", type=date.fromisoformat, default=date(2018, 12, 31))
    args = parser.parse_args()
    if args.which == "five-years":
        five_years(args.bot, args.write, args.out)
    else:
        sweep_bench(args.start, args.end, args.write)


if __name__ == "__main__":
    main()
