"""The worksheets of each bot's spreadsheet: titles, columns (field -> header) and write mode.

Columns follow the research notes (strategies.md section 4.1) with two deliberate changes:
no EUR or exchange-rate columns (CALYPSO has no trusted FX source; every amount is USD from
fills), and a last, hidden `Row Key` column that holds each row's idempotency or upsert key so
delivery can be checked after an unknown outcome. Times in cells are America/New_York.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared import paths

ROW_KEY_FIELD = "row_key"
ROW_KEY_TITLE = "Row Key"
# Grid rows given to a worksheet that is written in place (upserts, the positions table).
IN_PLACE_GRID_ROWS = 200


class WriteMode(StrEnum):
    """How rows reach a worksheet."""

    APPEND = "append"  # one new row per outbox row; duplicates prevented by the row key
    UPSERT = "upsert"  # one row per key (date, bot), updated in place
    REPLACE = "replace"  # the whole table is the latest snapshot (positions)


@dataclass(frozen=True)
class Column:
    """One column: the payload field it shows and its header text."""

    field: str
    title: str


@dataclass(frozen=True)
class WorksheetSpec:
    """A worksheet: its title, data columns (the hidden row-key column is added last)."""

    title: str
    mode: WriteMode
    data_columns: tuple[Column, ...]

    @property
    def columns(self) -> tuple[Column, ...]:
        return (*self.data_columns, Column(ROW_KEY_FIELD, ROW_KEY_TITLE))

    @property
    def headers(self) -> list[str]:
        return [column.title for column in self.columns]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(column.field for column in self.data_columns)

    @property
    def last_column_letter(self) -> str:
        return column_letter(len(self.columns))

    @property
    def grid_rows(self) -> int:
        return 1 if self.mode is WriteMode.APPEND else IN_PLACE_GRID_ROWS


def column_letter(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (spreadsheet column letters)."""
    if number < 1:
        raise ValueError(f"column numbers start at 1, got {number}")
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(field, title) for field, title in pairs)


TIMESTAMP = ("timestamp", "Timestamp (ET)")
UNDERLYING = ("underlying_price", "Underlying Price")
VIX = ("vix", "VIX")

TRADES = WorksheetSpec(
    "Trades",
    WriteMode.APPEND,
    _cols(
        TIMESTAMP,
        ("action", "Action"),
        ("structure", "Type"),
        ("strike", "Strike"),
        ("expiry", "Expiry"),
        ("days_to_expiry", "Days to Expiry"),
        UNDERLYING,
        VIX,
        ("premium_usd", "Premium ($)"),
        ("pnl_usd", "P&L ($)"),
        ("commissions_usd", "Commissions ($)"),
        ("trade_id", "Trade ID"),
        ("notes", "Notes"),
    ),
)

SAFETY_EVENTS = WorksheetSpec(
    "Safety Events",
    WriteMode.APPEND,
    _cols(
        TIMESTAMP,
        ("event", "Event"),
        UNDERLYING,
        VIX,
        ("position_details", "Position Details"),
        ("description", "Description"),
        ("result", "Result"),
    ),
)

BOT_LOGS = WorksheetSpec(
    "Bot Logs",
    WriteMode.APPEND,
    _cols(
        TIMESTAMP,
        ("level", "Level"),
        ("component", "Component"),
        ("message", "Message"),
        UNDERLYING,
        VIX,
    ),
)

OPENING_RANGE = WorksheetSpec(
    "Opening Range",
    WriteMode.UPSERT,
    _cols(
        ("date", "Date"),
        ("start_time", "Start Time (ET)"),
        ("end_time", "End Time (ET)"),
        ("opening_price", "Opening Price"),
        ("range_high", "Range High"),
        ("range_low", "Range Low"),
        ("range_width", "Range Width"),
        ("current_price", "Current Price"),
        ("price_in_range", "Price in Range"),
        ("opening_vix", "Opening VIX"),
        ("vix_high", "VIX High"),
        ("current_vix", "Current VIX"),
        ("vix_spike_pct", "VIX Spike %"),
        ("expected_move", "Expected Move"),
        ("entry_decision", "Entry Decision"),
        ("reason", "Reason"),
        ("atm_strike", "ATM Strike"),
        ("wing_width", "Wing Width"),
        ("as_of", "Last Update (ET)"),
    ),
)

