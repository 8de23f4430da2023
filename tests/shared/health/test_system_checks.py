"""Machine-wide checks: disk, token cache (never leaking tokens), calendar data horizons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import ManualClock
from shared.event_calendar import EventCalendar
from shared.event_overlay import Overlay, OverlayDay, OverlayYear, save_overlay
from shared.health.system_checks import (
    check_disk_space,
    check_event_calendar_horizon,
    check_market_hours_horizon,
    check_token_cache,
)
from shared.health.verdict import Verdict
from tests.shared.calendar_files import CPI_2027
from tests.shared.health.factories import (
    BOT,
    GIB,
    NOW,
    FakeDisk,
    token_entry,
    write_config,
    write_token_cache,
)

BOTS = ["iron_fly_0dte", "delta_neutral", "rolling_put_diagonal"]


@pytest.fixture(autouse=True)
def _no_keeper_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALYPSO_SAXO_ENV", raising=False)


def _fresh() -> dict[str, object]:
    return token_entry(
        NOW,
        access_in=timedelta(minutes=15),
        refresh_in=timedelta(minutes=55),
        age=timedelta(minutes=5),
    )


def _no_secret(verdict: Verdict) -> None:
    text = verdict.reason + json.dumps(verdict.to_json())
    assert "SECRET-VALUE" not in text


# --- disk ------------------------------------------------------------------------------------


def test_disk_with_more_than_5_gib_free_passes(tmp_path: Path) -> None:
    assert check_disk_space(home=tmp_path, probe=FakeDisk(6 * GIB)).ok


def test_disk_under_5_gib_free_fails_naming_the_amount(tmp_path: Path) -> None:
    verdict = check_disk_space(home=tmp_path, probe=FakeDisk(4 * GIB))
    assert not verdict.ok
    assert "4.00 GiB" in verdict.reason


def test_disk_check_of_a_missing_home_fails(tmp_path: Path) -> None:
    assert not check_disk_space(home=tmp_path / "nope", probe=FakeDisk()).ok


# --- token cache -----------------------------------------------------------------------------


def test_fresh_token_for_the_configured_environment_passes(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "live")
    write_token_cache(tmp_path, {"live": _fresh()})
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert verdict.ok, verdict.reason
    assert verdict.details["environments"]["live"]["access_token_age_s"] == 300
    _no_secret(verdict)


def test_missing_cache_fails_and_says_how_to_log_in(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "live")
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    assert "calypso auth login --env live" in verdict.reason


def test_expired_refresh_token_fails(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "sim")
    entry = token_entry(
        NOW,
        access_in=-timedelta(minutes=50),
        refresh_in=-timedelta(minutes=10),
        age=timedelta(minutes=70),
    )
    write_token_cache(tmp_path, {"sim": entry})
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    assert "sim refresh token expired 10 min ago" in verdict.reason
    _no_secret(verdict)


def test_expired_access_token_with_valid_refresh_points_at_the_token_keeper(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, BOT, "live")
    entry = token_entry(
        NOW,
        access_in=-timedelta(minutes=5),
        refresh_in=timedelta(minutes=30),
        age=timedelta(minutes=25),
    )
    write_token_cache(tmp_path, {"live": entry})
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    assert "calypso-token-keeper" in verdict.reason


def test_cache_without_the_needed_environment_fails(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "live")
    write_token_cache(tmp_path, {"sim": _fresh()})
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    assert "no live token" in verdict.reason


def test_token_keeper_environment_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, BOT, "local")
    monkeypatch.setenv("CALYPSO_SAXO_ENV", "sim")
    write_token_cache(tmp_path, {"live": _fresh()})
    assert not check_token_cache(home=tmp_path, bots=[BOT], now=NOW).ok


def test_cache_readable_by_others_fails(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "live")
    write_token_cache(tmp_path, {"live": _fresh()}, mode=0o644)
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    assert "chmod 600" in verdict.reason


def test_bots_all_in_local_mode_need_no_token(tmp_path: Path) -> None:
    for bot in BOTS:
        write_config(tmp_path, bot, "local")
    verdict = check_token_cache(home=tmp_path, bots=BOTS, now=NOW)
    assert verdict.ok
    assert "no token needed" in verdict.reason


def test_without_configs_every_cached_saxo_environment_is_checked(tmp_path: Path) -> None:
    stale = token_entry(
        NOW,
        access_in=timedelta(minutes=5),
        refresh_in=-timedelta(seconds=1),
        age=timedelta(minutes=15),
    )
    write_token_cache(tmp_path, {"live": _fresh(), "sim": stale})
    verdict = check_token_cache(home=tmp_path, bots=BOTS, now=NOW)
    assert not verdict.ok
    assert "sim refresh token expired" in verdict.reason


def test_corrupt_cache_fails_without_echoing_its_content(tmp_path: Path) -> None:
    write_config(tmp_path, BOT, "live")
    path = tmp_path / "data" / "saxo_token_cache.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"environments": {"live": "ACCESS-SECRET-VALUE"', "utf-8")
    path.chmod(0o600)
    verdict = check_token_cache(home=tmp_path, bots=[BOT], now=NOW)
    assert not verdict.ok
    _no_secret(verdict)


# --- calendar horizons -----------------------------------------------------------------------


def test_event_calendar_with_over_60_days_of_data_passes() -> None:
    clock = ManualClock(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))
    assert check_event_calendar_horizon(clock=clock).ok


def test_event_calendar_warns_under_60_days_before_the_macro_data_ends() -> None:
    # The shipped macro data (CPI, PPI, NFP) ends 2026-12-31: 2 November is 59 days before it.
    verdict = check_event_calendar_horizon(clock=ManualClock(datetime(2026, 11, 2, 15, tzinfo=UTC)))
    assert verdict.ok and verdict.warning
    assert "cpi ends 2026-12-31 (59 days)" in verdict.reason
    assert "calypso calendar update --year YEAR" in verdict.reason


def test_event_calendar_with_exactly_60_days_left_passes_without_warning() -> None:
    # 1 November 2026 is 60 days before 2026-12-31: "fewer than 60 days" has not started yet.
    verdict = check_event_calendar_horizon(clock=ManualClock(datetime(2026, 11, 1, 15, tzinfo=UTC)))
    assert verdict.ok and not verdict.warning, verdict.reason


def test_event_calendar_fails_under_14_days_before_the_macro_data_ends() -> None:
    # 18 December 2026 is 13 days before 2026-12-31; 17 December (14 days) only warns.
    at_14 = check_event_calendar_horizon(clock=ManualClock(datetime(2026, 12, 17, 15, tzinfo=UTC)))
    at_13 = check_event_calendar_horizon(clock=ManualClock(datetime(2026, 12, 18, 15, tzinfo=UTC)))
    assert at_14.ok and at_14.warning
    assert not at_13.ok
    assert "cpi ends 2026-12-31 (13 days)" in at_13.reason


def test_event_calendar_fails_on_a_day_without_data() -> None:
    verdict = check_event_calendar_horizon(clock=ManualClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    assert not verdict.ok
    assert "cpi has no data for this year" in verdict.reason


def test_market_hours_horizon_passes_far_from_the_verified_year_end() -> None:
    clock = ManualClock(datetime(2026, 3, 3, 15, tzinfo=UTC))
    assert check_market_hours_horizon(clock=clock).ok


def test_market_hours_horizon_fails_in_the_last_weeks_of_verified_data() -> None:
    verdict = check_market_hours_horizon(clock=ManualClock(datetime(2027, 12, 1, 15, tzinfo=UTC)))
    assert not verdict.ok
    assert "VERIFIED_THROUGH_YEAR" in verdict.reason


def test_event_calendar_horizon_counts_the_operator_overlay(tmp_path: Path) -> None:
    days = tuple(OverlayDay(date=d, name="CPI") for d in CPI_2027)
    entry = OverlayYear(kind="cpi", year=2027, source="test", imported_at=NOW, days=days)
    overlay_file = tmp_path / "events_local.json"
    save_overlay(overlay_file, Overlay(entries=(entry,)))
    clock = ManualClock(datetime(2026, 12, 18, 15, tzinfo=UTC))

    verdict = check_event_calendar_horizon(
        clock=clock, calendar=EventCalendar(overlay_file=overlay_file)
    )

    assert not verdict.ok  # ppi, nfp and earnings still end 2026-12-31
    assert "cpi ends" not in verdict.reason
    assert "ppi ends 2026-12-31 (13 days)" in verdict.reason
    assert verdict.details["covered_through"]["cpi"] == "2027-12-31"
