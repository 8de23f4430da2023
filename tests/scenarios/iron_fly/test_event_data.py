"""The Iron Fly on a 2027 day, the first year without packaged CPI/PPI/payrolls data: it stands
aside (fail-closed) and says so with one safety event; after `calypso calendar import` of the
year's schedules it trades that day again. Real strategy, real runtime, the simulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import pytest

from shared import market_hours
from shared.cli.main import main
from shared.runtime.calendar_watch import EVENT_DATA_MISSING
from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import read_journal, start_day
from tests.shared.calendar_files import CPI_2027, NFP_2027, PPI_2027, csv_of

# Tuesday: no FOMC meeting (packaged 2027 data) and no release in the imported test schedules.
PLAIN_DAY_2027 = date(2027, 3, 2)
# Earlier than the harness's 09:29:15: the first bot of a test process starts cold (imports,
# first stream), and the range must begin within a minute of 09:30.
SIM_START = clock_time(9, 28, 30)


def _import_macro_schedules(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    for kind, days in (("cpi", CPI_2027), ("ppi", PPI_2027), ("nfp", NFP_2027)):
        source = home / f"{kind}_2027.csv"
        source.write_text(csv_of(days), encoding="utf-8")
        assert main(["calendar", "import", str(source), "--kind", kind, "--year", "2027"]) == 0


def test_the_fly_stands_aside_without_2027_data_and_trades_once_it_is_imported(
    sim_factory: Callable[..., SimServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_home, after_home = tmp_path / "before", tmp_path / "after"
    # Warm the exchange calendar's 2027 sessions now: computed cold inside the bot, they cost
    # real seconds, i.e. minutes of the fast simulated morning, and the range would start late.
    for venue in ("nyse", "index_options"):
        market_hours.session(PLAIN_DAY_2027, venue)

    monkeypatch.setenv("CALYPSO_HOME", str(before_home))
    before = start_day(sim_factory, before_home, PLAIN_DAY_2027, start=SIM_START)
    bot = before.bot()
    before.through_range(bot)
    bot.wait_state("done")
    assert bot.stop() == 0
    skipped = read_journal(before_home)
    assert skipped.skip_reason().startswith("economic: economic release day (cpi assumed")
    assert skipped.trades == [] and before.order_ids() == set()
    missing = [e for e in skipped.safety if e.event == EVENT_DATA_MISSING]
    assert len(missing) == 1 and missing[0].details["assumed"] == ["cpi", "ppi", "nfp"]

    monkeypatch.setenv("CALYPSO_HOME", str(after_home))
    _import_macro_schedules(after_home)
    after = start_day(sim_factory, after_home, PLAIN_DAY_2027, start=SIM_START)
    bot = after.open_fly()
    assert bot.stop() == 0
    traded = read_journal(after_home)
    assert len(traded.trades) == 1 and after.positions() != {}
    assert [e.details["kinds"] for e in traded.safety if e.event == EVENT_DATA_MISSING] == [
        ["earnings"]  # the fly does not use earnings; the day is still reported
    ]
