"""Outbox row kinds for the Sheets mirror: one pydantic model per kind, `to_outbox()` to queue it.

Producers (runtime, strategies) build a row model and queue it in the same journal as the
trade: `enqueue(journal, row.to_outbox(bot))`. Money is USD (Decimal, from fills), datetimes
are timezone-aware (shown in America/New_York), dates are New York trading dates.
Bot-specific columns go in `extra`, keyed by the column's field name from
`shared.sheets.columns` (an unknown field is refused when the row is queued).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from shared.journal.codec import time_to_text
from shared.sheets.columns import ROW_KEY_FIELD, WorksheetSpec, WriteMode, worksheet_for

NEW_YORK = ZoneInfo("America/New_York")
MAX_POSITION_LEGS = 150

Cell = bool | int | float | str | None


def _plain_number(value: object) -> object:
    # Extras are display values: a Decimal becomes a float so the cell is a number.
    return float(value) if isinstance(value, Decimal) else value


ExtraValue = Annotated[bool | int | float | Decimal | str | None, AfterValidator(_plain_number)]
Extras = dict[str, ExtraValue]


class PayloadError(ValueError):
    """An outbox payload that cannot become a sheet row (bad kind, fields or bot)."""


class OutboxItem(NamedTuple):
    """The three arguments of `Journal.enqueue_outbox`."""

    kind: str
    payload: dict[str, Any]
    idempotency_key: str


class OutboxWriter(Protocol):
    def enqueue_outbox(
        self, kind: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> bool: ...


def enqueue(journal: OutboxWriter, item: OutboxItem) -> bool:
    """Queue `item` in the journal's outbox; False when its key was already queued."""
    return journal.enqueue_outbox(item.kind, item.payload, item.idempotency_key)


class SheetRow(BaseModel):
    """Base of every outbox row kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str]
    WORKSHEET: ClassVar[str]
    MODE: ClassVar[WriteMode]

    def row_key(self) -> str:
        """The key written in the hidden Row Key column (upserts: the row's identity)."""
        raise NotImplementedError

    def idempotency_key(self) -> str:
        """The outbox key: unique per queued row; re-queuing the same fact is a no-op."""
        return self.row_key()

    def _version_key(self, base: str, moment: datetime) -> str:
        """An update's key: `base@<time>#<content digest>`. Two different updates built at the
        same instant get different keys (the sender writes the latest queued); the same update
        queued twice gets the same key (a no-op)."""
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]
        return f"{base}@{time_to_text(moment)}#{digest}"

    def cells(self) -> dict[str, Any]:
        """Field name -> value for the row's columns (common fields, then `extra`)."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        extra = values.pop("extra", None) or {}
        values.update(extra)
        return values

    def to_outbox(self, bot: str) -> OutboxItem:
        """The outbox row for `bot`'s mirror. Raises PayloadError when `bot` has no such
        worksheet or `extra` names a column the worksheet does not have."""
        render(bot, self)
        return OutboxItem(self.KIND, self.model_dump(mode="json"), self.idempotency_key())


def _check_extra(spec: WorksheetSpec, kind: str, model: BaseModel) -> None:
    extra: Mapping[str, object] = getattr(model, "extra", None) or {}
    common = set(type(model).model_fields)
    for name in extra:
        if name in common or name not in spec.fields:
            raise PayloadError(
                f"{kind}: extra field {name!r} is not a column of worksheet {spec.title!r}"
            )


# --- the kinds --------------------------------------------------------------------------


class TradeRow(SheetRow):
    """A trade opened, closed or rolled (Trades). P&L and commissions from fills, USD."""

    KIND: ClassVar[str] = "trade"
    WORKSHEET: ClassVar[str] = "Trades"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    timestamp: AwareDatetime
    trade_id: int
    action: str = Field(min_length=1)
    structure: str = ""
    strike: str = ""
    expiry: date | None = None
    underlying_price: Decimal | None = None
    vix: Decimal | None = None
    premium_usd: Decimal | None = None
    pnl_usd: Decimal | None = None
    commissions_usd: Decimal | None = None
    notes: str = ""

    def row_key(self) -> str:
        return f"trade:{self.trade_id}:{self.action}:{time_to_text(self.timestamp)}"

    def cells(self) -> dict[str, Any]:
        values = super().cells()
        values["days_to_expiry"] = _days_between(self.timestamp, self.expiry)
        return values


class PositionLeg(BaseModel):
    """One open leg as shown in Positions; `dte` is computed from `expiry`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    position_type: str
    strike: Decimal | None = None
    expiry: date | None = None
    entry_price: Decimal | None = None
    current_price: Decimal | None = None
    pnl_usd: Decimal | None = None
    status: str = ""
    extra: Extras = Field(default_factory=dict)


