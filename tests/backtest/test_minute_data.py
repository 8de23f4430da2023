"""`--data DIR` with real 1-minute bars: used as they are (no bridge), a stop inside a minute
is seen, gaps are filled and counted, and a bad row names its file and line."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shared.backtest.history import HistoryError, load_csv_history
from shared.backtest.runner import BacktestSpec, config_text, run_backtest, with_overrides
from shared.cli.main import main
from shared.market_hours import NY

BOT = "iron_fly_0dte"
DAY = "2015-01-06"  # a Tuesday without FOMC, CPI, PPI or payrolls
OPEN = datetime(2015, 1, 6, 9, 30, tzinfo=NY)
OVERRIDES = {  # fixed wings; targets out of reach so only the wing or the clock ends the trade
    "manual_wing_width_points": 20,
    "profit_target_usd_per_contract": 4000,
    "max_loss_usd_per_contract": 5000,
}


def _write_data(folder: Path, *, touch_minute: int, skip_minute: int) -> None:
    """A quiet day at 4000 +- 1 whose minute `touch_minute` reaches 4040 (the upper wing of a
    fly centred near 4000); minute `skip_minute` is missing from the file."""
    folder.mkdir()
    with (folder / "SPX.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["datetime", "open", "high", "low", "close"])
        out.writerow([(OPEN - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                      4000, 4000, 4000, 4000])  # pre-market: ignored  # fmt: skip
        for minute in range(390):
            if minute == skip_minute:
                continue
            start = (OPEN + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M")
            level = 4000 + (1 if minute % 2 else -1)
            high = 4040 if minute == touch_minute else max(level, 4000)
            out.writerow([start, 4000, high, min(level, 4000), level])
    (folder / "VIX.csv").write_text("date,close\n2015-01-05,15.0\n")


def test_a_wing_touch_inside_a_real_minute_bar_exits_in_that_minute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _write_data(data, touch_minute=60, skip_minute=200)
    text, file = config_text(BOT, None)
    config = tmp_path / "config.json"
    config.write_text(with_overrides(BOT, text, file, OVERRIDES))
    code = main(["backtest", BOT, "--from", DAY, "--to", DAY, "--data", str(data), "--config",
                 str(config), "--missing-events", "ignore", "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert "1-minute" in report["data"] and report["minutes_filled"] == 1
    assert report["trades"] == 1 and report["exits_by_reason"] == {"wing_touch": 1}

    spec = BacktestSpec(BOT, config.read_text(), str(config), date(2015, 1, 6),
                        date(2015, 1, 6), missing_events="ignore")  # fmt: skip
    engine, result = run_backtest(spec, load_csv_history(data))
    engine.close()
    (trade,) = result.trades
    assert trade.closed_at is not None
    closed = trade.closed_at.astimezone(NY)
    assert (closed.hour, closed.minute) == (10, 30)  # minute 60 after the 09:30 open


def test_a_malformed_minute_row_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "SPX.csv").write_text(
        "datetime,open,high,low,close\n2015-01-06T09:30,4000,3990,3980,4000\n"
    )
    with pytest.raises(HistoryError, match=r"SPX\.csv:2: .*inconsistent OHLC"):
        load_csv_history(tmp_path)
