"""`SaxoClient`: the one facade bots and tools use to talk to Saxo (or the local simulator).

Two clocks: `clock` is the market clock (the simulator's in `local` mode, wall otherwise) used
for activity time windows and quote ages; `wall_clock` paces requests, waits and token expiry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import requests

from shared import paths
from shared.clock import Clock, WallClock
from shared.domain import (
    Balance,
    OptionChain,
    Order,
    OrderActivity,
    OrderOutcome,
    PlacedOrder,
    Position,
    Quote,
)
from shared.saxo_client.charts import DAILY, ChartBar, ChartMode, ChartService
from shared.saxo_client.credentials import SecretReader, load_credentials
from shared.saxo_client.environments import SaxoEnvironment, environment
from shared.saxo_client.oauth import OAuthClient
from shared.saxo_client.orders import (
    FoundOrder,
    OrderRequest,
    OrderService,
    PrecheckAnswer,
    VerifyTiming,
)
from shared.saxo_client.portfolio import AccountRef, PortfolioService
from shared.saxo_client.prices import PriceService
from shared.saxo_client.rate_limiter import RateLimiter, RateLimits
from shared.saxo_client.reference import ReferenceData
from shared.saxo_client.streaming.client import PriceCallback, PriceStream, StreamSettings
from shared.saxo_client.transport import RetryPolicy, SaxoTransport, Timeouts, TokenProvider
from shared.token_coordinator import SecretWriter, TokenCoordinator

logger = logging.getLogger(__name__)


class SaxoClient:
    """Prices, reference data, orders, portfolio and streaming for one environment."""

    def __init__(
        self,
        *,
        env: SaxoEnvironment,
        tokens: TokenProvider,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        rate_limits: RateLimits | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        verify_timing: VerifyTiming | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.env = env
        self.wall_clock: Clock = wall_clock or WallClock()
        self.clock: Clock = clock or self.wall_clock
        self.transport = SaxoTransport(
            env=env,
            tokens=tokens,
            clock=self.wall_clock,
            limiter=RateLimiter(clock=self.wall_clock, limits=rate_limits),
            session=session,
            timeouts=timeouts,
            retry=retry,
        )
        self.portfolio = PortfolioService(transport=self.transport)
        self.reference = ReferenceData(transport=self.transport, clock=self.wall_clock)
        self.prices = PriceService(transport=self.transport)
        self.charts = ChartService(transport=self.transport)
        self.orders = OrderService(
            transport=self.transport,
            account=self.portfolio.account,
            wall_clock=self.wall_clock,
            market_clock=self.clock,
            timing=verify_timing,
        )

    def close(self) -> None:
        self.transport.close()

    # --- account and portfolio --------------------------------------------------------------
    def account(self) -> AccountRef:
        return self.portfolio.account()

    def positions(self) -> list[Position]:
        return self.portfolio.positions()

    def balance(self) -> Balance:
        return self.portfolio.balance()

    # --- reference data and prices ----------------------------------------------------------
    def chain(self, root: str, expiry: date | None = None) -> OptionChain:
        return self.reference.chain(root, expiry)

    def quote(self, uic: int, asset_type: str, *, greeks: bool = False) -> Quote:
        return self.prices.quote(uic, asset_type, greeks=greeks)

    def quotes(
        self, uics: Sequence[int], asset_type: str, *, greeks: bool = False
    ) -> dict[int, Quote]:
        return self.prices.quotes(uics, asset_type, greeks=greeks)

    def vix(self) -> Decimal | None:
        return self.prices.vix()

    def chart_bars(
        self,
        uic: int,
        asset_type: str,
        *,
        horizon_minutes: int = DAILY,
        count: int = 1200,
        mode: ChartMode = "UpTo",
        time: datetime | None = None,
    ) -> list[ChartBar]:
        """OHLC samples (`/chart/v3/charts`), oldest first; see `ChartService.bars`."""
        return self.charts.bars(uic, asset_type, horizon_minutes=horizon_minutes, count=count,
                                mode=mode, time=time)  # fmt: skip

    def daily_bars(self, uic: int, asset_type: str, count: int) -> list[ChartBar]:
        """The last `count` daily samples up to now (Horizon 1440, Mode UpTo), oldest first.
        The last one may be today's bar, still forming while the session is open."""
        return self.charts.bars(uic, asset_type, horizon_minutes=DAILY, count=count)

    # --- orders -----------------------------------------------------------------------------
    def place_order(
        self, request: OrderRequest, *, request_id: str | None = None
    ) -> PlacedOrder:
        return self.orders.place(request, request_id=request_id)

    def precheck_order(self, request: OrderRequest) -> PrecheckAnswer:
        """Saxo's pre-check of `request` (nothing is placed)."""
        return self.orders.precheck(request)

    def find_order(self, external_reference: str, *, since: datetime) -> FoundOrder | None:
        """One look for the order with this ExternalReference placed since `since`."""
        return self.orders.find_by_reference(external_reference, since=since)

    def cancel_order(self, order_id: str) -> bool:
        return self.orders.cancel(order_id)

    def order_status(self, order_id: str) -> Order | None:
        return self.orders.status(order_id)

    def open_orders(self) -> list[Order]:
        return self.orders.open_orders()

    def verify_order(self, order_id: str, *, wait_for_final: bool = True) -> OrderOutcome:
        return self.orders.verify(order_id, wait_for_final=wait_for_final)

    def activities(
        self, *, since: datetime | None = None, order_id: str | None = None
    ) -> list[OrderActivity]:
        """Order audit entries, oldest first: of one order, or of the account since `since`
        (tz-aware; default the last 12 hours of the market clock)."""
        return self.orders.activities(order_id, since=since)

    # --- streaming --------------------------------------------------------------------------
    def price_stream(
        self, on_price: PriceCallback | None = None, settings: StreamSettings | None = None
    ) -> PriceStream:
        """A new (not yet started) price stream sharing this client's transport and tokens."""
        return PriceStream(
            transport=self.transport, on_price=on_price, clock=self.clock, settings=settings
        )


