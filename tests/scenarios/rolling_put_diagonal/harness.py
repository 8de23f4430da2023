"""Scenario harness of the Rolling Put Diagonal: a real `calypso run rolling_put_diagonal`
process on the local simulator (`Bot`), the simulator's control API and books (`Sim`), and
read-only views of the bot's journal. Timeouts are real seconds; times are the simulator's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from shared import paths
from shared.event_overlay import Overlay, OverlayDay, OverlayYear
from shared.journal import Journal
from shared.journal.models import FillSide, OrderIntent, TradeRecord
from shared.market_hours import NY
from shared.saxo_sim.instruments import QQQ_UIC
from shared.saxo_sim.orders import OrderRequest
from shared.saxo_sim.saxo_shapes import ACCOUNT_KEY
from shared.saxo_sim.server import SimServer

BOT = "rolling_put_diagonal"
ROOT = Path(__file__).resolve().parents[3]


def at(day: date, hhmm: time) -> datetime:
    return datetime.combine(day, hhmm, tzinfo=NY).astimezone(UTC)


def write_config(home: Path, **strategy: Any) -> None:
    """`home`'s config.json: the shipped example with `strategy` keys changed."""
    config = json.loads(paths.bot_example_config_path(BOT).read_text())
    config["strategy"].update(strategy)
    target = paths.bot_config_path(BOT, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config))


def add_earnings(home: Path, day: date, symbol: str) -> None:
    """The operator's event overlay of `home` with one earnings report of `symbol` on `day`
    (after the close), as `calypso calendar import` writes it."""
    entry = OverlayYear(kind="earnings", year=day.year, source="scenario",
                        imported_at=datetime(2026, 1, 2, tzinfo=UTC),
                        days=(OverlayDay(date=day, name=f"{symbol} earnings", symbol=symbol,
                                         timing="after_close"),))  # fmt: skip
    target = paths.events_overlay_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Overlay(entries=(entry,)).model_dump_json())


class Bot:
    """`calypso run rolling_put_diagonal --env local` with the example config."""

    def __init__(self, server: SimServer, home: Path, crash_at: str | None = None) -> None:
        self.server, self.home = server, home
        self.log = home / "bot.out"
        env = {**os.environ, "CALYPSO_HOME": str(home)}
        for name in ("CALYPSO_TEST_STRATEGY", "CALYPSO_TEST_CRASH_AT", "NOTIFY_SOCKET"):
            env.pop(name, None)
        if crash_at is not None:
            env["CALYPSO_TEST_CRASH_AT"] = crash_at
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "run", BOT, "--env", "local",
                 "--sim-url", server.base_url],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(30)

    def tail(self) -> str:
        return self.log.read_text()[-4000:]


class Sim:
    def __init__(self, server: SimServer) -> None:
        self.server = server

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.server.base_url}/sim/v1{path}", json=body,
                                    timeout=10)  # fmt: skip
        response.raise_for_status()
        return response.json() if response.content else None

    def jump(self, moment: datetime) -> None:
        self.control("POST", "/clock", {"now": moment.isoformat()})

    def pin(self, level: float) -> None:
        self.control("POST", "/market/pin", {"symbol": "QQQ", "level": level})

    def positions(self) -> dict[int, int]:
        rows = self.server.call(lambda s: list(s.exchange.portfolio.positions.values()))
        return {p.uic: int(p.amount) for p in rows if p.amount != 0}

    def cash_change_usd(self) -> Decimal:
        start = self.server.call(lambda s: s.config.starting_cash_usd)
        return Decimal(self.server.call(lambda s: s.exchange.portfolio.cash)) - Decimal(start)


def journal_read(home: Path, read: Callable[[Journal], Any], default: Any) -> Any:
    path = paths.journal_path(BOT, home)
    if not path.exists():
        return default
    try:
        with Journal.open_readonly(path) as journal:
            return read(journal)
    except Exception:  # the bot may be creating the file right now
        return default


def intents(home: Path, purpose: str) -> list[str]:
    """The strategy's intent ids of `purpose` (each order of a limit ladder is one journal
    intent carrying the strategy's intent id), oldest first, once each."""
    found: list[OrderIntent] = journal_read(home, lambda j: j.intents(), [])
    ids = [str(i.payload.get("intent_id")) for i in found]
    return list(dict.fromkeys(i for i in ids if f":{purpose}:" in i))


def all_intents(home: Path) -> list[str]:
    """Every strategy intent id, oldest first, once each (its purpose is the second field)."""
    found: list[OrderIntent] = journal_read(home, lambda j: j.intents(), [])
    return list(dict.fromkeys(str(i.payload.get("intent_id")) for i in found))


def state_name(home: Path) -> str | None:
    """The strategy state the bot last persisted (e.g. `campaign:waiting_event`)."""
    stored = journal_read(home, lambda j: j.load_state(BOT), None)
    return None if stored is None else str(stored.state)


def trades(home: Path) -> list[TradeRecord]:
    found: list[TradeRecord] = journal_read(home, lambda j: j.trades(), [])
    return found


def messages(home: Path) -> list[str]:
    rows = journal_read(home, lambda j: j.outbox_pending(100_000), [])
    return [str(r.payload.get("message")) for r in rows if r.kind == "bot_log"]


def fills_cash_usd(trade: TradeRecord) -> Decimal:
    """Signed fills x multiplier x quantity (sells positive) less commissions, USD."""
    total = Decimal(0)
    for fill in trade.fills:
        sign = 1 if fill.side is FillSide.SELL else -1
        total += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
    return total


def holding(sim: Sim) -> list[int]:
    return sorted(sim.positions().values())


def journal_open_uics(home: Path) -> dict[int, int]:
    """Contracts per uic of the journal's open trades, from their fills (buys +)."""
    held: dict[int, int] = {}
    for trade in trades(home):
        if trade.closed_at is not None:
            continue
        for fill in trade.fills:
            held[fill.uic] = held.get(fill.uic, 0) + (
                fill.quantity if fill.side is FillSide.BUY else -fill.quantity)
    return {uic: amount for uic, amount in held.items() if amount != 0}


def options_held(sim: Sim) -> dict[int, int]:
    return {uic: amount for uic, amount in sim.positions().items() if uic != QQQ_UIC}


def safety(home: Path) -> list[str]:
    return [e.event for e in journal_read(home, lambda j: j.safety_events(), [])]


def manual_sale(server: SimServer, uic: int) -> None:
    """Sell one contract of `uic` at the simulator by hand (a manual market order)."""

    def sell(state: Any) -> None:
        state.exchange.place(OrderRequest(
            account_key=ACCOUNT_KEY, uic=uic, asset_type="StockOption", buy_sell="Sell",
            amount=Decimal(1), order_type="Market", price=None, duration="DayOrder",
            to_open_close=None, external_reference=None, manual_order=True))
        state.step()

    server.call(sell)
