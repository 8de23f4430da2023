"""The strategy contract: what a strategy sees, what it returns, and how its state persists.

A strategy is pure. Each call gets a `Snapshot` (market data, positions, calendar facts and the
time, all gathered by the runtime) and returns `Action`s; it never does I/O, never sleeps and
never reads the wall clock. The runtime carries actions out through the executor and reports
back with `ExecutionReport`s. The same class therefore runs live, on Saxo SIM, on the local
simulator, in dry-run and in backtests, and a test can drive it through a whole day in
milliseconds.

Per loop iteration the runtime calls `data_request(now)` (what to fetch), builds a `Snapshot`,
and calls `decide(snapshot)`. While a position is open it also calls `decide` on every streamed
tick of a uic in `DataRequest.tick_uics`, so a stop is acted on from the tick that shows it.
All datetimes are timezone-aware UTC; session logic converts to America/New_York.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol

from shared.domain import OptionContract, Position, PutCall, Quote, Side
from shared.market_hours import TradingSession

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class InstrumentRef:
    """An instrument the strategy wants quoted: Saxo UIC plus AssetType."""

    uic: int
    asset_type: str


@dataclass(frozen=True)
class OptionWindow:
    """Listed contracts of `root` expiring on `expiry`, `strikes_each_side` strikes around spot.

    `spot_uic` names the underlying whose price centres the window.
    """

    root: str
    expiry: date
    spot_uic: int
    strikes_each_side: int


@dataclass(frozen=True)
class BarRequest:
    """`count` completed daily bars of `uic`, oldest first."""

    uic: int
    asset_type: str
    count: int


@dataclass(frozen=True)
class DataRequest:
    """What the runtime must fetch before the next `decide` call. `account_margin` asks for
    the account's margin used (`/port/v1/balances`, read at most once a minute)."""

    quotes: tuple[InstrumentRef, ...] = ()
    option_windows: tuple[OptionWindow, ...] = ()
    daily_bars: tuple[BarRequest, ...] = ()
    vix: bool = False
    tick_uics: frozenset[int] = frozenset()
    account_margin: bool = False


@dataclass(frozen=True)
class Bar:
    """One OHLC bar; `time` is the bar's start, UTC."""

    time: datetime
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class CalendarFacts:
    """Today's session and events (New York trading date), from market_hours and event_calendar."""

    day: date
    session: TradingSession | None
    fomc_day: bool
    fomc_decision_day: bool
    economic_release_day: bool
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """Everything a strategy may look at for one decision.

    `quotes` holds the requested instruments and the contracts of the requested option windows,
    by UIC; a missing or unusable quote is absent, never a zero. `vix` is the best VIX level the
    runtime could get (stream, REST, then the fallback feed) or None. `positions` are the
    broker's positions that belong to this bot. `quote_ages_s` gives each quote's age in seconds.
    `margin_used_usd` is the whole account's margin used by current positions (USD, >= 0; Saxo's
    `MarginUsedByCurrentPositions`), when requested; None when not requested or unavailable.
    """

    now: datetime
    calendar: CalendarFacts
    quotes: Mapping[int, Quote]
    quote_ages_s: Mapping[int, float]
    vix: Decimal | None
    positions: tuple[Position, ...]
    chains: Mapping[tuple[str, date], tuple[OptionContract, ...]] = field(default_factory=dict)
    bars: Mapping[int, tuple[Bar, ...]] = field(default_factory=dict)
    breaker_allows_entries: bool = True
    triggered_by_tick: bool = False
    margin_used_usd: Decimal | None = None


@dataclass(frozen=True)
class LegSpec:
    """One order of a multi-leg action. `quantity` in contracts (or shares), always positive."""

    leg: str
    uic: int
    asset_type: str
    side: Side
    quantity: int
    root: str
    strike: Decimal | None = None
    put_call: PutCall | None = None
    expiry: date | None = None


class OrderStyle(StrEnum):
    MARKET = "market"
    LIMIT_LADDER = "limit_ladder"


