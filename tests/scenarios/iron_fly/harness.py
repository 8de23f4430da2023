"""Scenario harness: the real IronFlyStrategy in the real BotRuntime against the simulator.

A scenario starts a simulator shortly before the open of a chosen day at a high speed, writes a
bot config with a short opening range (09:30 to `ENTRY_ET`), runs the runtime in a thread
(`InProcessBot`) or as a real process (`BotProcess`), scripts US500.I and VIX.I through the
control API and reads the outcome from the journal (read-only) and from the simulator's own
books. The calm morning of `Day.calm_range` jumps the clock through the quiet minutes of the
range (once the bot has seen each scripted level) instead of running them at SPEED. Times: the
simulator's clock (tz-aware; America/New_York for the session). "sim seconds" are simulated
seconds; timeouts are real seconds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bots.iron_fly_0dte.config import IronFlyConfig
from bots.iron_fly_0dte.strategy import IronFlyStrategy
from shared import paths
from shared.bot_runtime import BotRuntime
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import CircuitBreaker
from shared.config_loader import load_bot_config
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.external_price_feed import PriceFallback
from shared.journal import Journal
from shared.journal.models import (
    FillSide,
    OrderIntent,
    OutboxRow,
    SafetyEvent,
    StoredState,
    TradeRecord,
)
from shared.runtime.sim_clock import SimulatorClock
from shared.saxo_client.client import SaxoClient, token_coordinator
from shared.saxo_client.environments import environment
from shared.saxo_client.rate_limiter import RateLimits
from shared.saxo_client.streaming.client import StreamSettings
from shared.saxo_client.transport import RetryPolicy
from shared.saxo_sim.server import SimServer
from tests.runtime.helpers import store_login

logger = logging.getLogger(__name__)

BOT = "iron_fly_0dte"
NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_CONFIG = ROOT / "bots" / BOT / "config" / "config.example.json"
SPX, VIX = "US500.I", "VIX.I"
SPX_UIC = 4913
STARTING_CASH_USD = Decimal("1000000")  # SimConfig default

# Days of 2026 chosen from shared/data/events_*.json and the exchange calendars:
PLAIN_DAY = date(2026, 3, 2)  # Monday: no FOMC, CPI, PPI or NFP; full session
FOMC_DECISION_DAY = date(2026, 1, 28)  # second day of the January meeting, no data release
CPI_DAY = date(2026, 3, 11)
PPI_DAY = date(2026, 4, 14)
NFP_DAY = date(2026, 3, 6)
EARLY_CLOSE_DAY = date(2026, 11, 27)  # day after Thanksgiving: index options close 13:15 ET

SPEED = 100.0  # simulated seconds per real second
MARKET_STEP_MS = 10  # real ms between simulator market steps (stream ticks): 1 sim s at SPEED
STREAM_REFRESH_SIM_MS = 1000  # the client's default RefreshRate, applied in simulated time
# A 429's reset is REAL seconds of the simulator's real-time window (up to 60 s); the client
# honours it up to this cap (65 s in production), 30 simulated seconds at SPEED.
RATE_LIMIT_WAIT_CAP_REAL_S = 0.3
SIM_START_ET = clock_time(9, 29, 15)
ENTRY_ET = clock_time(9, 34)
RANGE_END_ET = clock_time(9, 33, 57)  # the scripted mornings jump here, 3 sim s before ENTRY_ET
BASE_LEVEL = 6000.0  # US500.I level every scripted morning starts from
CALM_VIX = 15.0

# A short morning (entry 09:34 ET); P&L exits out of reach unless a scenario sets them.
SCENARIO_STRATEGY: dict[str, Any] = {
    "entry_time_et": ENTRY_ET.strftime("%H:%M"),
    "max_range_late_start_minutes": 1,
    "entry_window_minutes": 3,
    "profit_target_usd_per_contract": 5000,
    "max_loss_usd_per_contract": 50000,
    "vix_fallback_yahoo": False,
}


def at_et(day: date, hhmm: clock_time, seconds: float = 0) -> datetime:
    """`day` at `hhmm` America/New_York plus `seconds`."""
    return datetime.combine(day, hhmm, tzinfo=NY) + timedelta(seconds=seconds)


def write_config(home: Path, **sections: dict[str, Any]) -> Path:
    """The shipped example with SCENARIO_STRATEGY and `sections` merged in (one level deep:
    `strategy={...}`, `loop={...}`), written as the operator config under `home`."""
    config = json.loads(EXAMPLE_CONFIG.read_text())
    config["strategy"].update(SCENARIO_STRATEGY)
    for name, values in sections.items():
        config[name].update(values)
    path = paths.bot_config_path(BOT, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


def until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `predicate` every 20 ms until it holds; AssertionError after `timeout_s` real."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout_s}s real")
        time.sleep(0.02)


def sim_time_retries(speed: float) -> RetryPolicy:
    """Production's GET retries with their backoff (real seconds) divided by `speed`: as long
    in simulated time as in production, not `speed` times longer; 429s as InProcessBot says."""
    production = RetryPolicy()
    return RetryPolicy(base_delay_s=production.base_delay_s / speed,
                       max_delay_s=production.max_delay_s / speed,
                       max_rate_limit_wait_s=RATE_LIMIT_WAIT_CAP_REAL_S)


# --- the journal ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalView:
    """What a scenario left in the bot's journal."""

    state: StoredState | None
    trades: list[TradeRecord]
    outbox: list[OutboxRow]
    safety: list[SafetyEvent]
    intents: list[OrderIntent]

    def range_rows(self, decision: str | None = None) -> list[dict[str, Any]]:
        """Opening-range records, oldest first; only `decision` (ENTER, SKIP) when given."""
        rows = [r.payload for r in self.outbox if r.kind == "opening_range"]
        return [r for r in rows if decision is None or r.get("entry_decision") == decision]

    def skip_reason(self) -> str:
        """The reason of the day's single SKIP record (fails unless exactly one exists)."""
        (row,) = self.range_rows("SKIP")
        assert not self.range_rows("ENTER")
        return str(row["reason"])

    def logged_pnl_usd(self) -> Decimal:
        """`realized_pnl_usd` of the strategy's `trade_closed` Bot Logs line."""
        for row in self.outbox:
            found = re.search(r"trade_closed .*realized_pnl_usd=(-?[\d.]+)",
                              str(row.payload.get("message", "")))
            if found:
                return Decimal(found.group(1))
        raise AssertionError("no trade_closed line in the journal")

    def close_intents(self) -> list[OrderIntent]:
        return [i for i in self.intents if i.action.startswith("close")]

    def entry_intents(self) -> list[OrderIntent]:
        return [i for i in self.intents if i.action.startswith("entry")]


