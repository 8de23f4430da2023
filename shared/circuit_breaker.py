"""The one circuit breaker every bot uses: too many failures stop NEW entries for a while.

Trips (opens) on `consecutive_failures` failures in a row, or on `failures_in_window` failures
among the last `window` outcomes. While open, no new entries for `cooldown_seconds`; then
half-open: entries are allowed and the next outcome decides (success closes, failure trips
again). The `trips_before_halt`-th trip of one New York trading day halts entries until the New
York date rolls over. Time comes from the injected Clock (UTC); days are America/New_York.

The breaker has no say over protective actions: closes, stop-losses and unwinds never ask it,
and it offers no method for them to call. It only answers `allows_new_entries()`.

State survives restarts through a `BreakerStateStore` (the Journal implements it), saved after
every change; an unreadable saved state starts the breaker open (fail safe), never closed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.logger_service import kv, redact

logger = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
_STATE_VERSION = 1
_MAX_REASON_CHARS = 300
T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    HALTED = "halted"


class BreakerStateStore(Protocol):
    """Where a breaker keeps its state between restarts (plain-JSON dicts, one per bot)."""

    def save_breaker_state(self, bot: str, state: Mapping[str, Any]) -> None: ...

    def load_breaker_state(self, bot: str) -> dict[str, Any] | None: ...


class MemoryBreakerStore:
    """A BreakerStateStore in a dict, for backtests and tests that need no journal."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Any]] = {}

    def save_breaker_state(self, bot: str, state: Mapping[str, Any]) -> None:
        self.saved[bot] = dict(state)

    def load_breaker_state(self, bot: str) -> dict[str, Any] | None:
        found = self.saved.get(bot)
        return None if found is None else dict(found)


