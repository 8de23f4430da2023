"""InstrumentCatalog: underlyings, roots, listed expiries, strikes and stable UICs."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from shared import market_hours
from shared.saxo_sim.instruments import (
    QQQ_ROOT_ID,
    SPXW_ROOT_ID,
    SPY_ROOT_ID,
    InstrumentCatalog,
)

MONDAY = date(2026, 3, 2)


def test_underlyings_use_calypsos_saxo_uics_and_asset_types() -> None:
    catalog = InstrumentCatalog(7)
    found = {(u.symbol, u.uic, u.asset_type) for u in catalog.underlyings()}
    assert found == {
        ("US500.I", 4913, "CfdOnIndex"),
        ("VIX.I", 10606, "StockIndex"),
        ("SPY:arcx", 36590, "Etf"),
        ("QQQ:xnas", 4328771, "Etf"),
    }


def test_spxw_root_128_is_an_index_option_on_us500() -> None:
    root = InstrumentCatalog(7).root(128)
    assert root is not None
    assert (root.symbol, root.underlying_uic, root.asset_type) == ("SPXW", 4913, "StockIndexOption")
    assert root.strike_increment == Decimal("5")


def test_lookup_by_short_symbol() -> None:
    catalog = InstrumentCatalog(7)
    spy = catalog.underlying_by_symbol("spy")
    assert spy is not None and spy.uic == 36590
    assert spy.option_root_id == SPY_ROOT_ID
    assert catalog.underlying_by_symbol("nope") is None


def test_spxw_lists_every_trading_day_for_45_days() -> None:
    expiries = InstrumentCatalog(7).expiries(SPXW_ROOT_ID, MONDAY)
    assert expiries == market_hours.trading_days_between(MONDAY, MONDAY + timedelta(days=45))


def test_spy_lists_monthlies_at_least_150_days_out() -> None:
    expiries = InstrumentCatalog(7).expiries(SPY_ROOT_ID, MONDAY)
    assert max(expiries) >= MONDAY + timedelta(days=150)
    # Third Fridays: September 2026 on the 18th; June's (the 19th) is Juneteenth -> Thursday.
    assert {date(2026, 6, 18), date(2026, 9, 18)} <= set(expiries)
    assert date(2026, 6, 19) not in expiries
    assert all(market_hours.is_trading_day(day) for day in expiries)


def test_spy_lists_dailies_for_two_weeks_then_only_fridays_and_monthlies() -> None:
    expiries = InstrumentCatalog(7).expiries(QQQ_ROOT_ID, MONDAY)
    assert expiries[:5] == [MONDAY + timedelta(days=d) for d in range(5)]
    later = [d for d in expiries if d > MONDAY + timedelta(days=14)]
    # Fridays, or the Thursday before a holiday Friday (Good Friday, Juneteenth 2026).
    moved = {date(2026, 4, 2), date(2026, 6, 18)}
    assert all(d.weekday() == 4 or d in moved for d in later)


def test_holiday_friday_expiry_moves_to_thursday() -> None:
    # Good Friday 2026-04-03: that week's SPY weekly expires Thursday 2026-04-02.
    expiries = InstrumentCatalog(7).expiries(SPY_ROOT_ID, date(2026, 3, 16))
    assert date(2026, 4, 2) in expiries
    assert date(2026, 4, 3) not in expiries


def test_expired_dates_are_not_listed() -> None:
    expiries = InstrumentCatalog(7).expiries(SPXW_ROOT_ID, date(2026, 3, 4))
    assert min(expiries) == date(2026, 3, 4)


def test_spxw_strikes_cover_8_percent_in_5_point_steps() -> None:
    contracts = InstrumentCatalog(7).contracts(SPXW_ROOT_ID, MONDAY, 6000.0)
    strikes = sorted({c.strike for c in contracts})
    assert strikes[0] == Decimal("5520") and strikes[-1] == Decimal("6480")
    assert all(b - a == 5 for a, b in itertools.pairwise(strikes))
    assert len(contracts) == 2 * len(strikes)
    assert {c.put_call for c in contracts} == {"Call", "Put"}


def test_spy_strikes_cover_15_percent_in_dollars() -> None:
    contracts = InstrumentCatalog(7).contracts(SPY_ROOT_ID, MONDAY, 600.0)
    strikes = sorted({c.strike for c in contracts})
    assert strikes[0] == Decimal("510") and strikes[-1] == Decimal("690")
    assert contracts[0].asset_type == "StockOption" and contracts[0].contract_size == 100


def test_listing_is_fixed_for_small_moves() -> None:
    catalog = InstrumentCatalog(7)
    first = catalog.contracts(SPXW_ROOT_ID, MONDAY, 6000.0)
    again = catalog.contracts(SPXW_ROOT_ID, MONDAY, 6100.0)
    assert again == first


def test_listing_grows_but_keeps_series_when_the_market_runs_away() -> None:
    catalog = InstrumentCatalog(7)
    first = catalog.contracts(SPXW_ROOT_ID, MONDAY, 6000.0)
    grown = catalog.contracts(SPXW_ROOT_ID, MONDAY, 6400.0)
    assert set(first) < set(grown)
    assert max(c.strike for c in grown) >= Decimal("6400") * Decimal("1.08") - 5


def test_uics_are_stable_across_catalogs_and_listing_order() -> None:
    a, b = InstrumentCatalog(7), InstrumentCatalog(99)
    later = MONDAY + timedelta(days=1)
    a.contracts(SPXW_ROOT_ID, MONDAY, 6000.0)
    a_later = a.contracts(SPXW_ROOT_ID, later, 6000.0)
    b_later = b.contracts(SPXW_ROOT_ID, later, 6000.0)
    assert [c.uic for c in a_later] == [c.uic for c in b_later]


def test_uics_are_unique_and_never_underlying_uics() -> None:
    catalog = InstrumentCatalog(7)
    uics = []
    for root_id in (SPXW_ROOT_ID, SPY_ROOT_ID, QQQ_ROOT_ID):
        for expiry in catalog.expiries(root_id, MONDAY)[:3]:
            reference = 6000.0 if root_id == SPXW_ROOT_ID else 600.0
            uics += [c.uic for c in catalog.contracts(root_id, expiry, reference)]
    assert len(uics) == len(set(uics))
    assert not set(uics) & {u.uic for u in catalog.underlyings()}


def test_option_and_contract_for_find_listed_series() -> None:
    catalog = InstrumentCatalog(7)
    listed = catalog.contracts(SPXW_ROOT_ID, MONDAY, 6000.0)[10]
    assert catalog.option(listed.uic) == listed
    found = catalog.contract_for(SPXW_ROOT_ID, MONDAY, listed.strike, listed.put_call)
    assert found == listed
    assert catalog.contract_for(SPXW_ROOT_ID, MONDAY, Decimal("6002"), "Call") is None
    assert catalog.contract_for(SPXW_ROOT_ID, MONDAY, Decimal("9000"), "Call") is None


def test_unknown_root_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown option root id 999"):
        InstrumentCatalog(7).expiries(999, MONDAY)


def test_non_trading_day_lists_nothing() -> None:
    assert InstrumentCatalog(7).contracts(SPXW_ROOT_ID, date(2026, 3, 7), 6000.0) == []