@dataclass(frozen=True)
class OpenPosition:
    """Build a position leg by leg in the given order (for the fly: longs first).

    `intent_id` is chosen by the strategy and unique per intended trade (e.g. the trade date),
    so a restart can never enter the same trade twice. On failure the executor unwinds the legs
    already filled and reports `failed`; it retries the whole entry up to `max_attempts` times,
    `attempt_spacing_s` apart, by timers (the loop keeps running meanwhile).
    """

    intent_id: str
    legs: tuple[LegSpec, ...]
    reason: str
    order_style: OrderStyle = OrderStyle.MARKET
    max_attempts: int = 1
    attempt_spacing_s: float = 0.0


@dataclass(frozen=True)
class ClosePosition:
    """Close these legs (sides are the closing sides). `exit_reason` is journaled on the trade.

    `urgent` closes use market orders at once; a close is verified leg by leg until the broker
    shows no position, and a stuck close escalates (alert state, retries) rather than stopping.
    """

    intent_id: str
    legs: tuple[LegSpec, ...]
    exit_reason: str
    urgent: bool = True


@dataclass(frozen=True)
class AbortEntry:
    """Stop building the entry `intent_id` (e.g. it outlived the strategy's patience).

    The order in flight is cancelled (an unanswered one is still looked up first: nothing is
    ever abandoned with an unknown outcome), legs already filled are unwound, no further attempt
    starts, and the entry reports `failed` or `unwound`. Ignored when no such entry is worked.
    """

    intent_id: str
    reason: str


@dataclass(frozen=True)
class RecordEvent:
    """Something to journal (and mirror to Sheets): a decision, a skipped day, a safety event.

    `kind` names the record family (`opening_range`, `safety_event`, `decision`, ...);
    `key` makes it idempotent (the same key updates the same row, e.g. one opening-range row a day).
    """

    kind: str
    key: str
    payload: JsonDict


Action = OpenPosition | ClosePosition | AbortEntry | RecordEvent

ExecutionStatus = Literal["in_progress", "filled", "failed", "unwound", "closed", "stuck"]


@dataclass(frozen=True)
class LegFill:
    """A verified fill of one leg: price per share as filled, commission in USD."""

    leg: str
    uic: int
    side: Side
    quantity: int
    price: Decimal
    commission_usd: Decimal
    filled_at: datetime
    multiplier: int = 100
    simulated: bool = False


@dataclass(frozen=True)
class ExecutionReport:
    """Progress or outcome of an `OpenPosition` / `ClosePosition`, by its `intent_id`.

    `filled`: every leg of an entry filled. `closed`: every leg of a close filled and the broker
    shows no position left. `failed`: nothing left open (legs unwound). `unwound`: some legs had
    filled and were closed again. `stuck`: a close could not complete; the executor keeps
    retrying and the bot must stay in a protective state.
    """

    intent_id: str
    status: ExecutionStatus
    fills: tuple[LegFill, ...] = ()
    detail: str = ""
    attempt: int = 1


class Strategy(Protocol):
    """What every bot's strategy class implements. Pure: no I/O, no sleep, no wall clock."""

    bot: str

    def data_request(self, now: datetime) -> DataRequest:
        """The market data the next `decide` needs at `now` (UTC)."""
        ...

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        """The actions to take given `snapshot`; usually none. Must be cheap (runs per tick)."""
        ...

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        """Learn the outcome of an earlier action; may return follow-up actions."""
        ...

    def state_name(self) -> str:
        """The state machine's current state, for logs, status and the journal."""
        ...

    def export_state(self) -> JsonDict:
        """JSON-serialisable state, persisted in the same transaction as each order intent."""
        ...

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        """Rebuild after a restart from the saved state and the broker's positions.

        Returns protective actions if needed (e.g. close malformed leftovers); a strategy with a
        position must be protecting it from the first `decide` after this.
        """
        ...

    def in_position(self) -> bool:
        """True while the bot holds or is building a position (the loop polls faster)."""
        ...
