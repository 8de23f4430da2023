"""`calypso calendar import` and `coverage`: iCalendar and CSV round trips into the operator
overlay (a real file under a temporary CALYPSO_HOME), bad dates rejected by name."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from shared import paths
from shared.cli import calendar_data_cmd
from shared.cli.main import main
from shared.clock import ManualClock
from shared.event_calendar import EventCalendar
from tests.shared.calendar_files import CPI_2027, all_day_event, bls_feed, csv_of, ics

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.setattr(calendar_data_cmd, "_CLOCK", ManualClock(NOW))
    return tmp_path


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _coverage(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["calendar", "coverage", "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_ics_import_round_trip_adds_only_the_claimed_kind_and_year(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = _write(home, "bls.ics", bls_feed())
    assert not EventCalendar().covers(date(2027, 1, 13), "cpi")

    code = main(["calendar", "import", str(feed), "--kind", "cpi", "--year", "2027"])

    out = capsys.readouterr().out
    assert code == 0
    assert "would add 12 day(s)" in out and "skipped 1 cpi event(s) of other years" in out
    assert paths.events_overlay_path(home).stat().st_mode & 0o777 == 0o644
    calendar = EventCalendar()
    assert calendar.covers(date(2027, 1, 13), "cpi")
    assert [e.day for e in calendar.listed("cpi", 2027)] == list(CPI_2027)
    assert not calendar.covers(date(2027, 1, 13), "ppi")  # only the claimed kind
    report = _coverage(capsys)["kinds"]["cpi"]
    recent = {year: src for year, src in report["years"].items() if year >= "2025"}
    assert recent == {"2025": "packaged", "2026": "packaged", "2027": "overlay"}
    sources = {row["date"]: row["source"] for row in report["dates"]}
    assert sources["2027-01-13"] == "overlay" and sources["2026-12-10"] == "packaged"


def test_csv_with_bad_dates_is_rejected_by_name_and_nothing_is_written(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ["2027-12-25", "2028-01-12", "2027-07-05", "2027-02-30"]
    rows = csv_of(CPI_2027) + "".join(f"{d},\n" for d in bad)
    source = _write(home, "cpi.csv", rows)

    code = main(["calendar", "import", str(source), "--kind", "cpi", "--year", "2027"])

    captured = capsys.readouterr()
    assert code == 1
    lines = [line for line in captured.out.splitlines() if "REJECTED" in line]
    assert len(lines) == 4
    assert "2027-12-25 (line 14): a Saturday, not a weekday" in lines[0]
    assert "2028-01-12 (line 15): not in 2027, the year this import claims" in lines[1]
    assert "2027-07-05 (line 16): not a trading day (Independence Day" in lines[2]
    assert "2027-02-30 (line 17): not a YYYY-MM-DD date" in lines[3]
    assert "not imported" in captured.err
    assert not paths.events_overlay_path(home).exists()


def test_csv_import_round_trip_and_a_second_import_replaces_the_year(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _write(home, "cpi.csv", csv_of(CPI_2027))
    moved = [date(2027, 1, 14), *CPI_2027[1:]]
    second = _write(home, "cpi2.csv", csv_of(moved))

    assert main(["calendar", "import", str(first), "--kind", "cpi", "--year", "2027"]) == 0
    assert main(["calendar", "import", str(second), "--kind", "cpi", "--year", "2027"]) == 0

    out = capsys.readouterr().out
    assert "replaces the overlay's cpi 2027 imported 2026-12-05T15:00:00+00:00" in out
    days = [e.day for e in EventCalendar().listed("cpi", 2027)]
    assert days == moved  # the first import's 2027-01-13 is gone


def test_dry_run_shows_the_dates_and_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(home, "cpi.csv", csv_of(CPI_2027))

    code = main(
        ["calendar", "import", str(source), "--kind", "cpi", "--year", "2027", "--dry-run"]
    )

    assert code == 0
    assert "2027-01-13, 2027-02-10" in capsys.readouterr().out
    assert not paths.events_overlay_path(home).exists()


def test_a_partial_year_is_refused_because_the_import_claims_the_whole_year(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(home, "cpi.csv", csv_of(CPI_2027[:3]))

    code = main(["calendar", "import", str(source), "--kind", "cpi", "--year", "2027"])

    assert code == 1
    assert "only 3 cpi dates for 2027" in capsys.readouterr().out
    assert not paths.events_overlay_path(home).exists()


def test_fomc_ics_meetings_become_fomc_and_decision_days(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    starts = [date(2028, m, d) for m, d in ((1, 25), (3, 14), (4, 25), (6, 13),
                                            (7, 25), (9, 19), (10, 31), (12, 12))]  # fmt: skip
    events = [
        all_day_event(f"fomc-{s}", s, date.fromordinal(s.toordinal() + 2), "FOMC Meeting")
        for s in starts
    ]
    source = _write(home, "fomc.ics", ics(events))

    code = main(["calendar", "import", str(source), "--kind", "fomc", "--year", "2028"])

    assert code == 0, capsys.readouterr()
    calendar = EventCalendar()
    assert calendar.has_event(date(2028, 1, 25), "fomc")
    assert not calendar.has_event(date(2028, 1, 25), "fomc_decision")
    assert calendar.has_event(date(2028, 1, 26), "fomc_decision")
    assert len(calendar.listed("fomc_decision", 2028)) == 8


def test_earnings_imports_per_symbol_keep_the_other_symbols(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "date,symbol,timing"
    aapl = _write(home, "aapl.csv", f"{header}\n2027-01-28,AAPL,after_close\n")
    msft = _write(home, "msft.csv", f"{header}\n2027-01-27,MSFT,after_close\n")

    for source in (aapl, msft):
        args = ["calendar", "import", str(source), "--kind", "earnings", "--year", "2027"]
        assert main(args) == 0

    listed = EventCalendar().listed("earnings", 2027)
    assert [(e.day, e.symbol, e.approximate) for e in listed] == [
        (date(2027, 1, 27), "MSFT", False),
        (date(2027, 1, 28), "AAPL", False),
    ]
    coverage = _coverage(capsys)["kinds"]["earnings"]
    assert coverage["years"]["2027"] == "overlay"
    # The query an earnings blackout asks (the Put Diagonal gets this same calendar object).
    blackout = EventCalendar().events_within(date(2027, 1, 26), 1, kinds=("earnings",))
    assert [(e.day, e.symbol) for e in blackout] == [(date(2027, 1, 27), "MSFT")]


def test_a_malformed_overlay_is_ignored_fail_closed_and_reported(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = paths.events_overlay_path(home)
    overlay.parent.mkdir(parents=True)
    overlay.write_text('{"entries": [{"kind": "cpi"}]}', encoding="utf-8")

    calendar = EventCalendar()
    code = main(["calendar", "coverage", "--json"])

    assert calendar.overlay_problem is not None and str(overlay) in calendar.overlay_problem
    assert calendar.has_event(date(2027, 1, 4), "cpi")  # uncovered: an event is assumed
    assert code == 1 and str(overlay) in capsys.readouterr().err


def test_an_unreadable_schedule_file_exits_2_naming_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(home, "broken.ics", b"BEGIN:VCALENDAR\r\nnot a content line\r\n")

    code = main(["calendar", "import", str(source), "--kind", "cpi", "--year", "2027"])

    assert code == 2
    assert "broken.ics" in capsys.readouterr().err