def read_journal(home: Path) -> JournalView:
    with Journal.open_readonly(paths.journal_path(BOT, home)) as journal:
        return JournalView(
            state=journal.load_state(BOT),
            trades=journal.trades(),
            outbox=journal.outbox_pending(100_000),  # no mirror runs: nothing is delivered
            safety=journal.safety_events(),
            intents=journal.intents(),
        )


def saved_state(home: Path) -> str | None:
    """The strategy state saved in the journal now (None before the first save)."""
    path = paths.journal_path(BOT, home)
    if not path.exists():
        return None
    try:
        with Journal.open_readonly(path) as journal:
            saved = journal.load_state(BOT)
    except Exception:  # the bot may be creating the file right now
        return None
    return None if saved is None else saved.state


def fills_pnl_usd(trade: TradeRecord) -> Decimal:
    """P&L from the fills, computed here: sum of signed price x multiplier x quantity (sells
    positive) less every commission. USD."""
    total = Decimal(0)
    for fill in trade.fills:
        sign = 1 if fill.side is FillSide.SELL else -1
        total += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
    return total


# --- the bot -------------------------------------------------------------------------------------
class InProcessBot:
    """`calypso run iron_fly_0dte --env local` assembled in this process and run in a thread.

    Mirrors `shared.runtime.startup`: simulator clock, local login, Saxo client and broker,
    journal, circuit breaker, BotRuntime with the real IronFlyStrategy. Differences, all for
    the accelerated clock: the clock re-syncs every 0.25 s real (control-API jumps are seen at
    once); the client's own pacing is off (the scenario simulator runs without rate limits)
    and a 429 is waited out for at most RATE_LIMIT_WAIT_CAP_REAL_S; the GET retries' backoff
    is production's in simulated time (`sim_time_retries`);
    the stream's refresh rate is Saxo's 1 s in SIMULATED time (a real-time 1 s would be 100
    simulated seconds at speed 100 and hide the tick path).
    """

    bot: str = BOT  # another bot's harness overrides `bot` and `_load`

    def __init__(self, server: SimServer, home: Path, config_path: Path,
                 vix_fallback: PriceFallback | None = None) -> None:
        self.server, self.home = server, home
        self.vix_fallback = vix_fallback
        self.config, self.strategy = self._load(config_path)
        self.runtime: BotRuntime | None = None
        self.exit_code: int | None = None
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="scenario-bot", daemon=True)

    def _load(self, config_path: Path) -> tuple[Any, Any]:
        """The validated config and the strategy built from it."""
        config = load_bot_config(self.bot, config_path).config
        assert isinstance(config, IronFlyConfig)
        return config, IronFlyStrategy.from_bot_config(config)

    def _run(self) -> None:
        # Built on this thread: SQLite connections belong to the thread that made them.
        try:
            config, home = self.config, self.home
            clock = SimulatorClock(self.server.base_url, resync_real_s=0.25)
            store_login(self.server, paths.token_cache_path(home))
            client = SaxoClient(
                env=environment("local", sim_url=self.server.base_url),
                tokens=token_coordinator("local", sim_url=self.server.base_url, home=home),
                clock=clock, rate_limits=RateLimits(enabled=False),
                retry=sim_time_retries(clock.speed),
            )
            journal = Journal.open(paths.journal_path(self.bot, home), clock=clock)
            breaker = CircuitBreaker(self.bot, config.circuit_breaker.breaker_settings(),
                                     clock=clock, store=journal)
            self.runtime = BotRuntime(
                bot=self.bot, strategy=self.strategy, journal=journal,
                broker=SaxoBroker(client, stream_settings=StreamSettings(
                    refresh_rate_ms=max(1, round(STREAM_REFRESH_SIM_MS / clock.speed)))),
                clock=clock, breaker=breaker, loop=config.loop, market_data=config.market_data,
                execution=ExecutionSettings.from_section(config.execution),
                calendar=EventCalendar(), clock_speed=clock.speed, environment="local",
                vix_fallback=self.vix_fallback,
            )
            try:
                self.exit_code = self.runtime.run()
            finally:
                client.close()
                journal.close()
        except BaseException as exc:  # reported by stop()
            self.failure = exc
            logger.exception("scenario_bot_failed")

    def start(self) -> InProcessBot:
        self._thread.start()
        until(lambda: (self.runtime is not None and self.runtime.iterations > 0)
              or not self._thread.is_alive(), 20, "bot ready")
        return self

    def state(self) -> str:
        return self.strategy.state_name()

    def fly(self) -> dict[str, Any]:
        """The strategy's fly (strikes, credit) from its exported state."""
        fly = self.strategy.export_state().get("fly")
        assert isinstance(fly, dict), "the strategy holds no fly"
        return fly

    def range_seen(self) -> tuple[Decimal, Decimal] | None:
        """(low, high) of the opening range the strategy has recorded so far, points."""
        recorded = self.strategy.export_state().get("opening_range")
        if not isinstance(recorded, dict):
            return None
        return Decimal(recorded["low"]), Decimal(recorded["high"])

    def wait_range_includes(self, level: float, timeout_s: float = 20.0) -> None:
        """Block until the recorded opening range reaches `level` (a streamed tick seen)."""

        def seen() -> bool:
            found = self.range_seen()
            return found is not None and found[0] <= Decimal(str(level)) <= found[1]

        until(seen, timeout_s, f"opening range including {level} (now {self.range_seen()})")

    def wait_state(self, *states: str, timeout_s: float = 20.0) -> None:
        until(lambda: self.state() in states or not self._thread.is_alive(), timeout_s,
              f"bot state in {states} (now {self.state()})")
        if self.state() not in states:
            raise AssertionError(f"bot stopped in {self.state()}: {self.failure!r}")

    def stop(self) -> int:
        """Stop as SIGTERM does and join; returns the runtime's exit code."""
        if self._thread.is_alive() and self.runtime is not None:
            self.runtime.stop.set("scenario over")
        self._thread.join(20)
        if self.failure is not None:
            raise AssertionError(f"runtime raised {self.failure!r}") from self.failure
        assert self.exit_code is not None, "the runtime thread did not finish"
        return self.exit_code


