"""PricingEngine: Black-Scholes on the VIX-tied surface, Cboe ticks, realistic spreads."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import pytest

from shared.options_math import bs_price, is_on_tick, years_to_expiry
from shared.saxo_sim.instruments import (
    QQQ_ROOT_ID,
    QQQ_UIC,
    SPXW_ROOT_ID,
    SPY_ROOT_ID,
    SPY_UIC,
    US500_UIC,
    VIX_UIC,
    OptionContract,
)
from shared.saxo_sim.pricing import RATE, OptionQuote
from tests.sim.market.factory import Market, build_market, ny

TODAY = date(2026, 3, 2)


def _market_at(at: datetime) -> Market:
    market = build_market()
    market.go_to(at)
    return market


def _chain(market: Market, root_id: int, expiry: date) -> list[OptionContract]:
    root = market.catalog.root(root_id)
    assert root is not None
    reference = market.model.reference_price(root.underlying_uic, TODAY)
    return market.catalog.contracts(root_id, expiry, reference)


def _atm(market: Market, root_id: int, expiry: date, put_call: str) -> OptionContract:
    chain = _chain(market, root_id, expiry)
    spot = market.model.spot(chain[0].underlying_uic)
    return min((c for c in chain if c.put_call == put_call),
               key=lambda c: abs(float(c.strike) - spot))


def _relative_spread(quote: OptionQuote) -> float:
    assert quote.bid is not None and quote.ask is not None and quote.mid is not None
    return float(quote.ask - quote.bid) / float(quote.mid)


def test_option_theo_is_black_scholes_at_the_quoted_vol() -> None:
    market = _market_at(ny(2026, 3, 2, 10, 30))
    expiry = date(2026, 3, 13)
    contract = _atm(market, SPXW_ROOT_ID, expiry, "Put")
    quote = market.pricing.option_quote(contract)
    years = years_to_expiry(market.clock.now(), ny(2026, 3, 13, 16, 15))  # SPXW PM close
    spot = market.model.spot(US500_UIC)
    expected = bs_price(spot, float(contract.strike), years, quote.iv, RATE, "put")
    assert quote.theo == pytest.approx(expected, rel=1e-12)


def test_spy_options_expire_at_16_00_with_a_dividend_yield() -> None:
    market = _market_at(ny(2026, 3, 2, 10, 30))
    contract = _atm(market, SPY_ROOT_ID, TODAY, "Call")
    assert market.pricing.expiry_close(contract) == ny(2026, 3, 2, 16, 0)
    quote = market.pricing.option_quote(contract)
    years = years_to_expiry(market.clock.now(), ny(2026, 3, 2, 16, 0))
    spot = market.model.spot(SPY_UIC)
    expected = bs_price(spot, float(contract.strike), years, quote.iv, RATE, "call", 0.013)
    assert quote.theo == pytest.approx(expected, rel=1e-12)


def test_atm_vol_tracks_vix_and_puts_carry_skew() -> None:
    market = _market_at(ny(2026, 3, 2, 11, 0))
    expiry = date(2026, 4, 1)
    vix = market.model.vix() / 100
    atm = market.pricing.option_quote(_atm(market, SPXW_ROOT_ID, expiry, "Put"))
    low_strike = next(c for c in _chain(market, SPXW_ROOT_ID, expiry)
                      if c.put_call == "Put" and c.strike == Decimal("5700"))
    assert 0.8 * vix < atm.iv < 1.25 * vix
    assert market.pricing.option_quote(low_strike).iv > atm.iv + 0.02


def test_zero_dte_vol_is_high_in_calendar_terms() -> None:
    # One trading day's variance lives in a few calendar hours.
    market = _market_at(ny(2026, 3, 2, 10, 0))
    zero = market.pricing.option_quote(_atm(market, SPXW_ROOT_ID, TODAY, "Call"))
    assert zero.iv > 1.5 * market.model.vix() / 100


def test_put_call_parity_holds_for_mids_within_the_spread() -> None:
    market = _market_at(ny(2026, 3, 2, 12, 0))
    expiry = date(2026, 3, 20)
    spot = market.model.spot(US500_UIC)
    years = years_to_expiry(market.clock.now(), ny(2026, 3, 20, 16, 15))
    chain = {(c.strike, c.put_call): c for c in _chain(market, SPXW_ROOT_ID, expiry)}
    for strike in (Decimal("5800"), Decimal("6000"), Decimal("6200")):
        call = market.pricing.option_quote(chain[(strike, "Call")])
        put = market.pricing.option_quote(chain[(strike, "Put")])
        assert call.mid is not None and put.mid is not None
        assert call.ask is not None and call.bid is not None
        assert put.ask is not None and put.bid is not None
        parity = spot - float(strike) * math.exp(-RATE * years)
        tolerance = float(call.ask - call.bid + put.ask - put.bid) / 2
        assert abs(float(call.mid - put.mid) - parity) <= tolerance


@pytest.mark.parametrize("root_id", [SPXW_ROOT_ID, SPY_ROOT_ID, QQQ_ROOT_ID])
def test_quotes_are_on_tick_never_crossed_and_bids_never_negative(root_id: int) -> None:
    market = _market_at(ny(2026, 3, 2, 9, 31))
    for expiry in market.catalog.expiries(root_id, TODAY)[::6]:
        for contract in _chain(market, root_id, expiry):
            quote = market.pricing.option_quote(contract)
            assert quote.bid is not None and quote.ask is not None
            assert quote.bid >= 0 and quote.ask > quote.bid
            assert is_on_tick(contract.root, quote.bid) and is_on_tick(contract.root, quote.ask)


def test_far_otm_spxw_can_bid_zero() -> None:
    market = _market_at(ny(2026, 3, 2, 15, 0))
    far = next(c for c in _chain(market, SPXW_ROOT_ID, TODAY) if c.put_call == "Put")
    quote = market.pricing.option_quote(far)
    assert quote.bid == Decimal("0") and quote.bid_size == 0
    assert quote.ask == Decimal("0.05")


def test_spreads_are_relatively_wider_at_zero_dte_and_far_from_the_money() -> None:
    market = _market_at(ny(2026, 3, 2, 12, 0))
    zero = market.pricing.option_quote(_atm(market, SPXW_ROOT_ID, TODAY, "Put"))
    month = market.pricing.option_quote(_atm(market, SPXW_ROOT_ID, date(2026, 4, 1), "Put"))
    otm = next(c for c in _chain(market, SPXW_ROOT_ID, date(2026, 4, 1))
               if c.put_call == "Put" and c.strike == Decimal("5600"))
    assert _relative_spread(zero) > _relative_spread(month)
    assert _relative_spread(market.pricing.option_quote(otm)) > _relative_spread(month)


def test_spreads_widen_near_the_open() -> None:
    early = _market_at(ny(2026, 3, 2, 9, 31)).pricing.underlying_quote(US500_UIC)
    midday = _market_at(ny(2026, 3, 2, 12, 30)).pricing.underlying_quote(US500_UIC)
    assert early.ask is not None and early.bid is not None
    assert midday.ask is not None and midday.bid is not None
    assert early.ask - early.bid > midday.ask - midday.bid


def test_vix_has_no_bid_or_ask_only_last() -> None:
    market = _market_at(ny(2026, 3, 2, 10, 0))
    quote = market.pricing.underlying_quote(VIX_UIC)
    assert (quote.bid, quote.ask, quote.mid) == (None, None, None)
    assert quote.last == Decimal(repr(market.model.vix())).quantize(Decimal("0.01"))


@pytest.mark.parametrize("uic", [US500_UIC, SPY_UIC, QQQ_UIC])
def test_underlying_quotes_straddle_the_level(uic: int) -> None:
    market = _market_at(ny(2026, 3, 2, 10, 0))
    quote = market.pricing.underlying_quote(uic)
    level = market.model.spot(uic)
    assert quote.bid is not None and quote.ask is not None
    assert float(quote.bid) <= level <= float(quote.ask)
    assert quote.market_open and quote.bid_size > 0


def test_outside_the_session_quotes_keep_the_last_prices() -> None:
    market = _market_at(ny(2026, 3, 2, 12, 0))
    contract = _atm(market, SPXW_ROOT_ID, date(2026, 3, 3), "Call")
    at_close = market.pricing.option_quote(contract, ny(2026, 3, 2, 16, 15))
    evening = market.pricing.option_quote(contract, ny(2026, 3, 2, 20, 0))
    pre_open = market.pricing.option_quote(contract, ny(2026, 3, 3, 9, 26))
    assert not evening.market_open and not pre_open.market_open
    assert evening.bid == pre_open.bid == at_close.bid
    assert evening.ask == pre_open.ask == at_close.ask
    spy = market.pricing.underlying_quote(SPY_UIC, ny(2026, 3, 2, 16, 5))
    assert not spy.market_open
    assert spy.last == market.pricing.underlying_quote(SPY_UIC, ny(2026, 3, 2, 16, 0)).last


def test_settlement_value_is_intrinsic_at_the_expiry_close() -> None:
    market = _market_at(ny(2026, 3, 2, 12, 0))
    close_level = market.model.spot(US500_UIC, ny(2026, 3, 2, 16, 15))
    chain = _chain(market, SPXW_ROOT_ID, TODAY)
    call = min((c for c in chain if c.put_call == "Call" and float(c.strike) < close_level),
               key=lambda c: close_level - float(c.strike))
    put = next(c for c in chain if c.put_call == "Put" and c.strike == call.strike)
    expected = Decimal(repr(close_level - float(call.strike))).quantize(Decimal("0.01"))
    assert market.pricing.settlement_value(call) == expected
    assert market.pricing.settlement_value(put) == Decimal("0.00")


def test_expired_option_is_quoted_at_intrinsic_and_closed() -> None:
    market = _market_at(ny(2026, 3, 2, 12, 0))
    contract = _atm(market, SPXW_ROOT_ID, TODAY, "Call")
    quote = market.pricing.option_quote(contract, ny(2026, 3, 3, 11, 0))
    assert not quote.market_open
    assert quote.theo == pytest.approx(float(market.pricing.settlement_value(contract)), abs=0.006)
