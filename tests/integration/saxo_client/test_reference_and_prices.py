"""Reference data, chains and prices against the simulator."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.domain import PutCall
from shared.saxo_client.client import SaxoClient
from shared.strategy.quotes import quote_problems
from tests.integration.saxo_client.conftest import sim_stats


def route_calls(server: Any, fragment: str) -> int:
    return sum(count for route, count in sim_stats(server)["routes"].items() if fragment in route)


def test_spxw_chain_is_a_stock_index_option_chain_with_uics(client: SaxoClient) -> None:
    chain = client.chain("SPXW")
    expiry = chain.expiries[0]

    contracts = client.chain("SPXW", expiry).for_expiry(expiry)

    assert chain.asset_type == "StockIndexOption" and chain.root_id == 128
    assert len(contracts) > 10
    assert {c.put_call for c in contracts} == {PutCall.CALL, PutCall.PUT}
    assert all(c.asset_type == "StockIndexOption" and c.uic > 0 for c in contracts)
    strikes = [c.strike for c in contracts]
    assert all(strike % 5 == 0 for strike in strikes)


def test_spy_root_resolves_to_stock_options(client: SaxoClient) -> None:
    chain = client.chain("SPY")

    assert chain.asset_type == "StockOption"
    assert chain.expiries[-1] >= chain.expiries[0]
    assert (chain.expiries[-1] - chain.expiries[0]).days >= 100


def test_chain_is_cached_for_thirty_seconds(client: SaxoClient, open_market_sim: Any) -> None:
    client.chain("SPXW")
    before = route_calls(open_market_sim, "contractoptionspaces")

    client.chain("SPXW")

    assert route_calls(open_market_sim, "contractoptionspaces") == before


def test_many_option_quotes_come_from_one_call_with_greeks(
    client: SaxoClient, open_market_sim: Any
) -> None:
    chain = client.chain("SPXW")
    contracts = client.chain("SPXW", chain.expiries[0]).for_expiry(chain.expiries[0])
    uics = [c.uic for c in contracts[:30]]
    before = route_calls(open_market_sim, "infoprices/list")

    quotes = client.quotes(uics, "StockIndexOption", greeks=True)

    assert route_calls(open_market_sim, "infoprices/list") == before + 1
    assert set(quotes) == set(uics)
    assert any(q.greeks is not None and q.greeks.delta is not None for q in quotes.values())


def test_an_at_the_money_option_quote_passes_validation(client: SaxoClient) -> None:
    spot = client.quote(4913, "CfdOnIndex").price
    assert spot is not None
    chain = client.chain("SPXW")
    contracts = client.chain("SPXW", chain.expiries[0]).for_expiry(chain.expiries[0])
    atm = min(contracts, key=lambda c: abs(c.strike - spot))

    quote = client.quote(atm.uic, atm.asset_type)

    assert quote_problems(quote, quote.age_seconds(client.clock.now()), 30) == ()


def test_vix_comes_from_last_traded_without_bid_or_ask(client: SaxoClient) -> None:
    quote = client.quote(10606, "StockIndex")

    assert quote.bid is None and quote.ask is None
    assert client.vix() is not None and 5 < client.vix() < 90  # type: ignore[operator]


def test_expiries_are_not_in_the_past(client: SaxoClient) -> None:
    today = client.clock.now().date()

    assert all(expiry >= today for expiry in client.chain("QQQ").expiries)
    assert isinstance(client.chain("QQQ").expiries[0], date)