CAMPAIGNS = WorksheetSpec(
    "Campaigns",
    WriteMode.APPEND,
    _cols(
        ("campaign_number", "Campaign #"),
        ("start_date", "Start Date"),
        ("end_date", "End Date"),
        ("duration_days", "Duration (Days)"),
        ("long_put_strike", "Long Put Strike"),
        ("long_put_entry", "Long Put Entry"),
        ("long_put_exit", "Long Put Exit"),
        ("total_rolls", "Total Rolls"),
        ("vertical_rolls", "Vertical Rolls"),
        ("horizontal_rolls", "Horizontal Rolls"),
        ("total_premium_usd", "Total Premium Collected ($)"),
        ("long_put_pnl_usd", "Long Put P&L ($)"),
        ("net_pnl_usd", "Net Campaign P&L ($)"),
        ("close_reason", "Close Reason"),
        ("notes", "Notes"),
    ),
)

DASHBOARD = WorksheetSpec(
    "Dashboard",
    WriteMode.UPSERT,
    _cols(
        ("bot", "Bot"),
        ("environment", "Environment"),
        ("state", "State"),
        ("open_position", "Open Position"),
        ("today_pnl_usd", "Today's P&L ($)"),
        ("cumulative_pnl_usd", "Cumulative P&L ($)"),
        ("win_rate_pct", "Win Rate %"),
        ("closed_trades", "Closed Trades"),
        ("last_update", "Last Update (ET)"),
    ),
)

_LAST_UPDATED = ("taken_at", "Last Updated (ET)")
_POSITION_COMMON_HEAD = (("strike", "Strike"), ("expiry", "Expiry"), ("dte", "DTE"))

POSITIONS: dict[str, WorksheetSpec] = {
    "iron_fly_0dte": WorksheetSpec(
        "Positions",
        WriteMode.REPLACE,
        _cols(
            _LAST_UPDATED,
            ("position_type", "Type"),
            *_POSITION_COMMON_HEAD,
            ("entry_price", "Entry Credit"),
            ("current_price", "Current Value"),
            ("pnl_usd", "P&L ($)"),
            ("hold_time_min", "Hold Time (min)"),
            ("distance_to_wing_usd", "Distance to Wing ($)"),
            ("status", "Status"),
        ),
    ),
    "delta_neutral": WorksheetSpec(
        "Positions",
        WriteMode.REPLACE,
        _cols(
            _LAST_UPDATED,
            ("position_type", "Type"),
            *_POSITION_COMMON_HEAD,
            ("entry_price", "Entry Price"),
            ("current_price", "Current Price"),
            ("pnl_usd", "P&L ($)"),
            ("theta_per_day_usd", "Theta/Day ($)"),
            ("weekly_theta_usd", "Weekly Theta ($)"),
            ("status", "Status"),
        ),
    ),
    "rolling_put_diagonal": WorksheetSpec(
        "Positions",
        WriteMode.REPLACE,
        _cols(
            _LAST_UPDATED,
            ("position_type", "Position Type"),
            *_POSITION_COMMON_HEAD,
            ("delta", "Delta"),
            ("entry_price", "Entry Price"),
            ("current_price", "Current Price"),
            ("pnl_usd", "P&L ($)"),
            ("campaign_number", "Campaign #"),
            ("premium_collected_usd", "Premium Collected ($)"),
            ("status", "Status"),
        ),
    ),
}

_DAILY_PNL = (("daily_pnl_usd", "Daily P&L ($)"), ("cumulative_pnl_usd", "Cumulative P&L ($)"))

