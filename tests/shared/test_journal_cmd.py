"""`calypso journal BOT`: JSON, table and CSV output from a real journal file under CALYPSO_HOME."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from shared.cli.main import main
from shared.clock import ManualClock
from shared.journal import Journal

BOT = "iron_fly_0dte"
MONDAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 New York
TUESDAY = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def _fill(journal: Journal, trade_id: int, **values: object) -> None:
    base: dict[str, object] = {
        "trade_id": trade_id,
        "leg": "short_call",
        "uic": 1001,
        "open_close": "open",
        "quantity": 2,
        "multiplier": 100,
        "commission_usd": Decimal("1.305"),
        "simulated": False,
    }
    base.update(values)
    journal.record_fill(**base)  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CALYPSO_HOME with a journal: a closed winning trade on Monday, an open one on Tuesday."""
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    with Journal.open(tmp_path / "data" / f"{BOT}.sqlite", clock=ManualClock(MONDAY)) as journal:
        closed = journal.open_trade(bot=BOT, quantity=2, label="fly 5800", opened_at=MONDAY)
        _fill(journal, closed, side="sell", price=Decimal("2.35"), filled_at=MONDAY, order_id="o1")
        _fill(
            journal,
            closed,
            side="buy",
            open_close="close",
            price=Decimal("1.10"),
            filled_at=MONDAY + timedelta(minutes=18),
            order_id="o2",
        )
        journal.close_trade(closed, "profit_target", MONDAY + timedelta(minutes=18))
        still_open = journal.open_trade(bot=BOT, quantity=1, opened_at=TUESDAY)
        _fill(
            journal,
            still_open,
            side="sell",
            price=Decimal("3"),
            quantity=1,
            filled_at=TUESDAY,
            simulated=True,
        )
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["journal", BOT, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_json_lists_trades_with_fills_and_derived_pnl(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(capsys)
    first, second = document["trades"]  # type: ignore[misc]
    # (2.35 - 1.10) x 100 x 2 = 250.00, minus 2 x 1.305 = 2.61 commissions -> 247.39.
    assert first["pnl_usd"] == 247.39
    assert first["commissions_usd"] == 2.61
    assert first["opened_at"] == "2026-03-02T15:00:00+00:00"
    assert first["closed_at"] == "2026-03-02T15:18:00+00:00"
    assert (first["exit_reason"], first["quantity"]) == ("profit_target", 2)
    sell = first["fills"][0]
    assert sell == {
        "leg": "short_call",
        "uic": 1001,
        "side": "sell",
        "open_close": "open",
        "price": 2.35,
        "quantity": 2,
        "multiplier": 100,
        "commission_usd": 1.3,  # 1.305 rounds half-even to cents in output only
        "filled_at": "2026-03-02T15:00:00+00:00",
        "simulated": False,
        "order_id": "o1",
    }
    assert second["closed_at"] is None and second["pnl_usd"] is None
    assert second["fills"][0]["simulated"] is True
    assert document["totals"]["realized_pnl_usd"] == 247.39  # type: ignore[index]


def test_from_filters_by_new_york_open_date(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(capsys, "--from", "2026-03-03")
    assert [t["opened_at"] for t in document["trades"]] == ["2026-03-03T15:00:00+00:00"]  # type: ignore[attr-defined]


def test_table_output_shows_trades_and_totals(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", BOT]) == 0
    out = capsys.readouterr().out
    assert "profit_target" in out and "247.39" in out
    assert "2026-03-02 10:00" in out  # New York time
    assert "2 trades (1 closed, 1 open" in out


def test_csv_writes_trades_and_fills(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "export"
    assert main(["journal", BOT, "--csv", str(out_dir)]) == 0
    with (out_dir / "trades.csv").open() as handle:
        trades = list(csv.DictReader(handle))
    with (out_dir / "fills.csv").open() as handle:
        fills = list(csv.DictReader(handle))
    assert [t["pnl_usd"] for t in trades] == ["247.39", ""]
    assert len(fills) == 3 and fills[1]["side"] == "buy" and fills[1]["price"] == "1.10"


def test_missing_journal_exits_2_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert main(["journal", "delta_neutral"]) == 2
    assert "no journal for delta_neutral" in capsys.readouterr().err


def test_unknown_bot_exits_2_naming_the_valid_ones(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "iron_condor"]) == 2
    err = capsys.readouterr().err
    assert "unknown bot 'iron_condor'" in err and "iron_fly_0dte, delta_neutral" in err


def test_a_bad_date_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["journal", BOT, "--from", "03/02/2026"])
    assert caught.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_the_journal_is_opened_read_only(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = home / "data" / f"{BOT}.sqlite"
    before = path.stat().st_mtime_ns
    _json(capsys)
    assert path.stat().st_mtime_ns == before


def test_trades_labelled_with_a_campaign_are_summed_per_campaign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    bot = "rolling_put_diagonal"
    with Journal.open(tmp_path / "data" / f"{bot}.sqlite", clock=ManualClock(MONDAY)) as journal:
        legs = [("entry", "buy", "2.00", "sell", "1.50"), ("sell_short", "sell", "3.00", "buy",
                "1.00"), ("roll_short", "sell", "2.50", None, None)]  # fmt: skip
        for n, (purpose, side, price, close_side, close_price) in enumerate(legs, 1):
            trade = journal.open_trade(bot=bot, quantity=1, opened_at=MONDAY,
                                       label=f"{bot}:{purpose}:2026-03-02:{n}-100000:c1")
            _fill(journal, trade, side=side, price=Decimal(price), quantity=1, uic=n,
                  commission_usd=Decimal("0.65"), filled_at=MONDAY, order_id=f"o{n}")
            if close_side is not None:
                _fill(journal, trade, side=close_side, price=Decimal(close_price), quantity=1,
                      uic=n, open_close="close", commission_usd=Decimal("0.65"),
                      filled_at=TUESDAY, order_id=f"c{n}")
                journal.close_trade(trade, "closed", TUESDAY)
        other = journal.open_trade(bot=bot, quantity=1, opened_at=MONDAY, label="manual")
        _fill(journal, other, side="buy", price=Decimal(1), quantity=1, uic=9, filled_at=MONDAY)
    assert main(["journal", bot, "--json"]) == 0
    (campaign,) = json.loads(capsys.readouterr().out)["campaigns"]
    # Open while its last short is held; the cash so far: -200 + 150 + 300 - 100 + 250, less
    # five commissions of 0.65.
    assert campaign["trade_ids"] == [1, 2, 3] and campaign["closed"] is False
    assert campaign["pnl_usd"] is None and campaign["net_cash_usd"] == 396.75
