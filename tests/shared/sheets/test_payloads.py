"""Outbox row models: what they queue, what they refuse, and how values become cells."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.sheets.columns import ROW_KEY_TITLE, worksheets_for
from shared.sheets.payloads import (
    BotLogRow,
    CampaignRow,
    DailySummaryRow,
    OpeningRangeRow,
    PayloadError,
    PositionLeg,
    PositionSnapshotRow,
    TradeRow,
    decode,
    render,
)

AT = datetime(2026, 7, 1, 14, 30, tzinfo=UTC)  # 10:30 New York (EDT)


def test_every_worksheet_ends_with_the_row_key_and_has_unique_headers() -> None:
    for bot in ("iron_fly_0dte", "delta_neutral", "rolling_put_diagonal"):
        for spec in worksheets_for(bot):
            assert spec.headers[-1] == ROW_KEY_TITLE
            assert len(set(spec.headers)) == len(spec.headers), (bot, spec.title)
            assert not any("EUR" in header for header in spec.headers)


def test_outbox_payload_round_trips_exactly() -> None:
    row = TradeRow(timestamp=AT, trade_id=7, action="CLOSE", pnl_usd=Decimal("-12.345"))

    item = row.to_outbox("iron_fly_0dte")

    assert item.kind == "trade"
    assert decode(item.kind, item.payload) == row
    assert item.payload["pnl_usd"] == "-12.345"  # Decimal kept exact as text in the journal


def test_daily_summary_extra_fields_fill_the_bots_own_columns() -> None:
    row = DailySummaryRow(
        date=date(2026, 7, 1), as_of=AT, underlying_close=Decimal("450.12"),
        extra={"net_theta_usd": Decimal("31.5"), "rolled_today": True},
    )

    rendered = render("delta_neutral", row)

    cells = dict(zip(rendered.spec.headers, rendered.rows[0], strict=True))
    assert cells["SPY Close"] == 450.12
    assert cells["Net Theta ($)"] == 31.5
    assert cells["Rolled Today"] is True


def test_an_extra_field_the_bots_worksheet_lacks_is_refused() -> None:
    row = DailySummaryRow(date=date(2026, 7, 1), as_of=AT, extra={"net_theta_usd": 1.0})

    with pytest.raises(PayloadError, match="net_theta_usd"):
        row.to_outbox("iron_fly_0dte")


def test_opening_range_is_refused_for_a_bot_without_that_worksheet() -> None:
    row = OpeningRangeRow(date=date(2026, 7, 1), as_of=AT)

    with pytest.raises(PayloadError, match="no worksheet 'Opening Range'"):
        row.to_outbox("delta_neutral")


def test_campaign_rows_only_exist_for_the_rolling_put_diagonal() -> None:
    row = CampaignRow(campaign_number=3, start_date=date(2026, 6, 1), end_date=date(2026, 6, 29))

    rendered = render("rolling_put_diagonal", row)

    cells = dict(zip(rendered.spec.headers, rendered.rows[0], strict=True))
    assert cells["Duration (Days)"] == 28
    with pytest.raises(PayloadError):
        row.to_outbox("iron_fly_0dte")


def test_log_messages_are_redacted_before_reaching_a_sheet() -> None:
    row = BotLogRow(timestamp=AT, message="refresh failed access_token=abcdef123456 status=401")

    rendered = render("iron_fly_0dte", row)

    assert not any("abcdef123456" in str(cell) for cell in rendered.rows[0])


def test_times_are_shown_in_new_york() -> None:
    row = TradeRow(timestamp=AT, trade_id=1, action="OPEN", expiry=date(2026, 7, 3))

    rendered = render("iron_fly_0dte", row)

    cells = dict(zip(rendered.spec.headers, rendered.rows[0], strict=True))

    assert cells["Timestamp (ET)"] == "2026-07-01 10:30:00"
    assert cells["Days to Expiry"] == 2


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError):
        TradeRow(timestamp=datetime(2026, 7, 1, 10, 30), trade_id=1, action="OPEN")


def test_upsert_keys_are_unique_per_update_but_share_the_row_key() -> None:
    first = OpeningRangeRow(date=date(2026, 7, 1), as_of=AT)
    later = OpeningRangeRow(date=date(2026, 7, 1), as_of=AT.replace(minute=31))

    assert first.row_key() == later.row_key()
    assert first.idempotency_key() != later.idempotency_key()


def test_positions_snapshot_renders_one_row_per_leg() -> None:
    row = PositionSnapshotRow(
        taken_at=AT,
        legs=[
            PositionLeg(position_type="LP", strike=Decimal("440"), extra={"delta": -0.31}),
            PositionLeg(position_type="SP", strike=Decimal("445")),
        ],
    )

    rendered = render("rolling_put_diagonal", row)

    assert len(rendered.rows) == 2
    assert dict(zip(rendered.spec.headers, rendered.rows[0], strict=True))["Delta"] == -0.31


def test_decode_names_the_bad_field() -> None:
    with pytest.raises(PayloadError, match="trade_id"):
        decode("trade", {"timestamp": AT.isoformat(), "action": "OPEN"})


def test_an_instant_gets_one_outbox_key_whatever_its_time_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from shared.sheets.payloads import SheetRow

    class _Row(SheetRow):
        KIND = "test"
        WORKSHEET = "Test"
        MODE = "append"  # type: ignore[assignment]
        value: int = 1

        def row_key(self) -> str:
            return "r"

    utc = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    new_york = utc.astimezone(ZoneInfo("America/New_York"))
    assert _Row()._version_key("r", utc) == _Row()._version_key("r", new_york)
