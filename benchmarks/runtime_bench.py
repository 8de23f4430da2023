"""Runtime benchmark: the loop's own cost per iteration with a position open (no I/O: a
DryRunBroker over an in-memory data broker), and tick-to-order latency against the simulator
(`benchmarks.runtime_tick_bench`: the simulator writes the price frame that crosses a stop ->
stream -> tick queue -> loop wakes -> strategy decides a close -> executor -> order POST
arrives at the simulator).

Run: `python -m benchmarks.runtime_bench [--write]` (--write updates docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.perf_doc import write_section
from benchmarks.runtime_tick_bench import tick_section, tick_to_order
from shared.bot_runtime import BotRuntime
from shared.broker import DailyBar, PriceFeed, TickCallback
from shared.brokers.dry_run import DryRunBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import ManualClock
from shared.config.envelope import LoopSection, MarketDataSection
from shared.domain import Balance, OptionChain, OptionContract, PutCall, Quote
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal
from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 New York, a Monday


class MemoryData:
    """An in-memory market: SPX at 5000 and a 0DTE SPXW chain with fixed quotes."""

    simulated = False

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        today = date(2026, 3, 2)
        self._contracts = tuple(
            OptionContract(1000 + i * 2 + (pc is PutCall.PUT), "SPXW", 128, "StockIndexOption",
                           4913, today, Decimal(4900 + 5 * i), pc)
            for i in range(41)
            for pc in (PutCall.CALL, PutCall.PUT)
        )  # fmt: skip

    def quotes(self, uics: Any, asset_type: str) -> dict[int, Quote]:
        now = self._clock.now()
        price = Decimal(5000) if asset_type == "CfdOnIndex" else Decimal("10.0")
        spread = Decimal("0.5") if asset_type == "CfdOnIndex" else Decimal("0.2")
        return {
            uic: Quote(uic, asset_type, price, price + spread, None, None, now) for uic in uics
        }

    def vix(self) -> Decimal | None:
        return Decimal(15)

    def vix_instrument(self) -> tuple[int, str] | None:
        return None

    def precheck(self, ticket: Any) -> str | None:
        return None

    def chain(self, root: str, expiry: date) -> OptionChain:
        return OptionChain(root, 128, "StockIndexOption", 4913, 100, (expiry,), self._contracts)

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        return ()

    def positions(self) -> list[Any]:
        return []

    def balance(self) -> Balance:
        return Balance("USD", Decimal(0), Decimal(0), None, None, None)

    def open_price_feed(self, on_tick: TickCallback) -> PriceFeed | None:
        return None


def loop_cost(iterations: int) -> dict[str, float]:
    """Microseconds per full iteration with the probe's fly open (DryRunBroker, no I/O)."""
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal.open(Path(folder) / "bench.sqlite", clock=clock)
        broker = DryRunBroker(MemoryData(clock), clock=clock)  # type: ignore[arg-type]
        runtime = BotRuntime(
            bot="bench",
            strategy=ProbeStrategy(bot="bench", settings=ProbeSettings(hold_minutes=10_000)),
            broker=broker,
            journal=journal,
            clock=clock,
            breaker=CircuitBreaker(
                "bench", BreakerSettings(), clock=clock, store=MemoryBreakerStore()
            ),
            loop=LoopSection(),
            market_data=MarketDataSection(),
            execution=ExecutionSettings(),
            calendar=EventCalendar(),
            use_stream=False,
        )  # fmt: skip
        runtime.start()
        runtime.iteration()  # enters the fly
        assert runtime.strategy.in_position()
        samples = []
        for _ in range(iterations):
            clock.sleep(2.0)
            started = time.perf_counter()
            runtime.iteration()
            samples.append((time.perf_counter() - started) * 1e6)
        journal.close()
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p99_us": samples[int(len(samples) * 0.99) - 1],
    }


def render(results: dict[str, float], iterations: int, tick: dict[str, Any] | None) -> str:
    median, p99 = results["median_us"], results["p99_us"]
    ok_median = "ok" if median < 5000 else "SLOW"
    ok_p99 = "ok" if p99 < 20000 else "SLOW"
    what = "full iteration (probe fly open, DryRunBroker on in-memory data, SQLite journal)"
    tick_text = tick_section(tick) if tick is not None else "Tick-to-order latency: not run.\n"
    return f"""## Bot runtime: loop cost per iteration and tick-to-order latency

Command: `python -m benchmarks.runtime_bench --write` on {platform.machine()},
{os.cpu_count()} CPUs, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

### Loop cost per iteration with a position open (no I/O)

| measure | result | target | verdict |
|---|---|---|---|
| {what}, median | {median:.0f} µs | < 5 ms | {ok_median} |
| same, p99 over {iterations} iterations | {p99:.0f} µs | < 20 ms | {ok_p99} |

Excludes all network I/O (the data broker is in memory): this is the runtime's own cost
(snapshot assembly, strategy, executor bookkeeping, SQLite reads).

{tick_text}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--reps", type=int, default=20, help="tick-to-order repetitions")
    parser.add_argument("--no-tick", action="store_true", help="skip the simulator part")
    args = parser.parse_args()
    results = loop_cost(args.iterations)
    tick = None if args.no_tick else tick_to_order(args.reps)
    text = render(results, args.iterations, tick)
    print(text)
    if args.write:
        write_section(Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md",
                      "runtime", text)  # fmt: skip


if __name__ == "__main__":
    main()
