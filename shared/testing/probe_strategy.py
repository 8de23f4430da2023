"""ProbeStrategy: a minimal strategy that exercises the whole runtime contract.

At the first decision in a session it opens a 0DTE iron fly on `root` (long call and long put
`wing_strikes` listed strikes out, short call and short put at the strike nearest spot; longs
first), holds it `hold_minutes`, then closes it (shorts first). One entry per New York day.
Used by runtime tests, the e2e crash tests and the benchmark; selected in `local` mode with
`CALYPSO_TEST_STRATEGY=probe`. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import OptionContract, Position, PutCall, Side
from shared.execution.model import leg_from_json, leg_to_json
from shared.strategy_contract import (
    Action,
    ClosePosition,
    DataRequest,
    ExecutionReport,
    InstrumentRef,
    JsonDict,
    LegSpec,
    OpenPosition,
    OptionWindow,
    OrderStyle,
    Snapshot,
)

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class ProbeSettings:
    """Probe parameters: SPXW on US500.I by default; `hold_minutes` of the strategy clock."""

    root: str = "SPXW"
    spot_uic: int = 4913
    spot_asset_type: str = "CfdOnIndex"
    quantity: int = 1
    wing_strikes: int = 5
    hold_minutes: float = 5.0
    order_style: OrderStyle = OrderStyle.MARKET
    max_attempts: int = 1


class ProbeStrategy:
    """waiting -> entering -> holding -> closing -> done (next day: waiting again)."""

    def __init__(self, *, bot: str, settings: ProbeSettings | None = None) -> None:
        self.bot = bot
        self.settings = settings or ProbeSettings()
        self._state = "waiting"
        self._day: date | None = None
        self._legs: tuple[LegSpec, ...] = ()
        self._entered_at: datetime | None = None

    # --- contract ----------------------------------------------------------------------------
    def data_request(self, now: datetime) -> DataRequest:
        s = self.settings
        today = now.astimezone(NEW_YORK).date()
        windows: tuple[OptionWindow, ...] = ()
        if self._state == "waiting":
            windows = (OptionWindow(s.root, today, s.spot_uic, s.wing_strikes + 1),)
        legs = tuple(InstrumentRef(leg.uic, leg.asset_type) for leg in self._legs)
        return DataRequest(
            quotes=(InstrumentRef(s.spot_uic, s.spot_asset_type), *legs),
            option_windows=windows,
            tick_uics=frozenset({s.spot_uic, *(leg.uic for leg in self._legs)}),
        )

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        today = snapshot.now.astimezone(NEW_YORK).date()
        if self._state == "done" and self._day != today:
            self._state = "waiting"
        if self._state == "waiting":
            return self._maybe_enter(snapshot, today)
        if self._state == "holding" and self._entered_at is not None:
            held = snapshot.now - self._entered_at
            if held >= timedelta(minutes=self.settings.hold_minutes):
                return [self._close("hold_time")]
        return []

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        if self._state == "entering":
            if report.status == "filled":
                self._state = "holding"
                self._entered_at = max((f.filled_at for f in report.fills), default=now)
            elif report.status in ("failed", "unwound"):
                self._state = "done"
                self._legs = ()
        elif self._state == "closing" and report.status == "closed":
            self._state = "done"
            self._legs = ()
        return []

    def state_name(self) -> str:
        return self._state

    def export_state(self) -> JsonDict:
        return {
            "state": self._state,
            "day": None if self._day is None else self._day.isoformat(),
            "legs": [leg_to_json(leg) for leg in self._legs],
            "entered_at": None if self._entered_at is None else self._entered_at.isoformat(),
        }

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        if saved:
            self._state = str(saved.get("state", "waiting"))
            day = saved.get("day")
            self._day = date.fromisoformat(day) if day else None
            self._legs = tuple(leg_from_json(raw) for raw in saved.get("legs", []))
            entered = saved.get("entered_at")
            self._entered_at = datetime.fromisoformat(entered) if entered else None
        held = {p.uic for p in positions if p.amount != 0}
        if self._state == "holding" and not held & {leg.uic for leg in self._legs}:
            self._state = "done"  # closed while we were away
            self._legs = ()
        if self._state in ("waiting", "done") and held:
            self._state = "done"  # leftovers we did not open: the runtime protects them
        return []

    def in_position(self) -> bool:
        return self._state in ("entering", "holding", "closing")

    # --- helpers -----------------------------------------------------------------------------
    def _maybe_enter(self, snapshot: Snapshot, today: date) -> Sequence[Action]:
        session = snapshot.calendar.session
        if session is None or not session.open <= snapshot.now < session.close:
            return []
        if not snapshot.breaker_allows_entries or snapshot.positions:
            return []
        legs = self._fly(snapshot, today)
        if legs is None:
            return []
        self._state, self._day, self._legs = "entering", today, legs
        return [
            OpenPosition(
                intent_id=f"probe-{today.isoformat()}",
                legs=legs,
                reason="probe entry",
                order_style=self.settings.order_style,
                max_attempts=self.settings.max_attempts,
            )
        ]

    def _fly(self, snapshot: Snapshot, today: date) -> tuple[LegSpec, ...] | None:
        s = self.settings
        spot_quote = snapshot.quotes.get(s.spot_uic)
        contracts = snapshot.chains.get((s.root, today), ())
        spot = spot_quote.price if spot_quote is not None else None
        if spot is None or not contracts:
            return None
        strikes = sorted({c.strike for c in contracts})
        atm_index = min(range(len(strikes)), key=lambda i: abs(strikes[i] - spot))
        if atm_index - s.wing_strikes < 0 or atm_index + s.wing_strikes >= len(strikes):
            return None
        atm = strikes[atm_index]
        by_key = {(c.strike, c.put_call): c for c in contracts}

        def leg(name: str, strike: Any, put_call: PutCall, side: Side) -> LegSpec | None:
            contract: OptionContract | None = by_key.get((strike, put_call))
            if contract is None or contract.uic not in snapshot.quotes:
                return None
            return LegSpec(
                leg=name,
                uic=contract.uic,
                asset_type=contract.asset_type,
                side=side,
                quantity=s.quantity,
                root=s.root,
                strike=strike,
                put_call=put_call,
                expiry=today,
            )

        legs = (
            leg("long_call", strikes[atm_index + s.wing_strikes], PutCall.CALL, Side.BUY),
            leg("long_put", strikes[atm_index - s.wing_strikes], PutCall.PUT, Side.BUY),
            leg("short_call", atm, PutCall.CALL, Side.SELL),
            leg("short_put", atm, PutCall.PUT, Side.SELL),
        )
        if any(x is None for x in legs):
            return None
        return tuple(x for x in legs if x is not None)

    def _close(self, reason: str) -> ClosePosition:
        self._state = "closing"
        closing = tuple(replace(leg, side=leg.side.opposite) for leg in reversed(self._legs))
        day = self._day.isoformat() if self._day else "unknown"
        return ClosePosition(intent_id=f"probe-{day}-close", legs=closing, exit_reason=reason)
