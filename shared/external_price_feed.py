"""VIX from Yahoo Finance (`^VIX` via yfinance): the last fallback when Saxo has no VIX.

Behind the `PriceFallback` protocol; answers are cached for 60 s (failures too, so an outage is
not hammered). Offline failure modes (libraries.md A13) all become None with a warning:
`history()` raising, `download()` returning an empty frame, NaN closes, and a last bar older
than `max_bar_age`. yfinance is imported lazily and never by unit tests (they inject a fake).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Protocol

from shared.clock import Clock
from shared.logger_service import kv

logger = logging.getLogger(__name__)

VIX_SYMBOL: Final = "^VIX"
CACHE_TTL_S: Final = 60.0
REQUEST_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class ExternalPrice:
    """A price from outside Saxo. `as_of` is the bar's time (UTC); `source` names the feed."""

    symbol: str
    value: Decimal
    as_of: datetime
    source: str


class PriceFallback(Protocol):
    """Where a bot gets VIX when Saxo has none."""

    def vix(self) -> ExternalPrice | None:
        """The latest VIX level, or None when the feed has nothing usable."""
        ...


class YahooVixFeed:
    """VIX from yfinance: `Ticker.history()` first, `download()` second."""

    def __init__(
        self,
        *,
        clock: Clock,
        yf: Any | None = None,
        cache_ttl_s: float = CACHE_TTL_S,
        max_bar_age: timedelta = timedelta(minutes=30),
    ) -> None:
        self._clock = clock
        self._yf = yf
        self._cache_ttl_s = cache_ttl_s
        self._max_bar_age = max_bar_age
        self._lock = threading.Lock()
        self._cached: tuple[float, ExternalPrice | None] | None = None

    def vix(self) -> ExternalPrice | None:
        with self._lock:
            now = self._clock.monotonic()
            if self._cached is not None and now - self._cached[0] < self._cache_ttl_s:
                return self._cached[1]
            price = self._fetch()
            self._cached = (now, price)
            return price

    def _module(self) -> Any:
        if self._yf is None:
            import yfinance

            self._yf = yfinance
        return self._yf

    def _fetch(self) -> ExternalPrice | None:
        try:
            yf = self._module()
        except ImportError:
            logger.error(kv("vix_fallback_unavailable", reason="yfinance_not_installed"))
            return None
        frame: Any = None
        try:
            frame = yf.Ticker(VIX_SYMBOL).history(
                period="1d", interval="1m", timeout=REQUEST_TIMEOUT_S
            )
        except Exception as exc:
            logger.warning(kv("vix_fallback_history_failed", error=type(exc).__name__))
        price = self._last_close(frame, "history")
        if price is not None:
            return price
        try:
            frame = yf.download(
                VIX_SYMBOL,
                period="1d",
                interval="1m",
                progress=False,
                timeout=REQUEST_TIMEOUT_S,
            )
        except Exception as exc:
            logger.warning(kv("vix_fallback_download_failed", error=type(exc).__name__))
            return None
        return self._last_close(frame, "download")

    def _last_close(self, frame: Any, how: str) -> ExternalPrice | None:
        if frame is None or getattr(frame, "empty", True):
            logger.warning(kv("vix_fallback_empty", how=how))
            return None
        try:
            closes = frame["Close"]
            if getattr(closes, "ndim", 1) > 1:  # download() may give (field, ticker) columns
                closes = closes.iloc[:, 0]
            closes = closes.dropna()
        except (KeyError, IndexError, AttributeError, TypeError):
            logger.warning(kv("vix_fallback_no_close_column", how=how))
            return None
        if len(closes) == 0:
            logger.warning(kv("vix_fallback_all_nan", how=how))
            return None
        value = float(closes.iloc[-1])
        stamp = closes.index[-1]
        if not math.isfinite(value) or value <= 0:
            logger.warning(kv("vix_fallback_bad_value", how=how))
            return None
        as_of = _utc(stamp)
        if as_of is None:
            logger.warning(kv("vix_fallback_bar_time_unknown", how=how))
            return None
        age = self._clock.now() - as_of
        if age > self._max_bar_age:
            logger.warning(kv("vix_fallback_stale", how=how, bar=as_of.isoformat(),
                              age_s=round(age.total_seconds())))  # fmt: skip
            return None
        logger.info(kv("vix_fallback", value=round(value, 2), as_of=as_of.isoformat(), how=how))
        return ExternalPrice(VIX_SYMBOL, Decimal(repr(value)), as_of, f"yahoo:{how}")


def vix_fallback_for(strategy_section: object, *, clock: Clock) -> PriceFallback | None:
    """The Yahoo VIX fallback when the strategy config turns it on (`vix_fallback_yahoo`),
    else None (a strategy config without that key has no fallback)."""
    if getattr(strategy_section, "vix_fallback_yahoo", False) is True:
        logger.info(kv("vix_fallback_enabled", source="yahoo", symbol=VIX_SYMBOL))
        return YahooVixFeed(clock=clock)
    return None


def _utc(stamp: Any) -> datetime | None:
    """A bar index value (pandas Timestamp or datetime) as aware UTC; None if naive/unknown."""
    to_pydatetime = getattr(stamp, "to_pydatetime", None)
    moment = to_pydatetime() if callable(to_pydatetime) else stamp
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)