class PositionSnapshotRow(SheetRow):
    """The open legs at `taken_at` (Positions, replaced whole; an empty list clears it)."""

    KIND: ClassVar[str] = "position_snapshot"
    WORKSHEET: ClassVar[str] = "Positions"
    MODE: ClassVar[WriteMode] = WriteMode.REPLACE

    taken_at: AwareDatetime
    legs: list[PositionLeg] = Field(default_factory=list, max_length=MAX_POSITION_LEGS)

    def row_key(self) -> str:
        return "positions"

    def idempotency_key(self) -> str:
        return self._version_key("positions", self.taken_at)

    def leg_cells(self) -> list[dict[str, Any]]:
        rows = []
        for index, leg in enumerate(self.legs):
            values = {name: getattr(leg, name) for name in PositionLeg.model_fields}
            values.update(values.pop("extra"))
            values["taken_at"] = self.taken_at
            values["dte"] = _days_between(self.taken_at, leg.expiry)
            values[ROW_KEY_FIELD] = f"positions:{index + 1}"
            rows.append(values)
        return rows


class DailySummaryRow(SheetRow):
    """End-of-day summary for New York `date` (Daily Summary, one row per date)."""

    KIND: ClassVar[str] = "daily_summary"
    WORKSHEET: ClassVar[str] = "Daily Summary"
    MODE: ClassVar[WriteMode] = WriteMode.UPSERT

    date: date
    as_of: AwareDatetime
    underlying_close: Decimal | None = None
    vix: Decimal | None = None
    daily_pnl_usd: Decimal | None = None
    cumulative_pnl_usd: Decimal | None = None
    notes: str = ""
    extra: Extras = Field(default_factory=dict)

    def row_key(self) -> str:
        return f"daily_summary:{self.date.isoformat()}"

    def idempotency_key(self) -> str:
        return self._version_key(self.row_key(), self.as_of)


class PerformanceMetricsRow(SheetRow):
    """Performance at `timestamp` (Performance Metrics, appended)."""

    KIND: ClassVar[str] = "performance_metrics"
    WORKSHEET: ClassVar[str] = "Performance Metrics"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    timestamp: AwareDatetime
    period: str = "session"
    total_pnl_usd: Decimal | None = None
    total_pnl_pct: Decimal | None = None
    realized_pnl_usd: Decimal | None = None
    unrealized_pnl_usd: Decimal | None = None
    extra: Extras = Field(default_factory=dict)

    def row_key(self) -> str:
        return f"performance:{self.period}:{time_to_text(self.timestamp)}"


class SafetyEventRow(SheetRow):
    """A safety event (Safety Events); `event_id` is the journal's id when there is one."""

    KIND: ClassVar[str] = "safety_event"
    WORKSHEET: ClassVar[str] = "Safety Events"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    timestamp: AwareDatetime
    event: str = Field(min_length=1)
    description: str = ""
    result: str = ""
    position_details: str = ""
    underlying_price: Decimal | None = None
    vix: Decimal | None = None
    event_id: int | None = None

    def row_key(self) -> str:
        if self.event_id is not None:
            return f"safety:{self.event_id}"
        return f"safety:{self.event}:{time_to_text(self.timestamp)}"


class BotLogRow(SheetRow):
    """An operator-relevant log line (Bot Logs). The message is redacted when rendered."""

    KIND: ClassVar[str] = "bot_log"
    WORKSHEET: ClassVar[str] = "Bot Logs"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    timestamp: AwareDatetime
    level: str = "INFO"
    component: str = ""
    message: str = Field(min_length=1)
    underlying_price: Decimal | None = None
    vix: Decimal | None = None

    def row_key(self) -> str:
        digest = hashlib.sha256(
            f"{self.level}|{self.component}|{self.message}".encode()
        ).hexdigest()[:16]
        return f"log:{time_to_text(self.timestamp)}:{digest}"


class AccountSummaryRow(SheetRow):
    """Account and position values at `timestamp` (Account Summary, appended)."""

    KIND: ClassVar[str] = "account_summary"
    WORKSHEET: ClassVar[str] = "Account Summary"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    timestamp: AwareDatetime
    underlying_price: Decimal | None = None
    vix: Decimal | None = None
    unrealized_pnl_usd: Decimal | None = None
    environment: str = ""
    extra: Extras = Field(default_factory=dict)

    def row_key(self) -> str:
        return f"account:{time_to_text(self.timestamp)}"


class OpeningRangeRow(SheetRow):
    """Iron fly opening range of New York `date` (Opening Range, one row per date)."""

    KIND: ClassVar[str] = "opening_range"
    WORKSHEET: ClassVar[str] = "Opening Range"
    MODE: ClassVar[WriteMode] = WriteMode.UPSERT

    date: date
    as_of: AwareDatetime
    start_time: time | None = None
    end_time: time | None = None
    opening_price: Decimal | None = None
    range_high: Decimal | None = None
    range_low: Decimal | None = None
    range_width: Decimal | None = None
    current_price: Decimal | None = None
    price_in_range: bool | None = None
    opening_vix: Decimal | None = None
    vix_high: Decimal | None = None
    current_vix: Decimal | None = None
    vix_spike_pct: Decimal | None = None
    expected_move: Decimal | None = None
    entry_decision: Literal["MONITORING", "ENTER", "SKIP"] = "MONITORING"
    reason: str = ""
    atm_strike: Decimal | None = None
    wing_width: Decimal | None = None

    def row_key(self) -> str:
        return f"opening_range:{self.date.isoformat()}"

    def idempotency_key(self) -> str:
        return self._version_key(self.row_key(), self.as_of)


