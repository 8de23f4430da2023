"""Protective closes the runtime starts on its own, outside any strategy decision.

- Orphans: contracts the broker holds beyond the journal are adopted as a trade of their own
  (opened at the broker position's open price) and closed at once, so the close never touches
  the bot's own trade on that uic.
- No price: the position is *blind* while any uic the strategy asks quotes for (its legs and
  the underlying its stops watch) has no quote in the snapshot (a position is marked, and its
  stops checked, only when every one of them is priced). Blind for `no_price_close_seconds`
  (runtime clock) in a row: every held leg on those uics is closed in ONE urgent job, shorts
  before longs, so no short is ever left naked by a long sold first.
Every close here is urgent (market) and journaled with a safety event first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal

from shared.broker import Broker
from shared.clock import Clock
from shared.domain import Position, Quote, Side
from shared.execution import Executor, Recorder
from shared.execution.leg_worker import multiplier_of
from shared.execution.recorder import net_by_uic
from shared.strategy_contract import ClosePosition, LegSpec

logger = logging.getLogger(__name__)

ORPHAN_LABEL_PREFIX = "orphan-"  # journal label of an adopted orphan trade


class Protector:
    """Adopts and closes orphans, and closes positions left without a price (loop thread)."""

    def __init__(
        self,
        *,
        broker: Broker,
        recorder: Recorder,
        executor: Executor,
        clock: Clock,
        no_price_close_seconds: float,
    ) -> None:
        self._broker = broker
        self._recorder = recorder
        self._executor = executor
        self._clock = clock
        self._no_price_close_s = no_price_close_seconds
        self._last_price_ok = 0.0
        self._seq = 0

    # --- orphans -------------------------------------------------------------------------
    def adopt_orphan(self, position: Position, excess: int) -> None:
        """Journal `excess` signed contracts of `position` as an orphan trade of its own."""
        self._seq += 1
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%S")
        price = position.open_price if position.open_price is not None else position.current_price
        self._recorder.adopt_orphan(
            label=f"{ORPHAN_LABEL_PREFIX}{position.uic}-{stamp}-{self._seq}",
            uic=position.uic,
            asset_type=position.asset_type,
            excess=excess,
            price=price if price is not None and price >= 0 else Decimal(0),
            multiplier=multiplier_of(position.asset_type),
            simulated=self._broker.simulated,
            at=self._clock.now(),
        )

    def close_adopted_orphans(self, broker_positions: Sequence[Position]) -> None:
        """Protect every adopted orphan trade still open and not being closed (also one
        adopted just before a crash, whose close was never journaled). `broker_positions` is
        the account as the reconciliation just read it. A uic the broker no longer holds is
        left to reconciliation (`missing_at_broker`)."""
        active = self._executor.active_uics()
        orphans = [
            t
            for t in self._recorder.journal.open_trades()
            if t.label.startswith(ORPHAN_LABEL_PREFIX) and net_by_uic(t)
        ]
        if not orphans:
            return
        held_at_broker = {p.uic: p for p in broker_positions if p.amount != 0}
        for trade in orphans:
            held = net_by_uic(trade)
            if set(held) & active:
                continue
            for uic, amount in held.items():
                position = held_at_broker.get(uic)
                if position is None:
                    continue
                self.close(
                    uic,
                    position.asset_type,
                    position.symbol,
                    amount,
                    "orphan_protection",
                    trade_id=trade.trade_id,
                )
                active = self._executor.active_uics()

    # --- no price ------------------------------------------------------------------------
    def price_seen(self) -> None:
        """Restart the no-price timer (at start, and whenever every held uic is priced)."""
        self._last_price_ok = self._clock.monotonic()

    def guard_prices(
        self, held: Sequence[Position], requested: set[int], quotes: Mapping[int, Quote]
    ) -> None:
        """Close the held positions on `requested` uics (one job, shorts first) once the
        position has been blind (any requested uic without a quote) for
        `no_price_close_seconds`; nothing while another close is being worked."""
        watched = [p for p in held if p.uic in requested and p.amount != 0]
        now = self._clock.monotonic()
        unpriced = sorted(uic for uic in requested if uic not in quotes)
        if not watched or not unpriced:
            self._last_price_ok = now
            return
        blind_s = now - self._last_price_ok
        if blind_s < self._no_price_close_s or self._executor.closing:
            return
        self.close_all(watched, "no_price_close",
                       f"no price for uics {unpriced} for {blind_s:.0f} s")  # fmt: skip
        self._last_price_ok = now

    # --- the closes themselves ---------------------------------------------------------
    def close_all(self, positions: Sequence[Position], reason: str, why: str) -> None:
        """Close `positions` at once (market, urgent) as ONE job of the bot's open trade:
        shorts (bought back) before longs (sold), so a short is never left naked."""
        ordered = sorted(positions, key=lambda p: (p.amount > 0, p.uic))
        self._seq += 1
        uics = [p.uic for p in ordered]
        self._recorder.safety_event(reason, f"closing uics {uics}: {why}", {"uics": uics})
        legs = tuple(_closing_leg(p.uic, p.asset_type, p.symbol, int(p.amount)) for p in ordered)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%S")
        intent = f"protect-{stamp}-{self._seq}"
        self._executor.submit(ClosePosition(intent, legs, reason, urgent=True))

    def close(
        self,
        uic: int,
        asset_type: str,
        symbol: str | None,
        excess: int,
        reason: str,
        *,
        trade_id: int | None = None,
    ) -> None:
        """Close `excess` signed contracts of `uic` at once (market, urgent), journaled into
        `trade_id` (None: the bot's open trade holding the uic)."""
        self._seq += 1
        self._recorder.safety_event(
            reason, f"closing {excess} on uic {uic}", {"uic": uic, "trade_id": trade_id}
        )
        leg = _closing_leg(uic, asset_type, symbol, excess)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%S")
        intent = f"protect-{uic}-{stamp}-{self._seq}"
        self._executor.submit(ClosePosition(intent, (leg,), reason, urgent=True), trade_id=trade_id)


def _closing_leg(uic: int, asset_type: str, symbol: str | None, held: int) -> LegSpec:
    """The order that closes `held` signed contracts of `uic` (+ long: sell, - short: buy)."""
    return LegSpec(
        leg=f"protect_{uic}",
        uic=uic,
        asset_type=asset_type,
        side=Side.SELL if held > 0 else Side.BUY,
        quantity=abs(held),
        root=symbol or "",
    )