def token_coordinator(
    env_name: str,
    *,
    sim_url: str | None = None,
    home: Path | None = None,
    secret_store: SecretReader | None = None,
    write_back: SecretWriter | None = None,
    wall_clock: Clock | None = None,
) -> TokenCoordinator:
    """The token coordinator for `env_name` over `CALYPSO_HOME/data/saxo_token_cache.json`.
    `write_back` receives every new token set (Secret Manager on GCP)."""
    env = environment(env_name, sim_url=sim_url)
    wall = wall_clock or WallClock()
    oauth = OAuthClient(env=env, credentials=load_credentials(env_name, secret_store), clock=wall)
    return TokenCoordinator(
        env=env_name,
        refresher=oauth,
        cache_path=paths.token_cache_path(home),
        clock=wall,
        secret_store=write_back,
    )


def default_stores(env_name: str) -> tuple[SecretReader | None, SecretWriter | None]:
    """(credentials store, token write-back store) for `env_name`: none for `local`; the
    default secret chain, plus Google Secret Manager write-back when running on GCP."""
    if env_name == "local":
        return None, None
    from shared import secret_manager

    store = secret_manager.default_secret_store()
    write_back = secret_manager.GoogleSecretStore() if secret_manager.running_on_gcp() else None
    return store, write_back


def build_client(
    env_name: str,
    *,
    sim_url: str | None = None,
    home: Path | None = None,
    clock: Clock | None = None,
    rate_limits: RateLimits | None = None,
) -> SaxoClient:
    """A ready SaxoClient for `env_name` (live|sim|local) using the shared token cache."""
    store, write_back = default_stores(env_name)
    tokens = token_coordinator(
        env_name, sim_url=sim_url, home=home, secret_store=store, write_back=write_back
    )
    return SaxoClient(
        env=environment(env_name, sim_url=sim_url),
        tokens=tokens,
        clock=clock,
        rate_limits=rate_limits,
    )
