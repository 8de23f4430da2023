"""Canonical objects for the status and health tests: a populated journal, token caches, fakes
for the process boundary (systemctl, /proc, disk)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.clock import ManualClock
from shared.health.probes import SystemProbes
from shared.journal import Journal, PositionSnapshot

BOT = "iron_fly_0dte"
# Tuesday 3 March 2026, 10:30 New York (EST, UTC-5): NYSE open.
NOW = datetime(2026, 3, 3, 15, 30, tzinfo=UTC)
# Saturday 7 March 2026, 12:00 New York: market closed.
WEEKEND = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
GIB = 1024**3

# The closed trade of today: sold 2 at 2.35, bought back 2 at 1.10, x100, $1.305 per fill:
# (2.35 - 1.10) x 100 x 2 = 250.00 minus 2 x 1.305 = 2.61 -> 247.39.
TODAY_PNL_USD = 247.39
# The open iron fly: shorts 3.00 + 2.80, longs 0.50 + 0.45, x100, $1 per fill:
# (3.00 + 2.80 - 0.50 - 0.45) x 100 = 485.00 minus 4.00 -> 481.00.
OPEN_NET_CASH_USD = 481.0


def _fill(journal: Journal, trade_id: int, **values: Any) -> None:
    base: dict[str, Any] = {
        "trade_id": trade_id,
        "uic": 1001,
        "open_close": "open",
        "quantity": 1,
        "multiplier": 100,
        "commission_usd": Decimal("1.00"),
        "filled_at": NOW - timedelta(hours=1),
        "simulated": False,
    }
    base.update(values)
    journal.record_fill(**base)


def write_journal(home: Path, bot: str = BOT) -> Path:
    """A journal for `bot` under `home`: state `in_position`, today's closed winner, a trade
    closed yesterday evening New York time (Tuesday in UTC), an open iron fly, 4 positions."""
    path = home / "data" / f"{bot}.sqlite"
    clock = ManualClock(NOW - timedelta(days=1, hours=2))
    with Journal.open(path, clock=clock) as journal:
        # Monday 21:00 NY = Tuesday 02:00 UTC: belongs to Monday's P&L, not today's.
        monday_open = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
        monday = journal.open_trade(bot=bot, quantity=1, label="late", opened_at=monday_open)
        _fill(
            journal,
            monday,
            leg="short_call",
            side="sell",
            price=Decimal("9"),
            filled_at=monday_open,
        )
        _fill(
            journal,
            monday,
            leg="short_call",
            side="buy",
            open_close="close",
            price=Decimal("1"),
            filled_at=monday_open + timedelta(hours=1),
        )
        journal.close_trade(monday, "eod", monday_open + timedelta(hours=1))

        opened = NOW - timedelta(minutes=30)
        winner = journal.open_trade(bot=bot, quantity=2, label="fly 5800", opened_at=opened)
        common = {"quantity": 2, "commission_usd": Decimal("1.305"), "leg": "short_call"}
        _fill(journal, winner, side="sell", price=Decimal("2.35"), filled_at=opened, **common)
        _fill(
            journal,
            winner,
            side="buy",
            open_close="close",
            price=Decimal("1.10"),
            filled_at=opened + timedelta(minutes=18),
            **common,
        )
        journal.close_trade(winner, "profit_target", opened + timedelta(minutes=18))

        fly = journal.open_trade(bot=bot, quantity=1, label="fly 5825", opened_at=NOW)
        for leg, side, price, uic in (
            ("short_call", "sell", "3.00", 2001),
            ("short_put", "sell", "2.80", 2002),
            ("long_call", "buy", "0.50", 2003),
            ("long_put", "buy", "0.45", 2004),
        ):
            _fill(journal, fly, leg=leg, side=side, price=Decimal(price), uic=uic, filled_at=NOW)
        journal.snapshot_positions(
            [
                PositionSnapshot(f"p{uic}", uic, "StockIndexOption", q)
                for uic, q in ((2001, -1), (2002, -1), (2003, 1), (2004, 1))
            ],
            taken_at=NOW,
        )
        clock.set(NOW)
        journal.save_state(bot, "in_position", {"trade_id": fly})
    return path


def write_token_cache(
    home: Path, environments: Mapping[str, Mapping[str, Any]], *, mode: int = 0o600
) -> Path:
    """The shared token cache with the given per-environment entries (token_coordinator's
    document shape: {"version": 1, "environments": {...}})."""
    path = home / "data" / "saxo_token_cache.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "environments": environments}), encoding="utf-8")
    os.chmod(path, mode)
    return path


def token_entry(
    now: datetime, *, access_in: timedelta, refresh_in: timedelta | None, age: timedelta
) -> dict[str, Any]:
    """A cache entry whose access token expires `access_in` after `now` and was issued `age`
    before it; the token values are recognisable strings the tests look for in output."""
    return {
        "access_token": "ACCESS-SECRET-VALUE",
        "refresh_token": "REFRESH-SECRET-VALUE",
        "access_expires_at": (now + access_in).isoformat(),
        "refresh_expires_at": None if refresh_in is None else (now + refresh_in).isoformat(),
        "issued_at": (now - age).isoformat(),
        "token_url": "https://sim.logonvalidation.net/token",
    }


def write_config(home: Path, bot: str, environment: str) -> None:
    """A minimal operator config.json naming `environment` (health reads only that key)."""
    path = home / "bots" / bot / "config" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"bot": {"name": bot, "environment": environment}}), "utf-8")


def write_log(home: Path, bot: str, lines: list[str], *, modified: datetime) -> Path:
    """`logs/<bot>/bot.log` with `lines`, its mtime set to `modified`."""
    path = home / "logs" / bot / "bot.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    stamp = modified.timestamp()
    os.utime(path, (stamp, stamp))
    return path


class FakeSystemd:
    """`systemctl show` as seen by the probe: unit -> properties; absent units -> None."""

    def __init__(self, units: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.units = dict(units or {})

    def unit_properties(self, unit: str) -> Mapping[str, str] | None:
        return self.units.get(unit)


class FakeProc:
    """RSS per pid in bytes; unknown pids do not exist."""

    def __init__(self, rss: Mapping[int, int] | None = None) -> None:
        self.rss = dict(rss or {})

    def rss_bytes(self, pid: int) -> int | None:
        return self.rss.get(pid)


class FakeDisk:
    def __init__(self, free: int = 50 * GIB) -> None:
        self.free = free

    def free_bytes(self, path: Path) -> int:
        return self.free


def fake_probes(
    units: Mapping[str, Mapping[str, str]] | None = None,
    rss: Mapping[int, int] | None = None,
    free: int = 50 * GIB,
) -> SystemProbes:
    return SystemProbes(service=FakeSystemd(units), process=FakeProc(rss), disk=FakeDisk(free))


def active_unit(pid: int) -> dict[str, str]:
    return {
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
        "MainPID": str(pid),
    }