class BotProcess:
    """`calypso run iron_fly_0dte --env local` as a real process with the real strategy and the
    operator config under `home` (CALYPSO_HOME); output goes to a file there."""

    def __init__(self, server: SimServer, home: Path) -> None:
        self.log = home / f"bot-{time.monotonic_ns()}.log"
        env = {**os.environ, "CALYPSO_HOME": str(home)}
        for name in ("CALYPSO_TEST_STRATEGY", "CALYPSO_TEST_CRASH_AT", "NOTIFY_SOCKET"):
            env.pop(name, None)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "run", BOT, "--env", "local",
                 "--sim-url", server.base_url],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"bot did not exit in {timeout_s}s:\n{self.tail()}") from None


# --- the simulated day ---------------------------------------------------------------------------
@dataclass
class Day:
    """A simulator running one trading `day`, and the bot's CALYPSO_HOME."""

    server: SimServer
    home: Path
    day: date

    def at(self, hhmm: clock_time, seconds: float = 0) -> datetime:
        return at_et(self.day, hhmm, seconds)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the simulator's control API (`/sim/v1<path>`); raises on an error status."""
        url = f"{self.server.base_url}/sim/v1{path}"
        response = requests.request(method, url, json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def now(self) -> datetime:
        return self.server.call(lambda s: s.clock.now())

    def wait_until(self, moment: datetime, timeout_s: float = 30.0) -> None:
        """Block until the simulator's clock reaches `moment`."""
        until(lambda: self.now() >= moment, timeout_s, f"simulator clock at {moment}")

    def skip_to(self, moment: datetime) -> None:
        """Jump the simulator's clock forward to `moment` (control API); no-op once there."""
        if self.now() < moment:
            self.control("POST", "/clock", {"now": moment.isoformat()})

    def pin(self, symbol: str, level: float) -> datetime:
        """Hold `symbol` at `level` from now; returns the simulator time of the change."""
        self.control("POST", "/market/pin", {"symbol": symbol, "level": level})
        return self.now()

    def fault(self, **rule: Any) -> None:
        """Arm a fault (`path_prefix`, `kind`, `count`, `status`, `method`, ...)."""
        self.control("POST", "/faults", rule)

    def positions(self) -> dict[int, Decimal]:
        """Signed amounts per uic as the simulator holds them (nonzero only)."""
        rows = self.server.call(lambda s: list(s.exchange.portfolio.positions.values()))
        return {p.uic: Decimal(p.amount) for p in rows if p.amount != 0}

    def cash_change_usd(self) -> Decimal:
        """The account's cash now less the starting cash: premiums and commissions, USD."""
        return Decimal(self.server.call(lambda s: s.exchange.portfolio.cash)) - STARTING_CASH_USD

    def working_orders(self) -> int:
        """Orders still working at the simulator (placed, not filled, cancelled or expired)."""
        return int(self.server.call(lambda s: len(s.exchange.orders)))

    def order_ids(self) -> set[str]:
        """Every order the simulator saw placed (activities), filled or not."""
        return {a.order_id for a in self.server.call(lambda s: list(s.exchange.activities))}

    def stats(self) -> dict[str, Any]:
        return dict(self.control("GET", "/stats"))

    def bot(self, vix_fallback: PriceFallback | None = None,
            **sections: dict[str, Any]) -> InProcessBot:
        """Write the config (SCENARIO_STRATEGY + `sections`) and start the bot in-process
        (with `vix_fallback` as the runtime's PriceFallback)."""
        config = write_config(self.home, **sections)
        return InProcessBot(self.server, self.home, config, vix_fallback).start()

    def calm_range(self, bot: InProcessBot, *, high: float = BASE_LEVEL + 10,
                   settle: float = BASE_LEVEL + 5, end: clock_time = RANGE_END_ET) -> None:
        """A calm opening range: BASE_LEVEL until 09:31, `high` until 09:32, then `settle`
        (the midpoint with the defaults) through the entry time. The clock jumps to each of
        those times (and to `end`, ET) once `bot` has recorded the level before it, so the
        quiet minutes cost no real time."""
        bot.wait_state("opening_range")
        self.skip_to(self.at(clock_time(9, 31)))
        self.pin(SPX, high)
        bot.wait_range_includes(high)
        self.skip_to(self.at(clock_time(9, 32)))
        self.pin(SPX, settle)
        self.skip_to(self.at(end))

    def through_range(self, bot: InProcessBot) -> None:
        """Once `bot` records the opening range (or is already done for the day), jump to
        RANGE_END_ET: the morning as it is, without its quiet minutes."""
        bot.wait_state("opening_range", "done")
        self.skip_to(self.at(RANGE_END_ET))

    def open_fly(self, *, flat_range: bool = False, **sections: dict[str, Any]) -> InProcessBot:
        """Start the bot, script a calm range (or keep US500.I at BASE_LEVEL: a zero-width
        range, which every range filter passes, jumped through once the bot records it) and
        return the bot holding the fly."""
        bot = self.bot(**sections)
        if flat_range:
            self.through_range(bot)
        else:
            self.calm_range(bot)
        bot.wait_state("in_position")
        return bot


def start_day(sim_factory: Callable[..., SimServer], home: Path, day: date = PLAIN_DAY, *,
              start: clock_time = SIM_START_ET, speed: float = SPEED,
              vix: float = CALM_VIX, level: float = BASE_LEVEL, **sim: Any) -> Day:
    """A simulator at `day` `start` ET with VIX.I and US500.I pinned (`sim`: SimConfig)."""
    sim.setdefault("market_step_ms", MARKET_STEP_MS)
    server = sim_factory(start=at_et(day, start), speed=speed, **sim)
    scenario = Day(server, home, day)
    scenario.pin(VIX, vix)
    scenario.pin(SPX, level)
    return scenario
