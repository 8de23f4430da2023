"""Journal benchmark: the trading loop's journal reads against a real SQLite journal file as the
trade history grows (closed iron flies of 4 opening + 4 closing fills, one fly open), next to
reading every trade (`Journal.trades()`, what the loop did before the indexed lookups).

The history is written through the journal's public write API (`journal.transaction()`), from a
fixed seed and a ManualClock (one fly a day). Writes are never timed, only the reads.

Run: `python -m benchmarks.journal_bench [--write]` (--write updates docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.perf_doc import write_section
from shared.clock import ManualClock, WallClock
from shared.journal import Journal, JournalTx
from shared.market_hours import NY

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 New York, a Monday
SEED = 20260302
BOT = "bench"
SIZES = (250, 2_500, 10_000)
FIRST_UIC = 30_000_000  # fresh contract uics: every 0DTE fly trades new contracts
TARGET_US = 1_000.0  # loop-path reads: median and p99 under 1 ms at the largest history
TARGET_GROWTH = 3.0  # and a median at most 3x the smallest history's
REPS = 2000  # timed calls per loop-path read and size
CLOSE_REPS = 100  # flies closed per size for the after-close row
CHUNK = 250  # closed flies written per transaction while building the history
LEGS = ("short_call", "short_put", "long_call", "long_put")


@dataclass(frozen=True)
class Stats:
    """Timings of one operation at one history size, in microseconds."""

    median_us: float
    p99_us: float
    samples: int


@dataclass(frozen=True)
class Operation:
    """One row of the table: what is timed, and whether the loop makes this call."""

    name: str
    loop_path: bool


HAS_LABEL = Operation(
    "`has_trade_labelled(label)`, half new labels, half past flies': executor, once per entry",
    True,
)
TRADED_UICS = Operation("`traded_uics(among=...)`, 8 uics, 4 of them traded: reconciliation", True)
OPEN_TRADES = Operation("`open_trades()` with one fly open: every loop pass", True)
TOTALS_WARM = Operation("`realized_totals()` warm, nothing changed: Sheets refresh", True)
TOTALS_CLOSE = Operation("`realized_totals()` after one more fly closed: Sheets refresh", True)
DAILY_PNL = Operation("`daily_pnl(day)` of a day with one close: Sheets refresh", True)
TOTALS_COLD = Operation("`realized_totals()` cold, first call on a new connection", False)
ALL_TRADES = Operation("`trades()`: every trade with its fills (the old way)", False)
OPERATIONS = (HAS_LABEL, TRADED_UICS, OPEN_TRADES, TOTALS_WARM, TOTALS_CLOSE, DAILY_PNL,
              TOTALS_COLD, ALL_TRADES)  # fmt: skip


class History:
    """A journal with `closed` closed iron flies and always one fly open (4 opening fills)."""

    def __init__(self, journal: Journal, clock: ManualClock, rng: random.Random) -> None:
        self.journal = journal
        self._clock = clock
        self._rng = rng
        self._spx = 5000.0
        self._next_uic = FIRST_UIC
        self.closed = 0
        self.labels: list[str] = []
        self.open_uics: tuple[int, ...] = ()
        with journal.transaction(durable=False) as tx:
            self._open_fly(tx)

    def grow_to(self, closed: int) -> None:
        """Close flies (opening the next each time) until `closed` are closed."""
        while self.closed < closed:
            with self.journal.transaction(durable=False) as tx:
                for _ in range(min(CHUNK, closed - self.closed)):
                    self._close_fly(tx)
                    self._open_fly(tx)

    def close_one(self) -> None:
        """Close the open fly (its 4 closing fills and the close) in one transaction."""
        with self.journal.transaction(durable=False) as tx:
            self._close_fly(tx)

    def open_one(self) -> None:
        with self.journal.transaction(durable=False) as tx:
            self._open_fly(tx)

    def _open_fly(self, tx: JournalTx) -> None:
        tomorrow = self._clock.now() + timedelta(days=1)
        self._clock.set(tomorrow.replace(hour=15, minute=0, second=0, microsecond=0))
        self._spx = max(1000.0, self._spx * (1 + self._rng.gauss(0, 0.01)))
        label = f"fly-{self._clock.now().date().isoformat()}"
        self._trade_id = tx.open_trade(bot=BOT, quantity=1, label=label)
        self.labels.append(label)
        self.open_uics = tuple(range(self._next_uic, self._next_uic + len(LEGS)))
        self._next_uic += len(LEGS)
        credit = (self._rng.uniform(12, 30), self._rng.uniform(12, 30))
        wings = (self._rng.uniform(1, 6), self._rng.uniform(1, 6))
        for leg, uic, price in zip(LEGS, self.open_uics, credit + wings, strict=True):
            self._fill(tx, leg, uic, "sell" if leg.startswith("short") else "buy", "open", price)

    def _close_fly(self, tx: JournalTx) -> None:
        self._clock.advance(timedelta(minutes=90))
        debit = (self._rng.uniform(0.05, 40), self._rng.uniform(0.05, 40))
        wings = (self._rng.uniform(0.05, 8), self._rng.uniform(0.05, 8))
        for leg, uic, price in zip(LEGS, self.open_uics, debit + wings, strict=True):
            self._fill(tx, leg, uic, "buy" if leg.startswith("short") else "sell", "close", price)
        tx.close_trade(self._trade_id, self._rng.choice(("target", "stop", "time_exit")))
        self.closed += 1

    def _fill(self, tx: JournalTx, leg: str, uic: int, side: str, open_close: str,
              price: float) -> None:  # fmt: skip
        ticks = max(1, round(price / 0.05))  # SPX options quote in 0.05 steps here
        tx.record_fill(trade_id=self._trade_id, leg=leg, uic=uic, side=side,
                       open_close=open_close, price=Decimal(ticks) * Decimal("0.05"), quantity=1,
                       multiplier=100, commission_usd=Decimal("1.10"), filled_at=self._clock.now(),
                       simulated=True)  # fmt: skip


def stats(samples: Sequence[float]) -> Stats:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(len(ordered) * 0.99) - 1)]  # nearest rank
    return Stats(statistics.median(ordered), p99, len(ordered))


def timed(call: Callable[[int], object], reps: int, budget_s: float,
          before: Callable[[int], object] | None = None) -> Stats:  # fmt: skip
    """Time `call(i)` up to `reps` times (at least 3, at most about `budget_s`), in µs;
    `before(i)`, when given, runs untimed ahead of each call."""
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    for i in range(reps):
        if before is not None:
            before(i)
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1e6)
        if len(samples) >= 3 and time.perf_counter() > deadline:
            break
    return stats(samples)


def measure(history: History, path: Path, clock: ManualClock, reps: int,
            close_reps: int) -> dict[Operation, Stats]:  # fmt: skip
    """Every operation against the history as it is now; the after-close row closes (and
    opens) `close_reps` more flies."""
    journal, rng = history.journal, random.Random(SEED + history.closed)
    results: dict[Operation, Stats] = {}
    journal.realized_totals()  # the running bot has read its totals since the last change
    results[TOTALS_WARM] = timed(lambda _: journal.realized_totals(), reps, 2.0)
    # Half the checks ask for a label never entered (a new intent), half for a past fly's.
    past = [rng.choice(history.labels) for _ in range(reps)]
    results[HAS_LABEL] = timed(lambda i: journal.has_trade_labelled(
        past[i] if i % 2 else f"fly-new-{i}"), reps, 2.0)  # fmt: skip
    # The broker's positions (the open fly's 4 legs, 4 contracts never traded) and the journal's.
    among = [*history.open_uics, *(FIRST_UIC - 1 - n for n in range(4))]
    results[TRADED_UICS] = timed(lambda _: journal.traded_uics(among), reps, 2.0)
    results[OPEN_TRADES] = timed(lambda _: journal.open_trades(), reps, 2.0)
    # The open fly opened at 10:00 New York; the day before it is the last fly's close.
    day = (clock.now() - timedelta(days=1)).astimezone(NY).date()
    results[DAILY_PNL] = timed(lambda _: journal.daily_pnl(day), reps, 2.0)

    def close_then_open(i: int) -> None:
        if i:
            history.open_one()
        history.close_one()

    results[TOTALS_CLOSE] = timed(lambda _: journal.realized_totals(), close_reps, 10.0,
                                  before=close_then_open)  # fmt: skip
    history.open_one()
    assert journal.realized_totals().trades_closed == history.closed
    results[TOTALS_COLD] = cold_totals(path, clock, reps)
    results[ALL_TRADES] = timed(lambda _: journal.trades(), reps, 3.0)
    return results


def cold_totals(path: Path, clock: ManualClock, reps: int) -> Stats:
    """`realized_totals()` as the first call on a freshly opened journal (what a start pays)."""
    samples: list[float] = []
    deadline = time.perf_counter() + 2.0
    for _ in range(reps):
        with Journal.open(path, clock=clock) as fresh:
            started = time.perf_counter()
            fresh.realized_totals()
            samples.append((time.perf_counter() - started) * 1e6)
        if len(samples) >= 3 and time.perf_counter() > deadline:
            break
    return stats(samples)


def run(sizes: Sequence[int], reps: int, close_reps: int) -> tuple[dict[int, dict[Operation,
        Stats]], dict[int, tuple[int, int]], float]:  # fmt: skip
    """Results per size, the closed-fly range each size's after-close row covered, and the
    journal file's size in MB at the end."""
    clock = ManualClock(START)
    results: dict[int, dict[Operation, Stats]] = {}
    spans: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.sqlite"
        with Journal.open(path, clock=clock) as journal:
            history = History(journal, clock, random.Random(SEED))
            for size in sorted(sizes):
                history.grow_to(size)
                results[size] = measure(history, path, clock, reps, close_reps)
                spans[size] = (size, history.closed)
        megabytes = sum(f.stat().st_size for f in Path(folder).iterdir()) / 1e6
    return results, spans, megabytes


