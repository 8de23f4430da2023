"""The demo summary of a bot stopped while holding: its open trades are shown as held, with
their fills and the net cash from them (no quotes, no P&L until closed)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from shared.demo.summary import BotSummary, DemoSummary, TradeSummary, render
from shared.journal import Fill, FillSide, OpenClose, TradeRecord

AT = datetime(2026, 3, 19, 13, 38, tzinfo=UTC)  # 09:38 ET


def _fill(fill_id: int, leg: str, side: FillSide, price: str) -> Fill:
    return Fill(
        fill_id=fill_id, trade_id=1, leg=leg, uic=100 + fill_id, side=side,
        open_close=OpenClose.OPEN, price=Decimal(price), quantity=1, multiplier=100,
        commission_usd=Decimal("0.65"), filled_at=AT, simulated=True, order_id=None,
        execution_id=None,
    )  # fmt: skip


def test_a_held_trade_shows_its_legs_fills_and_net_cash_from_fills(tmp_path: Path) -> None:
    straddle = TradeRecord(
        trade_id=1, bot="delta_neutral", label="straddle", quantity=1, opened_at=AT,
        closed_at=None, exit_reason=None,
        fills=(_fill(1, "long_call", FillSide.BUY, "27.26"),
               _fill(2, "long_put", FillSide.BUY, "21.41")),
    )  # fmt: skip
    trade = TradeSummary.of(straddle)
    bot = BotSummary(
        bot="delta_neutral", exit_code=0, stop_seconds=1.2, died=False,
        journal=tmp_path / "j", log=tmp_path / "l", console_log=tmp_path / "c", trades=(trade,),
    )  # fmt: skip
    summary = DemoSummary(
        seed=20, days=1, speed=40.0, sim_start=AT, sim_end=AT, ended_because="done",
        interrupted=False, bots=(bot,), home=tmp_path,
    )  # fmt: skip
    console = Console(file=io.StringIO(), width=160)

    render(summary, console)

    # Paid 27.26 + 21.41 points x 100, plus two commissions of 0.65.
    assert trade.net_cash_usd == Decimal("-4868.30")
    assert trade.held and trade.pnl_usd is None
    assert trade.held_legs == {"long_call": 1, "long_put": 1}
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "trade 1 held (long_call +1, long_put +1): net cash from fills $-4,868.30" in text
    assert "buy 1 long_call (open) @ 27.26 x100, commission $0.65" in text
    assert "(0 closed, 1 held)" in text
    row = bot.to_json()
    assert row["held_trades"] == 1 and row["realized_pnl_usd"] == 0.0
    (shown,) = row["trades"]
    assert shown["held"] and shown["net_cash_usd"] == -4868.30 and shown["pnl_usd"] is None
    assert [f["price"] for f in shown["fills"]] == [27.26, 21.41]
