"""`calypso backtest`: the report, the files under --out, and clear errors."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from shared import paths
from shared.backtest import history, runner
from shared.cli.main import main
from shared.journal import Journal
from shared.runtime.strategy_loader import strategy_factory_for


def test_a_backtest_prints_the_json_report_and_writes_csv_journal_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["backtest", "iron_fly_0dte", "--from", "2015-01-06", "--to", "2015-01-06",
                 "--missing-events", "ignore", "--json", "--out", str(out)])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trades"] >= 1
    assert report["missing_events"] == "ignore"
    assert "modelled" in report["note"] and "arch" in report["data"]
    assert "no Greeks" in report["note"]  # the strategies' fallbacks differ from live
    rows = list(csv.DictReader((out / "trades.csv").open()))
    assert len(rows) == report["trades"]
    assert f"{sum(float(r['pnl_usd']) for r in rows):.2f}" == report["total_pnl_usd"]
    journal = Journal.open_readonly(out / "journal.sqlite")
    assert [t.trade_id for t in journal.trades()] == [int(r["trade_id"]) for r in rows]
    journal.close()
    assert (out / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bot_whose_strategy_does_not_exist_yet_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Every bot has its strategy now: point the loader at a class that does not exist.
    monkeypatch.setattr(runner, "bot_strategy_factory",
                        lambda bot: strategy_factory_for(bot, "NoSuchStrategy"))
    code = main(["backtest", "rolling_put_diagonal", "--from", "2015-01-05", "--to", "2015-01-06"])
    assert code == 2
    assert "rolling_put_diagonal strategy is not implemented yet" in capsys.readouterr().err


def test_a_bot_whose_market_the_backtest_cannot_serve_exits_2_naming_what_it_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    config = json.loads(paths.bot_example_config_path("delta_neutral").read_text())
    # QQQ as the underlying of a strategy whose root is SPY: SPY chains around QQQ are not served
    config["strategy"]["instruments"]["underlying_uic"] = 4328771
    file = tmp_path / "qqq.json"
    file.write_text(json.dumps(config))
    code = main(["backtest", "delta_neutral", "--from", "2015-01-05", "--to", "2015-01-06",
                 "--config", str(file)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot serve delta_neutral yet" in err and "uic 4328771" in err
    assert "Traceback" not in err


def test_dates_in_the_wrong_order_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "iron_fly_0dte", "--from", "2015-02-01", "--to", "2015-01-01"])
    assert code == 2
    assert "--to 2015-01-01 is before --from 2015-02-01" in capsys.readouterr().err


def test_without_the_backtest_extra_the_command_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(history.importlib.util, "find_spec",
                        lambda name, *a: None if name == "arch" else real(name, *a))  # fmt: skip
    code = main(["backtest", "iron_fly_0dte", "--from", "2015-01-05", "--to", "2015-01-06"])
    assert code == 2
    assert 'pip install "calypso[backtest]"' in capsys.readouterr().err