def duration(us: float) -> str:
    if us < 10:
        return f"{us:.1f} µs"
    if us < 1000:
        return f"{us:.0f} µs"
    return f"{us / 1000:.1f} ms" if us < 100_000 else f"{us / 1000:.0f} ms"


def verdict(row: dict[int, Stats], smallest: int, largest: int) -> tuple[float, str]:
    growth = row[largest].median_us / row[smallest].median_us
    fast = row[largest].median_us < TARGET_US and row[largest].p99_us < TARGET_US
    return growth, "ok" if fast and growth <= TARGET_GROWTH else "FAIL"


def render(results: dict[int, dict[Operation, Stats]], spans: dict[int, tuple[int, int]],
           megabytes: float, command: str, reps: int, close_reps: int) -> str:  # fmt: skip
    sizes = sorted(results)
    smallest, largest = sizes[0], sizes[-1]
    header = " | ".join(f"{size:,} closed: median / p99" for size in sizes)
    lines = [f"| operation | {header} | growth {smallest:,} -> {largest:,} | target | verdict |",
             "|---" * (len(sizes) + 4) + "|"]  # fmt: skip
    for op in OPERATIONS:
        row = {size: results[size][op] for size in sizes}
        cells = " | ".join(f"{duration(s.median_us)} / {duration(s.p99_us)}" for s in row.values())
        growth, ok = verdict(row, smallest, largest)
        target = f"< 1 ms, <= {TARGET_GROWTH:.0f}x" if op.loop_path else "none (comparison)"
        lines.append(f"| {op.name} | {cells} | {growth:.1f}x | {target} | "
                     f"{ok if op.loop_path else '-'} |")  # fmt: skip
    table = "\n".join(lines)
    sizes_text = ", ".join(f"{size:,}" for size in sizes)
    after = ", ".join(f"{a:,} -> {b:,}" for a, b in (spans[s] for s in sizes))
    counts = ", ".join(f"{results[s][ALL_TRADES].samples}" for s in sizes)
    cold = ", ".join(f"{results[s][TOTALS_COLD].samples}" for s in sizes)
    now = WallClock().now()
    return f"""## Journal: the trading loop's reads against trade history

Command: `{command}` on {platform.machine()},
{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},
{now:%Y-%m-%d %H:%M} UTC.

A real SQLite journal file (WAL, the bot's own connection settings) grown to these numbers of
closed iron flies: {sizes_text}. Each fly has 4 opening + 4 closing fills on 4 fresh option
uics, one fly a day; one more fly is open (its 4 opening fills). Written through
`journal.transaction()` from seed {SEED} with a ManualClock; {megabytes:.1f} MB of journal file
at the end. Only the reads are timed, on the connection that wrote the history (as in the bot).
Each loop-path read runs {reps} times per size (fewer if it took over 2 s). The after-close
row, {close_reps} times per size, closes the open fly (untimed), times the read, then opens the
next fly, so the history grows while it runs (closed flies during that row: {after}).
`trades()` ran {counts} times per size and the cold totals {cold} times (about 3 s and 2 s
each), so their p99 is close to the slowest call.

Target, for each read the trading loop makes: median and p99 under 1 ms with {largest:,}
closed trades, and a median at most {TARGET_GROWTH:.0f}x the one with {smallest:,} (growth is
that ratio). `daily_pnl(day)` runs in the same Sheets refresh as `realized_totals()`, so it is
held to the same target.

{table}

The cold totals (the first `realized_totals()` of a connection, once per bot start) and
`trades()` read the whole history, so they grow with it; the trading loop calls neither.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    parser.add_argument("--reps", type=int, default=REPS, help="timed calls per read and size")
    parser.add_argument("--close-reps", type=int, default=CLOSE_REPS,
                        help="flies closed per size for the after-close row")  # fmt: skip
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="closed trades in the history, ascending")  # fmt: skip
    args = parser.parse_args()
    command = "python -m benchmarks.journal_bench --write"
    if (args.sizes, args.reps, args.close_reps) != (list(SIZES), REPS, CLOSE_REPS):
        command += (f" --sizes {' '.join(map(str, args.sizes))} --reps {args.reps}"
                    f" --close-reps {args.close_reps}")  # fmt: skip
    results, spans, megabytes = run(args.sizes, args.reps, args.close_reps)
    text = render(results, spans, megabytes, command, args.reps, args.close_reps)
    print(text)
    if args.write:
        write_section(Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md",
                      "journal", text)  # fmt: skip


if __name__ == "__main__":
    main()
