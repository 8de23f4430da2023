"""Delta Neutral scenario harness: the real DeltaNeutralStrategy in the real BotRuntime (in a
thread, as `calypso run delta_neutral --env local` assembles it) against the simulator.

Built on the Iron Fly harness (`tests/scenarios/iron_fly/harness.py`): its `Day` (a scripted
simulator day and CALYPSO_HOME), `InProcessBot` (the runtime in a thread) and `until`. Prices
(SPY, VIX.I) are pinned and the clock jumped through the control API; outcomes are read from
the journal (read-only) and the simulator's books. Times are the simulator's (UTC aware;
America/New_York for the session); timeouts are real seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bots.delta_neutral.config import DeltaNeutralConfig
from bots.delta_neutral.strategy import DeltaNeutralStrategy
from shared import paths
from shared.config_loader import load_bot_config
from shared.journal import Journal
from shared.journal.models import FillSide, OrderIntent, SafetyEvent, TradeRecord
from shared.runtime.crash import CRASH_ENV
from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import ROOT, Day, InProcessBot, until

BOT = "delta_neutral"
EXAMPLE_CONFIG = ROOT / "bots" / BOT / "config" / "config.example.json"
SPY = "SPY"
SPY_LEVEL = 600.0

# Scenario settings: market orders (one fill check, no ladder), no network VIX fallback, a
# short open delay, and the loop the runtime uses in production.
SCENARIO_STRATEGY: dict[str, Any] = {"vix_fallback_yahoo": False, "market_open_delay_minutes": 1}
SCENARIO_EXECUTION: dict[str, Any] = {"order_style": "market"}


def write_config(home: Path, **sections: dict[str, Any]) -> Path:
    """The shipped example with the scenario settings and `sections` merged in (one level
    deep), written as the operator config under `home`."""
    config = json.loads(EXAMPLE_CONFIG.read_text())
    config["strategy"].update(SCENARIO_STRATEGY)
    config["execution"].update(SCENARIO_EXECUTION)
    for name, values in sections.items():
        config[name].update(values)
    path = paths.bot_config_path(BOT, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


class DeltaNeutralBot(InProcessBot):
    """The Delta Neutral runtime in a thread (see `InProcessBot`)."""

    bot = BOT

    def _load(self, config_path: Path) -> tuple[Any, Any]:
        config = load_bot_config(BOT, config_path).config
        assert isinstance(config, DeltaNeutralConfig)
        return config, DeltaNeutralStrategy.from_bot_config(config)

    @property
    def dn(self) -> DeltaNeutralStrategy:
        assert isinstance(self.strategy, DeltaNeutralStrategy)
        return self.strategy

    def wait_for(self, predicate: Callable[[DeltaNeutralStrategy], bool], what: str,
                 timeout_s: float = 30.0) -> None:
        """Poll the strategy until `predicate` holds (fails fast when the runtime died)."""
        until(lambda: predicate(self.dn) or not self._thread.is_alive(), timeout_s,
              f"{what} (state {self.state()})")
        if not self._thread.is_alive():
            raise AssertionError(f"bot stopped in {self.state()}: {self.failure!r}")

    def holding(self) -> bool:
        """Straddle and strangle both held (nothing in flight)."""
        return self.state() == "straddle:holding/strangle:holding"


class DeltaNeutralProcess:
    """`calypso run delta_neutral --env local` as a real process with the operator config under
    `home` (CALYPSO_HOME); output to a file there. `crash_at` arms the executor's test crash
    hook (`shared/runtime/crash.py`: e.g. `close_after_leg:1`); `dry_run` adds `--dry-run`
    (orders filled in the process at the simulator's quotes; journal `DRY_RUN_JOURNAL`)."""

    def __init__(self, server: SimServer, home: Path, crash_at: str | None = None,
                 *, dry_run: bool = False) -> None:
        self.log = home / f"bot-{time.monotonic_ns()}.log"
        env = {**os.environ, "CALYPSO_HOME": str(home)}
        for name in ("CALYPSO_TEST_STRATEGY", CRASH_ENV, "NOTIFY_SOCKET"):
            env.pop(name, None)
        if crash_at is not None:
            env[CRASH_ENV] = crash_at
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "run", BOT, "--env", "local",
                 "--sim-url", server.base_url, *(["--dry-run"] if dry_run else [])],
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

    def stop(self) -> int:
        """SIGTERM and wait; the exit code."""
        self.proc.terminate()
        return self.wait(30)


def start_bot(day: Day, **sections: dict[str, Any]) -> DeltaNeutralBot:
    """Write the config (scenario settings + `sections`) and start the bot in-process."""
    bot = DeltaNeutralBot(day.server, day.home, write_config(day.home, **sections))
    bot.start()
    return bot


def jump(day: Day, moment: datetime) -> None:
    """Jump the simulator's clock to `moment` (forward only)."""
    day.control("POST", "/clock", {"now": moment.isoformat()})


@dataclass(frozen=True)
class JournalView:
    """What a scenario left in the bot's journal."""

    trades: list[TradeRecord]
    safety: list[SafetyEvent]
    intents: list[OrderIntent]
    messages: list[str]

    def labelled(self, purpose: str) -> list[TradeRecord]:
        """Trades whose label names `purpose` (`straddle_entry`, `shorts`, `roll`, ...)."""
        return [t for t in self.trades if f":{purpose}:" in t.label]

    def safety_names(self) -> list[str]:
        return [event.event for event in self.safety]


DRY_RUN_JOURNAL = f"{BOT}.dry_run.sqlite"  # beside the live journal


def read_journal(home: Path, *, dry_run: bool = False) -> JournalView:
    """The journal now (fails when it does not exist yet; see `journal_or_none`)."""
    path = paths.journal_path(BOT, home)
    with Journal.open_readonly(path.with_name(DRY_RUN_JOURNAL) if dry_run else path) as journal:
        rows = journal.outbox_pending(100_000)
        return JournalView(
            trades=journal.trades(), safety=journal.safety_events(), intents=journal.intents(),
            messages=[str(r.payload.get("message")) for r in rows if r.kind == "bot_log"],
        )


def journal_or_none(home: Path, *, dry_run: bool = False) -> JournalView | None:
    """The journal now, or None while the bot has not created it (or is creating it)."""
    path = paths.journal_path(BOT, home)
    if not (path.with_name(DRY_RUN_JOURNAL) if dry_run else path).exists():
        return None
    try:
        return read_journal(home, dry_run=dry_run)
    except Exception:  # the bot may be creating the file right now
        return None


def fills_pnl_usd(trade: TradeRecord) -> Decimal:
    """Signed fills x multiplier x quantity (sells +) less every commission, USD, computed
    here independently of the journal's own arithmetic."""
    total = Decimal(0)
    for fill in trade.fills:
        sign = 1 if fill.side is FillSide.SELL else -1
        total += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
    return total