class CampaignRow(SheetRow):
    """A closed rolling-put-diagonal campaign (Campaigns, appended once per campaign)."""

    KIND: ClassVar[str] = "campaign"
    WORKSHEET: ClassVar[str] = "Campaigns"
    MODE: ClassVar[WriteMode] = WriteMode.APPEND

    campaign_number: int = Field(ge=1)
    start_date: date
    end_date: date
    long_put_strike: Decimal | None = None
    long_put_entry: Decimal | None = None
    long_put_exit: Decimal | None = None
    total_rolls: int = 0
    vertical_rolls: int = 0
    horizontal_rolls: int = 0
    total_premium_usd: Decimal | None = None
    long_put_pnl_usd: Decimal | None = None
    net_pnl_usd: Decimal | None = None
    close_reason: str = ""
    notes: str = ""

    def row_key(self) -> str:
        return f"campaign:{self.campaign_number}"

    def cells(self) -> dict[str, Any]:
        values = super().cells()
        values["duration_days"] = (self.end_date - self.start_date).days
        return values


class DashboardRow(SheetRow):
    """A bot at a glance (Dashboard, one row per bot, updated in place)."""

    KIND: ClassVar[str] = "dashboard"
    WORKSHEET: ClassVar[str] = "Dashboard"
    MODE: ClassVar[WriteMode] = WriteMode.UPSERT

    bot: str = Field(min_length=1)
    environment: str = ""
    state: str = ""
    open_position: str = ""
    today_pnl_usd: Decimal | None = None
    cumulative_pnl_usd: Decimal | None = None
    win_rate_pct: Decimal | None = None
    closed_trades: int | None = None
    last_update: AwareDatetime

    def row_key(self) -> str:
        return f"dashboard:{self.bot}"

    def idempotency_key(self) -> str:
        return self._version_key(self.row_key(), self.last_update)


ROW_MODELS: dict[str, type[SheetRow]] = {
    model.KIND: model
    for model in (
        TradeRow,
        PositionSnapshotRow,
        DailySummaryRow,
        PerformanceMetricsRow,
        SafetyEventRow,
        BotLogRow,
        AccountSummaryRow,
        OpeningRangeRow,
        CampaignRow,
        DashboardRow,
    )
}


# --- decoding and rendering --------------------------------------------------------------


class Rendered(NamedTuple):
    """A row (or, for Positions, the whole table) ready for a worksheet."""

    spec: WorksheetSpec
    row_key: str
    rows: list[list[Cell]]


def decode(kind: str, payload: Mapping[str, Any]) -> SheetRow:
    """The row model of an outbox row. Raises PayloadError naming the kind and bad fields."""
    model = ROW_MODELS.get(kind)
    if model is None:
        raise PayloadError(f"unknown outbox kind {kind!r}; known: {', '.join(ROW_MODELS)}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise PayloadError(f"outbox {kind} payload invalid: {problems}") from None


def render(bot: str, row: SheetRow) -> Rendered:
    """`row` as cell values in `bot`'s worksheet column order (row key last).

    Raises PayloadError when `bot`'s spreadsheet has no such worksheet or an extra is unknown.
    """
    spec = worksheet_for(bot, row.WORKSHEET)
    if spec is None:
        raise PayloadError(f"{row.KIND}: bot {bot} has no worksheet {row.WORKSHEET!r}")
    if isinstance(row, PositionSnapshotRow):
        for leg in row.legs:
            _check_extra(spec, row.KIND, leg)
        rows = [_row_values(spec, values) for values in row.leg_cells()]
        return Rendered(spec, row.row_key(), rows)
    _check_extra(spec, row.KIND, row)
    values = row.cells()
    values[ROW_KEY_FIELD] = row.row_key()
    return Rendered(spec, row.row_key(), [_row_values(spec, values)])


def _row_values(spec: WorksheetSpec, values: Mapping[str, Any]) -> list[Cell]:
    return [to_cell(values.get(column.field)) for column in spec.columns]


def to_cell(value: object) -> Cell:
    """A sheet cell: numbers stay numbers, times become America/New_York text, text is
    redacted (secrets never reach a sheet). None becomes an empty cell."""
    from shared.logger_service import redact

    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return redact(str(value))


def _days_between(moment: datetime, expiry: date | None) -> int | None:
    if expiry is None:
        return None
    return (expiry - moment.astimezone(NEW_YORK).date()).days
