"""The operator overlay merged over the packaged event data: added events and years, packaged
data kept, changes re-read, a bad file ignored (fail-closed) and reported."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.event_calendar import EventCalendar
from shared.event_overlay import Overlay, OverlayDay, OverlayYear, load_overlay, save_overlay
from tests.shared.calendar_files import CPI_2027, macro_overlay_2027

NOW = datetime(2026, 12, 5, 15, tzinfo=UTC)


def _cpi(year: int, days: tuple[date, ...]) -> OverlayYear:
    named = tuple(OverlayDay(date=d, name="CPI") for d in days)
    return OverlayYear(kind="cpi", year=year, source="test", imported_at=NOW, days=named)


def test_overlay_years_and_events_are_added_and_packaged_ones_kept(tmp_path: Path) -> None:
    overlay_file = tmp_path / "events_local.json"
    save_overlay(overlay_file, macro_overlay_2027())

    calendar = EventCalendar(overlay_file=overlay_file)

    assert {y for y in calendar.covered_years("cpi") if y >= 2025} == {2025, 2026, 2027}
    assert calendar.has_event(date(2027, 1, 13), "cpi")
    assert not calendar.has_event(date(2027, 1, 12), "cpi")  # covered now: no assumed event
    assert calendar.has_event(date(2026, 3, 11), "cpi")  # packaged
    assert calendar.covered_through("cpi", date(2026, 6, 1)) == date(2027, 12, 31)
    packaged = EventCalendar(packaged_only=True)
    assert packaged.has_event(date(2027, 1, 12), "cpi")  # uncovered: assumed


def test_covered_through_stops_at_a_gap_year(tmp_path: Path) -> None:
    overlay_file = tmp_path / "events_local.json"
    days_2028 = tuple(d.replace(year=2028) for d in CPI_2027 if d.replace(year=2028).weekday() < 5)
    save_overlay(overlay_file, Overlay(entries=(_cpi(2028, days_2028),)))

    calendar = EventCalendar(overlay_file=overlay_file)

    assert calendar.covered_through("cpi", date(2026, 6, 1)) == date(2026, 12, 31)
    assert calendar.covered_through("cpi", date(2027, 6, 1)) is None


def test_a_changed_overlay_is_re_read_and_a_broken_one_keeps_the_last_good_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overlay_file = tmp_path / "events_local.json"
    calendar = EventCalendar(overlay_file=overlay_file)
    assert not calendar.covers(date(2027, 1, 13), "cpi")

    save_overlay(overlay_file, Overlay(entries=(_cpi(2027, CPI_2027),)))
    assert calendar.reload_overlay() is True
    assert calendar.covers(date(2027, 1, 13), "cpi")

    overlay_file.write_text("{not json", encoding="utf-8")
    os.utime(overlay_file, ns=(1, 1))
    assert calendar.reload_overlay() is False
    assert calendar.covers(date(2027, 1, 13), "cpi")
    assert calendar.overlay_problem is not None and str(overlay_file) in calendar.overlay_problem
    assert any(r.getMessage().startswith("event_overlay_invalid") for r in caplog.records)


def test_a_broken_overlay_at_start_leaves_the_packaged_data_only(tmp_path: Path) -> None:
    overlay_file = tmp_path / "events_local.json"
    overlay_file.write_text('{"entries": [], "extra": 1}', encoding="utf-8")

    calendar = EventCalendar(overlay_file=overlay_file)

    assert calendar.overlay_problem is not None
    assert calendar.has_event(date(2027, 1, 12), "cpi")  # 2027 uncovered: assumed, fail-closed


def test_an_overlay_entry_outside_its_year_is_refused_by_the_file_model(tmp_path: Path) -> None:
    overlay_file = tmp_path / "events_local.json"
    document = Overlay(entries=(_cpi(2027, CPI_2027),)).model_dump(mode="json")
    document["entries"][0]["days"][0]["date"] = "2028-01-12"
    overlay_file.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(ValueError, match="2028-01-12 is not a weekday of 2027"):
        load_overlay(overlay_file)
