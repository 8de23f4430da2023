"""Operator-facing lines and systemd notifications: heartbeat, health line, READY/STATUS/WATCHDOG.

WATCHDOG=1 is sent only after a healthy loop iteration (or a completed sleep chunk), never from
a timer thread, and at most once per `min_interval_real_s` real seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from shared import systemd_notify
from shared.broker import Broker, BrokerError
from shared.clock import WallClock
from shared.domain import Position, Quote
from shared.logger_service import kv

logger = logging.getLogger(__name__)


class Notifier:
    """sd_notify with errors logged, never raised (a missing socket must not stop trading)."""

    def __init__(self, min_interval_real_s: float | None = None) -> None:
        interval = systemd_notify.watchdog_interval()
        self._interval = min_interval_real_s if min_interval_real_s is not None else (
            min(interval, 1.0) if interval is not None else 1.0
        )  # fmt: skip
        self._real = WallClock()
        self._last_ping = float("-inf")

    def _send(self, state: str) -> None:
        try:
            systemd_notify.sd_notify(state)
        except (OSError, ValueError) as exc:
            logger.warning(kv("sd_notify_failed", state=state.split("=")[0], error=exc))

    def ready(self) -> None:
        self._send("READY=1")

    def status(self, text: str) -> None:
        self._send("STATUS=" + " ".join(text.split()))

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def watchdog(self) -> None:
        now = self._real.monotonic()
        if now - self._last_ping >= self._interval:
            self._last_ping = now
            self._send("WATCHDOG=1")


def net_delta(positions: Sequence[Position], quotes: dict[int, Quote]) -> Decimal | None:
    """Sum of delta x amount x 100 over option positions with greeks; None when unknown."""
    total = Decimal(0)
    known = False
    for position in positions:
        quote = quotes.get(position.uic)
        if quote is None or quote.greeks is None or quote.greeks.delta is None:
            continue
        known = True
        total += Decimal(str(quote.greeks.delta)) * position.amount * 100
    return total.quantize(Decimal("0.01")) if known else None


def health_line(
    bot: str, broker: Broker, state: str, positions: Sequence[Position], quotes: dict[int, Quote]
) -> str:
    """Log the 5-minute health line (equity, margin, positions, net delta); returns STATUS text."""
    equity: Decimal | None = None
    margin: Decimal | None = None
    try:
        balance = broker.balance()
        equity, margin = balance.total_value, balance.margin_used
    except BrokerError as exc:
        logger.warning(kv("health_balance_unavailable", error=exc))
    delta = net_delta(positions, quotes)
    logger.info(
        kv(
            "health",
            bot=bot,
            state=state,
            equity_usd=equity,
            margin_used_usd=margin,
            positions=len(positions),
            net_delta=delta,
        )
    )
    return f"{state}; positions={len(positions)}; equity={equity}"