@dataclass(frozen=True)
class BreakerSettings:
    """Thresholds, from the bot config's `circuit_breaker` section (plain values)."""

    consecutive_failures: int = 5
    window: int = 10
    failures_in_window: int = 5
    cooldown_seconds: float = 300.0
    trips_before_halt: int = 3

    def __post_init__(self) -> None:
        for name in ("consecutive_failures", "window", "failures_in_window", "trips_before_halt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"circuit_breaker.{name} must be an integer >= 1, got {value!r}")
        if self.failures_in_window > self.window:
            raise ValueError(
                f"circuit_breaker.failures_in_window ({self.failures_in_window}) cannot exceed "
                f"circuit_breaker.window ({self.window})"
            )
        cooldown = self.cooldown_seconds
        if not isinstance(cooldown, int | float) or not math.isfinite(cooldown) or cooldown < 0:
            raise ValueError(
                f"circuit_breaker.cooldown_seconds must be >= 0, got {self.cooldown_seconds!r}"
            )


@dataclass(frozen=True)
class BreakerStatus:
    """A snapshot for status displays; times UTC, `halted_until` a New York date."""

    state: BreakerState
    allows_new_entries: bool
    consecutive_failures: int
    failures_in_window: int
    outcomes_in_window: int
    trips_today: int
    reopens_at: datetime | None
    halted_until: date | None
    last_reason: str | None


def _optional(value: Any, parse: Callable[[str], T]) -> T | None:
    return None if value is None else parse(value)


def _new_york_date(moment: datetime) -> date:
    return moment.astimezone(NEW_YORK).date()


class CircuitBreaker:
    """Per-bot breaker over entry attempts; thread-safe; persists after every change."""

    def __init__(
        self,
        bot: str,
        settings: BreakerSettings,
        *,
        clock: Clock,
        store: BreakerStateStore,
    ) -> None:
        self._bot = bot
        self._settings = settings
        self._clock = clock
        self._store = store
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._outcomes: list[bool] = []  # True = failure, oldest first, at most `window`
        self._consecutive = 0
        self._opened_at: datetime | None = None
        self._trips_today = 0
        self._trip_day: date | None = None
        self._halted_day: date | None = None
        self._last_reason: str | None = None
        # Told (state value, reason) after a trip, a halt or a reset (the runtime alerts).
        self.on_change: Callable[[str, str], None] | None = None
        self._restore()

    # ---- public API -------------------------------------------------------------------------

    def allows_new_entries(self) -> bool:
        """True when a new position may be opened now (closed or half-open)."""
        with self._lock:
            self._refresh()
            return self._state in (BreakerState.CLOSED, BreakerState.HALF_OPEN)

    def record_success(self) -> None:
        """Count a successful operation; in half-open it closes the breaker."""
        with self._lock:
            self._refresh()
            if self._state is BreakerState.HALF_OPEN:
                self._close("probe succeeded")
            elif self._state is BreakerState.CLOSED:
                self._push(failed=False)
                self._consecutive = 0
            self._save()

    def record_failure(self, reason: str) -> None:
        """Count a failed operation (`reason` is logged, redacted); may trip or halt.

        Outcomes while open or halted are logged but do not count: nothing new is entered then,
        and the half-open probe decides afterwards.
        """
        reason = redact(reason)[:_MAX_REASON_CHARS]
        with self._lock:
            self._refresh()
            self._last_reason = reason
            if self._state is BreakerState.HALF_OPEN:
                self._trip(f"half-open probe failed: {reason}")
            elif self._state is BreakerState.CLOSED:
                self._push(failed=True)
                self._consecutive += 1
                failures = sum(self._outcomes)
                if self._consecutive >= self._settings.consecutive_failures:
                    self._trip(f"{self._consecutive} consecutive failures, last: {reason}")
                elif failures >= self._settings.failures_in_window:
                    self._trip(
                        f"{failures} failures in the last {len(self._outcomes)} outcomes, "
                        f"last: {reason}"
                    )
            else:
                logger.info(kv("circuit_breaker_failure_ignored", bot=self._bot, state=self._state))
            self._save()

    def status(self) -> BreakerStatus:
        with self._lock:
            self._refresh()
            reopens_at = None
            if self._state is BreakerState.OPEN and self._opened_at is not None:
                reopens_at = self._opened_at + self._cooldown
            halted_until = None
            if self._state is BreakerState.HALTED and self._halted_day is not None:
                halted_until = self._halted_day + timedelta(days=1)
            return BreakerStatus(
                state=self._state,
                allows_new_entries=self._state in (BreakerState.CLOSED, BreakerState.HALF_OPEN),
                consecutive_failures=self._consecutive,
                failures_in_window=sum(self._outcomes),
                outcomes_in_window=len(self._outcomes),
                trips_today=self._trips_today,
                reopens_at=reopens_at,
                halted_until=halted_until,
                last_reason=self._last_reason,
            )

    # ---- transitions ------------------------------------------------------------------------

    @property
    def _cooldown(self) -> timedelta:
        return timedelta(seconds=self._settings.cooldown_seconds)

    def _push(self, *, failed: bool) -> None:
        self._outcomes.append(failed)
        del self._outcomes[: -self._settings.window]

    def _refresh(self) -> None:
        """Apply what time alone changes: a new New York day, the end of a cooldown."""
        now = self._clock.now()
        today = _new_york_date(now)
        changed = False
        if self._trip_day is not None and self._trip_day != today:
            self._trips_today = 0
            self._trip_day = None
            changed = True
        if (
            self._state is BreakerState.HALTED
            and self._halted_day is not None
            and today > self._halted_day
        ):
            self._close("new trading day")
            changed = True
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and now >= self._opened_at + self._cooldown
        ):
            self._state = BreakerState.HALF_OPEN
            logger.info(kv("circuit_breaker_half_open", bot=self._bot))
            changed = True
        if changed:
            self._save()

    def _trip(self, why: str) -> None:
        now = self._clock.now()
        self._trips_today += 1
        self._trip_day = _new_york_date(now)
        self._outcomes.clear()
        self._consecutive = 0
        if self._trips_today >= self._settings.trips_before_halt:
            self._state = BreakerState.HALTED
            self._halted_day = self._trip_day
            self._opened_at = None
            logger.error(
                kv(
                    "circuit_breaker_halted",
                    bot=self._bot,
                    trips_today=self._trips_today,
                    until_new_york_date=self._halted_day + timedelta(days=1),
                    reason=why,
                )
            )
            self._changed(why)
            return
        self._state = BreakerState.OPEN
        self._opened_at = now
        logger.warning(
            kv(
                "circuit_breaker_open",
                bot=self._bot,
                trips_today=self._trips_today,
                reopens_at=(now + self._cooldown).isoformat(),
                reason=why,
            )
        )
        self._changed(why)

    def _close(self, why: str) -> None:
        self._state = BreakerState.CLOSED
        self._outcomes.clear()
        self._consecutive = 0
        self._opened_at = None
        self._halted_day = None
        logger.info(kv("circuit_breaker_closed", bot=self._bot, reason=why))
        self._changed(why)

    def _changed(self, why: str) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(self._state.value, why)
        except Exception:  # a listener must never break the breaker
            logger.exception(kv("circuit_breaker_listener_failed", bot=self._bot))

    # ---- persistence ------------------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "state": self._state.value,
            "outcomes": list(self._outcomes),
            "consecutive_failures": self._consecutive,
            "opened_at": None if self._opened_at is None else self._opened_at.isoformat(),
            "trips_today": self._trips_today,
            "trip_day": None if self._trip_day is None else self._trip_day.isoformat(),
            "halted_day": None if self._halted_day is None else self._halted_day.isoformat(),
            "last_reason": self._last_reason,
        }

    def _save(self) -> None:
        self._store.save_breaker_state(self._bot, self._snapshot())

    def _restore(self) -> None:
        saved = self._store.load_breaker_state(self._bot)
        if saved is None:
            return
        try:
            self._apply(saved)
        except (KeyError, TypeError, ValueError) as exc:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock.now()
            self._outcomes = []
            self._consecutive = 0
            self._last_reason = "saved breaker state unreadable"
            logger.error(kv("circuit_breaker_state_unreadable", bot=self._bot, error=exc))
            self._save()
            return
        logger.info(kv("circuit_breaker_restored", bot=self._bot, state=self._state))

    def _apply(self, saved: Mapping[str, Any]) -> None:
        if saved.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown breaker state version {saved.get('version')!r}")
        state = BreakerState(saved["state"])
        outcomes = saved["outcomes"]
        if not isinstance(outcomes, list) or not all(isinstance(o, bool) for o in outcomes):
            raise ValueError("outcomes must be a list of booleans")
        opened_at = _optional(saved["opened_at"], datetime.fromisoformat)
        if opened_at is not None and opened_at.tzinfo is None:
            raise ValueError("opened_at must be timezone-aware")
        if state is BreakerState.OPEN and opened_at is None:
            raise ValueError("an open breaker needs opened_at")
        halted_day = _optional(saved["halted_day"], date.fromisoformat)
        if state is BreakerState.HALTED and halted_day is None:
            raise ValueError("a halted breaker needs halted_day")
        trip_day = _optional(saved["trip_day"], date.fromisoformat)
        self._state = state
        self._outcomes = outcomes[-self._settings.window :]
        self._consecutive = int(saved["consecutive_failures"])
        self._opened_at = None if opened_at is None else opened_at.astimezone(UTC)
        self._trips_today = int(saved["trips_today"])
        self._trip_day = trip_day
        self._halted_day = halted_day
        reason = saved.get("last_reason")
        self._last_reason = reason if isinstance(reason, str) else None