DAILY_SUMMARY: dict[str, WorksheetSpec] = {
    "iron_fly_0dte": WorksheetSpec(
        "Daily Summary",
        WriteMode.UPSERT,
        _cols(
            ("date", "Date"),
            ("underlying_close", "Underlying Close"),
            VIX,
            ("premium_collected_usd", "Premium Collected ($)"),
            ("trades_today", "Trades Today"),
            ("win_rate_pct", "Win Rate %"),
            *_DAILY_PNL,
            ("total_trades", "Total Trades"),
            ("winning_trades", "Winning Trades"),
            ("notes", "Notes"),
        ),
    ),
    "delta_neutral": WorksheetSpec(
        "Daily Summary",
        WriteMode.UPSERT,
        _cols(
            ("date", "Date"),
            ("underlying_close", "SPY Close"),
            VIX,
            ("net_theta_usd", "Net Theta ($)"),
            ("theta_week_usd", "Est. Theta Earned This Week ($)"),
            ("cumulative_net_theta_usd", "Cumulative Net Theta ($)"),
            *_DAILY_PNL,
            ("rolled_today", "Rolled Today"),
            ("recentered_today", "Recentered Today"),
            ("notes", "Notes"),
        ),
    ),
    "rolling_put_diagonal": WorksheetSpec(
        "Daily Summary",
        WriteMode.UPSERT,
        _cols(
            ("date", "Date"),
            ("underlying_close", "QQQ Close"),
            ("ema_9", "9 EMA"),
            ("macd_histogram", "MACD Histogram"),
            ("cci", "CCI"),
            ("roll_type", "Roll Type"),
            ("short_premium_usd", "Short Premium ($)"),
            ("campaign_number", "Campaign #"),
            *_DAILY_PNL,
            ("long_put_delta", "Long Put Delta"),
            ("entry_conditions_met", "Entry Conditions Met"),
            ("notes", "Notes"),
        ),
    ),
}

_PERF_COMMON = (
    TIMESTAMP,
    ("period", "Period"),
    ("total_pnl_usd", "Total P&L ($)"),
    ("total_pnl_pct", "Total P&L (%)"),
    ("realized_pnl_usd", "Realized P&L ($)"),
    ("unrealized_pnl_usd", "Unrealized P&L ($)"),
)
_PERF_COUNTS = (
    ("win_rate_pct", "Win Rate %"),
    ("max_drawdown_usd", "Max Drawdown ($)"),
    ("max_drawdown_pct", "Max Drawdown (%)"),
    ("trade_count", "Trades"),
    ("winning_trades", "Wins"),
    ("losing_trades", "Losses"),
)

PERFORMANCE: dict[str, WorksheetSpec] = {
    "iron_fly_0dte": WorksheetSpec(
        "Performance Metrics",
        WriteMode.APPEND,
        _cols(
            *_PERF_COMMON,
            ("premium_collected_usd", "Premium Collected ($)"),
            ("cumulative_premium_usd", "Cumulative Premium ($)"),
            *_PERF_COUNTS,
            ("avg_hold_time_min", "Avg Hold Time (min)"),
            ("best_trade_usd", "Best Trade ($)"),
            ("worst_trade_usd", "Worst Trade ($)"),
        ),
    ),
    "delta_neutral": WorksheetSpec(
        "Performance Metrics",
        WriteMode.APPEND,
        _cols(
            *_PERF_COMMON,
            ("net_theta_usd", "Daily Net Theta ($)"),
            ("theta_week_usd", "Est. Theta This Week ($)"),
            ("cumulative_net_theta_usd", "Cumulative Net Theta ($)"),
            ("long_straddle_pnl_usd", "Long Straddle P&L ($)"),
            ("short_strangle_pnl_usd", "Short Strangle P&L ($)"),
            ("premium_collected_usd", "Premium Collected ($)"),
            *_PERF_COUNTS,
        ),
    ),
    "rolling_put_diagonal": WorksheetSpec(
        "Performance Metrics",
        WriteMode.APPEND,
        _cols(
            *_PERF_COMMON,
            ("premium_collected_usd", "Total Premium ($)"),
            ("avg_daily_premium_usd", "Avg Daily Premium ($)"),
            ("campaigns_completed", "Campaigns Completed"),
            ("avg_campaign_pnl_usd", "Avg Campaign P&L ($)"),
            ("best_campaign_usd", "Best Campaign ($)"),
            ("worst_campaign_usd", "Worst Campaign ($)"),
            ("total_rolls", "Total Rolls"),
            ("vertical_rolls", "Vertical Rolls"),
            ("horizontal_rolls", "Horizontal Rolls"),
        ),
    ),
}

