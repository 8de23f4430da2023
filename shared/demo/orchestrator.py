"""One demo run: the simulator in-process, each bot as a process, watched until the last day
is done, then every bot stopped with SIGTERM, the simulator stopped and a summary built.

Warm-up: the simulator runs at `speed` from the start (the bots' runtimes fix their pacing to
the speed they see at start-up, so it never changes). Bot start-up takes a few real seconds,
i.e. many simulated minutes at 40x or more, which must not eat the first day's opening range. So
the simulator starts in the LAST part of the session before the first demo day (the iron fly is
past its entry time there), and as soon as every bot has saved a state the clock jumps to the
first day's pre-open (`start`). If the bots are slower than STARTUP_BUDGET_REAL_S, the
simulator reaches the close and skips to that pre-open by itself. A bot that holds overnight
would enter there if its entry gates pass on that session: the default start (the day after an
FOMC decision) keeps them shut, and a trade opened in the warm-up is reported.

Days: the simulator starts at `start` (a New York pre-open). A day ends when every running bot
is settled on it (`shared.demo.settle`: a flat bot done for the day; a bot holding overnight
only on the last day, holding with nothing in flight): the simulator clock then jumps to the
next session's pre-open, or the run ends after the last day with the holding bots' positions
left open. Otherwise the day runs to its close; the run ends once the simulator has passed the
last day. A bot process that ends on its own is reported as died; the others keep running.
`stop` (Ctrl-C, SIGTERM) ends the run cleanly.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from shared.clock import Clock, WallClock
from shared.demo.display import Reporter
from shared.demo.home import DemoHome
from shared.demo.process import BotProcess, StopResult
from shared.demo.settle import is_settled
from shared.demo.status import BotView, MarketView, read_bot, read_market
from shared.demo.summary import BotSummary, DemoSummary, summarize_bot
from shared.logger_service import kv
from shared.market_hours import TradingSession, Venue, previous_session, session
from shared.saxo_sim.config import SimConfig
from shared.saxo_sim.server import SimServer
from shared.saxo_sim.sim_clock import next_session

logger = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
PRE_OPEN = timedelta(minutes=5)  # the simulator's active window starts 5 minutes before the open
REFRESH_S = 0.5  # real seconds between status reads
STARTUP_BUDGET_REAL_S = 60.0  # real seconds of warm-up before the first day at most
INDEX_OPTIONS: Venue = "index_options"


@dataclass(frozen=True)
class DemoOptions:
    """Settings of one run. `start` is tz-aware (a pre-open); `speed` simulated s per real s;
    `holding` the bots among `bots` that hold positions overnight (see `shared.demo.settle`)."""

    seed: int
    days: int
    speed: float
    bots: tuple[str, ...]
    start: datetime
    holding: frozenset[str] = frozenset()


class DemoRun:
    """Runs the demo once (`run()`); `stop` may be set from a signal handler to end it early."""

    def __init__(
        self,
        options: DemoOptions,
        *,
        home: DemoHome,
        reporter: Reporter,
        stop: threading.Event | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = options
        self.home = home
        self.reporter = reporter
        self.stop = stop or threading.Event()
        self._clock = clock or WallClock()
        self._http = requests.Session()
        self._processes: dict[str, BotProcess] = {}
        self._reported_dead: set[str] = set()
        self._views: list[BotView] = []
        self._market = MarketView()

    def run(self) -> DemoSummary:
        """Run to the end (see the module docstring). Raises OSError if the simulator cannot
        listen; bots already started are stopped in every case."""
        options = self.options
        self.home.prepare(list(options.bots))
        server = SimServer(
            SimConfig(seed=options.seed, start=warm_up_start(options), speed=options.speed,
                      rate_limits=False)
        )  # fmt: skip
        server.start("127.0.0.1", 0)
        logger.info(kv(
            "demo_started",
            url=server.base_url,
            seed=options.seed,
            speed=options.speed,
            days=options.days,
            bots=",".join(options.bots),
        ))  # fmt: skip
        ended_because = "interrupted"
        results: dict[str, StopResult] = {}
        try:
            for bot in options.bots:
                self._processes[bot] = BotProcess(
                    bot, sim_url=server.base_url, home=self.home.root,
                    console_log=self.home.console_log(bot), clock=self._clock,
                )  # fmt: skip
            self.reporter.event(
                f"simulator at {server.base_url} (seed {options.seed}, {options.speed:g}x); "
                f"bots: {', '.join(options.bots)}"
            )
            ended_because = self._watch(server.base_url)
        finally:
            results = self._stop_bots()
            self._refresh(server.base_url)
            server.stop()
            self._http.close()
            logger.info(kv("demo_ended", because=ended_because))
        return self._summary(ended_because, results)

    # --- watching ----------------------------------------------------------------------------
    def _watch(self, base_url: str) -> str:
        """Watch until the run is over; returns why it ended."""
        first = first_day_start(self.options.start)
        day = first.astimezone(NEW_YORK).date()
        day_number = 1
        warming_up = True
        while not self.stop.is_set():
            self._refresh(base_url)
            self._report_deaths()
            if all(process.poll() is not None for process in self._processes.values()):
                return "every bot process exited"
            now = self._market.now
            if warming_up and now is not None:
                warming_up = self._warm_up(base_url, now, first)
            elif now is not None:
                today = now.astimezone(NEW_YORK).date()
                if today > day:  # the session ran to its close and the simulator moved on
                    if day_number >= self.options.days:
                        return f"day {day_number} ran to its close"
                    day, day_number = today, day_number + 1
                    self.reporter.event(f"day {day_number}: {today}")
                elif self._settled(day, now, last_day=day_number >= self.options.days):
                    if day_number >= self.options.days:
                        return f"every bot finished day {day_number} ({day}){self._held_text()}"
                    day = self._jump_to_next_session(base_url, day)
                    day_number += 1
                    self.reporter.event(f"day {day_number}: {day} (skipped the rest of the last)")
            self.reporter.update(self._market, self._views, now_s=self._clock.monotonic())
            self.stop.wait(REFRESH_S)
        return "interrupted"

    def _refresh(self, base_url: str) -> None:
        self._market = read_market(base_url, self._http)
        self._views = [
            read_bot(bot, home=self.home.root, process=_process_text(process))
            for bot, process in self._processes.items()
        ]

    def _warm_up(self, base_url: str, now: datetime, first: datetime) -> bool:
        """Jump to the first day's pre-open once every live bot has saved a state; returns
        True while still warming up."""
        if now >= first:
            return False  # the simulator got there by itself (slow start-up)
        starting = [
            view.bot for view in self._views
            if view.state is None and self._processes[view.bot].poll() is None
        ]  # fmt: skip
        if starting:
            return True
        for view in self._views:
            if view.trades:
                self.reporter.event(
                    f"{view.bot} traded during the warm-up (its entry gates passed on "
                    f"{now.astimezone(NEW_YORK):%Y-%m-%d}): choose another --start"
                )
        self._set_clock(base_url, first)
        self.reporter.event(f"bots started; day 1: {first.astimezone(NEW_YORK):%Y-%m-%d %H:%M} ET")
        return False

    def _set_clock(self, base_url: str, target: datetime) -> None:
        response = self._http.post(
            f"{base_url}/sim/v1/clock", json={"now": target.isoformat()}, timeout=5.0
        )
        response.raise_for_status()
        logger.info(kv("demo_clock_jump", to=target.isoformat()))

    def _settled(self, day: date, now: datetime, *, last_day: bool) -> bool:
        running = [view for view in self._views if self._processes[view.bot].poll() is None]
        return bool(running) and all(
            is_settled(view, day=day, now=now, holds_overnight=view.bot in self.options.holding,
                       last_day=last_day)
            for view in running
        )  # fmt: skip

    def _held_text(self) -> str:
        holding = [view.bot for view in self._views if view.open_trades]
        return f"; {', '.join(holding)} hold positions, left open" if holding else ""

    def _report_deaths(self) -> None:
        for bot, process in self._processes.items():
            code = process.poll()
            if code is not None and bot not in self._reported_dead:
                self._reported_dead.add(bot)
                self.reporter.event(
                    f"{bot} process DIED with exit code {code}; output: {process.console_log}"
                )

    def _jump_to_next_session(self, base_url: str, day: date) -> date:
        """Move the simulator's clock to the pre-open of the session after `day`."""
        target = next_session(day).open - PRE_OPEN
        self._set_clock(base_url, target)
        return target.astimezone(NEW_YORK).date()

    # --- ending ------------------------------------------------------------------------------
    def _stop_bots(self) -> dict[str, StopResult]:
        """SIGTERM every running bot at once, then wait for each (SIGKILL after the limit)."""
        sent = {bot: process.send_stop() for bot, process in self._processes.items()}
        if any(at is not None for at in sent.values()):
            self.reporter.event("stopping the bots (SIGTERM)")
        return {bot: process.wait_stopped(sent[bot]) for bot, process in self._processes.items()}

    def _summary(self, ended_because: str, results: dict[str, StopResult]) -> DemoSummary:
        bots: list[BotSummary] = []
        for bot in self.options.bots:
            process = self._processes.get(bot)
            stopped_by_demo = bot not in self._reported_dead
            bots.append(
                summarize_bot(
                    bot, home=self.home, result=results.get(bot),
                    stopped_by_demo=stopped_by_demo,
                    last_output=process.tail() if process is not None else (),
                )
            )  # fmt: skip
        return DemoSummary(
            seed=self.options.seed,
            days=self.options.days,
            speed=self.options.speed,
            sim_start=first_day_start(self.options.start),
            sim_end=self._market.now,
            ended_because=ended_because,
            interrupted=self.stop.is_set(),
            bots=tuple(bots),
            home=self.home.root,
        )


def _process_text(process: BotProcess) -> str:
    code = process.poll()
    if code is None:
        return "running"
    return f"DIED (exit {code})"


def first_day_start(start: datetime) -> datetime:
    """`start` if it lies in an index-options session's active window [open - 5 min, close),
    else the pre-open of the next session (what the simulator itself would do)."""
    day = start.astimezone(NEW_YORK).date()
    found: TradingSession | None = session(day, INDEX_OPTIONS)
    if found is not None and found.open - PRE_OPEN <= start < found.close:
        return start
    if found is None or start >= found.close:
        found = next_session(day)
    return found.open - PRE_OPEN


def warm_up_start(options: DemoOptions) -> datetime:
    """Where the simulator starts: STARTUP_BUDGET_REAL_S real seconds (at the run's speed)
    before the close of the session preceding the first day, not before its pre-open."""
    first = first_day_start(options.start).astimezone(NEW_YORK).date()
    before = previous_session(first, INDEX_OPTIONS)
    budget = timedelta(seconds=STARTUP_BUDGET_REAL_S * options.speed)
    return max(before.open - PRE_OPEN, before.close - budget)
