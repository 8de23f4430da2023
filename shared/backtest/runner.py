"""One backtest from a bot name, a config and a date range: what `calypso backtest` and the
sweep workers call. Strategies are found like `calypso run` finds them (`bots.<bot>.main`), so a
bot whose strategy does not exist yet gets `StrategyNotImplemented` with its reason."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from shared import paths
from shared.backtest.engine import BacktestEngine, BacktestResult, MarketDay, Progress
from shared.backtest.events import MissingEvents
from shared.backtest.history import DailyBar, DailyHistory
from shared.backtest.paths import (
    NASDAQ_STREAM,
    SPX_STREAM,
    DayTicks,
    bridged_day,
    minute_bar_day,
)
from shared.config.errors import ConfigError
from shared.config_loader import parse_bot_config
from shared.event_calendar import EventCalendar
from shared.market_hours import session
from shared.runtime.strategy_loader import StrategyNotImplemented, bot_strategy_factory
from shared.strategy_contract import Strategy

BOTS = paths.BOT_NAMES
PREVIOUS_BARS = 60  # completed daily bars served to `daily_bars` requests (the Put Diagonal: 60)


@dataclass(frozen=True)
class BacktestSpec:
    """Everything one run needs besides the history (picklable, for sweep workers)."""

    bot: str
    config_text: str
    config_file: str
    start: date
    end: date
    seed: int = 1
    missing_events: MissingEvents = "skip-days"
    slippage_ticks: int = 0
    overrides: tuple[tuple[str, Any], ...] = ()  # the sweep's strategy keys, for its table


def config_text(bot: str, path: Path | None) -> tuple[str, Path]:
    """The config JSON to use: `path`, else the bot's shipped example (reproducible runs)."""
    file = path if path is not None else paths.bot_example_config_path(bot)
    try:
        return file.read_text(encoding="utf-8"), file
    except OSError as exc:
        raise ConfigError.single(file, f"cannot read the config: {exc.strerror}") from None


def with_overrides(bot: str, text: str, file: Path, overrides: Mapping[str, Any]) -> str:
    """`text` with dotted `strategy` keys replaced (e.g. {"max_hold_minutes": 30}), validated
    by the bot's config model; ConfigError names the key."""
    data = json.loads(text)
    for dotted, value in overrides.items():
        node = data.setdefault("strategy", {})
        *parents, leaf = dotted.removeprefix("strategy.").split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    merged = json.dumps(data, indent=2, sort_keys=True)
    parse_bot_config(bot, merged, file=file)
    return merged


def build_strategy(bot: str, config: Any) -> Strategy:
    """The bot's strategy for `config`; StrategyNotImplemented when it does not exist yet."""
    if bot not in paths.BOT_NAMES:
        raise StrategyNotImplemented(f"unknown bot {bot!r} (bots: {', '.join(paths.BOT_NAMES)})")
    strategy: Strategy = bot_strategy_factory(bot)(config, EventCalendar())
    return strategy


def market_days(history: DailyHistory, seed: int, start: date, end: date,
                skipped: dict[str, int]) -> Iterator[MarketDay]:  # fmt: skip
    """The days of `history` in start..end (its real 1-minute bars, else the bridge); days
    without a VIX level are counted in `skipped` (the model prices options off VIX)."""
    previous: deque[DailyBar] = deque(history.before(start, PREVIOUS_BARS), PREVIOUS_BARS)
    nasdaq_previous = deque(history.nasdaq_before(start, PREVIOUS_BARS), PREVIOUS_BARS)
    for bar in history.between(start, end):
        before, nasdaq_before = tuple(previous), tuple(nasdaq_previous)
        previous.append(bar)
        nasdaq_bar = history.nasdaq_on(bar.day)
        if nasdaq_bar is not None:
            nasdaq_previous.append(nasdaq_bar)
        nyse = session(bar.day, "nyse")
        if nyse is None:
            skipped["not a trading day"] = skipped.get("not a trading day", 0) + 1
            continue
        vix = history.vix_before(bar.day)
        if vix is None:
            skipped["no VIX data"] = skipped.get("no VIX data", 0) + 1
            continue
        minutes = int((nyse.close - nyse.open).total_seconds() // 60)
        spx = _day_ticks(seed, bar, history.minute_bars, minutes, SPX_STREAM)
        nasdaq = None if nasdaq_bar is None else _day_ticks(
            seed, nasdaq_bar, history.nasdaq_minute_bars, minutes, NASDAQ_STREAM)  # fmt: skip
        yield MarketDay(spx, vix, before, nasdaq, nasdaq_before)


def _day_ticks(seed: int, bar: DailyBar, real: Mapping[date, Any], minutes: int,
               stream: int) -> DayTicks:  # fmt: skip
    """The day's real 1-minute bars when there are, else the seeded bridge through `bar`."""
    bars = real.get(bar.day)
    if bars is not None:
        return minute_bar_day(bar.day, bars)
    return bridged_day(seed, bar, minutes, stream)


def run_backtest(
    spec: BacktestSpec, history: DailyHistory, *, progress: Progress | None = None,
    reference: bool = False, wake_hints: bool = True,
) -> tuple[BacktestEngine, BacktestResult]:
    """Run `spec` over `history`; returns the engine (its journal open: `close()` it) and the
    result. `reference`: the engine without its shortcuts; `wake_hints=False`: without the
    strategy's wake hints (see `BacktestEngine`). Raises
    ConfigError, StrategyNotImplemented."""
    config = parse_bot_config(spec.bot, spec.config_text, file=Path(spec.config_file))
    strategy = build_strategy(spec.bot, config)
    engine = BacktestEngine(strategy=strategy, config=config, seed=spec.seed,
                            missing_events=spec.missing_events,
                            slippage_ticks=spec.slippage_ticks, reference=reference,
                            wake_hints=wake_hints)  # fmt: skip
    skipped: dict[str, int] = {}
    result = engine.run(market_days(history, spec.seed, spec.start, spec.end, skipped), progress)
    for why, count in skipped.items():
        result.skipped[why] = result.skipped.get(why, 0) + count
    return engine, result