ACCOUNT: dict[str, WorksheetSpec] = {
    "iron_fly_0dte": WorksheetSpec(
        "Account Summary",
        WriteMode.APPEND,
        _cols(
            TIMESTAMP,
            UNDERLYING,
            VIX,
            ("credit_received_usd", "Credit Received ($)"),
            ("current_value_usd", "Current Value ($)"),
            ("unrealized_pnl_usd", "Unrealized P&L ($)"),
            ("atm_strike", "ATM Strike"),
            ("lower_wing", "Lower Wing"),
            ("upper_wing", "Upper Wing"),
            ("wing_width_points", "Wing Width"),
            ("distance_to_wing_points", "Distance to Wing"),
            ("hold_time_min", "Hold Time (min)"),
            ("environment", "Environment"),
        ),
    ),
    "delta_neutral": WorksheetSpec(
        "Account Summary",
        WriteMode.APPEND,
        _cols(
            TIMESTAMP,
            ("underlying_price", "SPY"),
            VIX,
            ("long_straddle_value_usd", "Long Straddle Value ($)"),
            ("short_strangle_value_usd", "Short Strangle Value ($)"),
            ("total_delta", "Total Delta"),
            ("short_call_delta", "Short Call Δ"),
            ("short_put_delta", "Short Put Δ"),
            ("net_theta_usd", "Daily Net Theta ($)"),
            ("long_call_strike", "Long Call Strike"),
            ("long_put_strike", "Long Put Strike"),
            ("short_call_strike", "Short Call Strike"),
            ("short_put_strike", "Short Put Strike"),
            ("unrealized_pnl_usd", "Unrealized P&L ($)"),
            ("environment", "Environment"),
        ),
    ),
    "rolling_put_diagonal": WorksheetSpec(
        "Account Summary",
        WriteMode.APPEND,
        _cols(
            TIMESTAMP,
            ("underlying_price", "QQQ"),
            ("ema_9", "9 EMA"),
            ("macd_histogram", "MACD Hist"),
            ("cci", "CCI"),
            ("long_put_strike", "Long Put Strike"),
            ("long_put_expiry", "Long Put Expiry"),
            ("long_put_dte", "Long Put DTE"),
            ("long_put_delta", "Long Put Delta"),
            ("short_put_strike", "Short Put Strike"),
            ("short_put_expiry", "Short Put Expiry"),
            ("short_premium_usd", "Short Premium ($)"),
            ("campaign_number", "Campaign #"),
            ("total_premium_usd", "Total Premium ($)"),
            ("unrealized_pnl_usd", "Unrealized P&L ($)"),
            ("state", "State"),
            ("environment", "Environment"),
        ),
    ),
}


def worksheets_for(bot: str) -> tuple[WorksheetSpec, ...]:
    """Every worksheet of `bot`'s spreadsheet in tab order; ValueError for an unknown bot."""
    if bot not in paths.BOT_NAMES:
        raise ValueError(f"unknown bot {bot!r}; valid bots: {', '.join(paths.BOT_NAMES)}")
    specs = [
        DASHBOARD,
        TRADES,
        POSITIONS[bot],
        DAILY_SUMMARY[bot],
        PERFORMANCE[bot],
        SAFETY_EVENTS,
        BOT_LOGS,
        ACCOUNT[bot],
    ]
    if bot == "iron_fly_0dte":
        specs.append(OPENING_RANGE)
    if bot == "rolling_put_diagonal":
        specs.append(CAMPAIGNS)
    return tuple(specs)


def worksheet_for(bot: str, title: str) -> WorksheetSpec | None:
    """`bot`'s worksheet called `title`, or None when that bot has no such worksheet."""
    for spec in worksheets_for(bot):
        if spec.title == title:
            return spec
    return None
