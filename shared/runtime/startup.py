"""Starting a bot: config -> lock -> clock -> broker -> journal -> breaker -> runtime.

Used by `calypso run BOT` and `python -m bots.BOT` alike. Exit codes: 0 clean stop (SIGTERM,
SIGINT), 1 the loop failed too often or a fatal runtime error, 2 bad config, bad arguments or
strategy not implemented, 3 another instance of the bot is running, 4 start-up failed (broker,
token, journal). In `local` mode `CALYPSO_TEST_STRATEGY=probe` swaps in the probe strategy.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared import paths
from shared.alerts.token_watch import watch_bot_refreshes
from shared.alerts.worker import build_alerts
from shared.broker import Broker
from shared.brokers.dry_run import DryRunBroker
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import CircuitBreaker
from shared.clock import Clock, WallClock
from shared.config.errors import ConfigError
from shared.config_loader import LoadedConfig, find_config_path, load_bot_config
from shared.domain import Position, PutCall
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.execution.recorder import net_by_uic
from shared.external_price_feed import vix_fallback_for
from shared.instance_lock import InstanceAlreadyRunning, InstanceLock
from shared.journal import Journal, JournalError
from shared.journal.store import existing_journal
from shared.logger_service import configure_logging, kv
from shared.runtime.crash import crash_hook
from shared.runtime.secret_checks import SAXO_ENVIRONMENTS, saxo_credential_problems
from shared.runtime.signals import StopFlag, install_handlers
from shared.runtime.sim_clock import SimulatorClock, SimulatorClockError
from shared.runtime.strategy_loader import StrategyFactory, StrategyNotImplemented
from shared.saxo_client.credentials import CredentialsError
from shared.saxo_client.rate_limiter import RateLimits
from shared.sheets.mirror import build_mirror
from shared.strategy_contract import Strategy

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_LOCKED, EXIT_STARTUP = 0, 1, 2, 3, 4
TEST_STRATEGY_ENV = "CALYPSO_TEST_STRATEGY"



def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by `calypso run BOT` and `python -m bots.BOT`."""
    parser.add_argument("--env", choices=("live", "sim", "local"), help="override bot.environment")
    parser.add_argument("--dry-run", action="store_true", help="fill orders locally (simulated)")
    parser.add_argument("--config", type=Path, help="config file (default: the bot's config)")
    parser.add_argument("--sim-url", help="simulator URL for --env local (else CALYPSO_SIM_URL)")


def run_bot(bot: str, factory: StrategyFactory, args: argparse.Namespace) -> int:
    """Run `bot` until stopped; returns the exit code (see the module docstring).

    Every start-up failure is one line on stderr naming the problem and the path or key, with
    its documented exit code; no file is changed by a failed start."""
    try:
        paths.prepare_home(bot)
    except paths.HomeDirError as exc:
        print(f"calypso run {bot}: start-up failed: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    configure_logging(bot)
    path = find_config_path(bot, args.config)
    try:
        loaded = _load_config(bot, path, args.env)
    except ConfigError as exc:
        print(f"calypso run {bot}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config = loaded.config
    configure_logging(bot, level=config.logging.level)
    env = args.env or config.bot.environment
    dry_run = bool(args.dry_run or config.bot.dry_run)
    journal_file = _journal_file(bot, dry_run)
    try:
        existing_journal(journal_file)
    except JournalError as exc:
        print(f"calypso run {bot}: start-up failed: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    calendar = EventCalendar()
    try:
        strategy = _strategy(bot, env, factory, config, calendar)
    except StrategyNotImplemented as exc:
        print(f"calypso run {bot}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        lock = InstanceLock(bot).acquire()
    except InstanceAlreadyRunning as exc:
        print(f"calypso run {bot}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    stop = StopFlag()
    install_handlers(stop)
    try:
        return _run_locked(bot, strategy, config, env, dry_run, args.sim_url, stop, loaded=loaded,
                           calendar=calendar)  # fmt: skip
    finally:
        lock.release()


def _load_config(bot: str, path: Path, env_override: str | None) -> LoadedConfig:
    """The validated config with its secrets resolved and parsed for live and sim. Raises
    ConfigError (the example config outside local mode, a missing or malformed secret)."""
    loaded = load_bot_config(bot, path)
    env = env_override or loaded.config.bot.environment
    if loaded.is_example and env != "local":
        operator_file = paths.bot_config_path(bot)
        raise ConfigError.single(
            operator_file,
            f"missing: the shipped example is for --env local only; for {env}, create it "
            f"(cp {path} {operator_file}), then edit and check it (calypso config check {bot})",
        )
    if env not in SAXO_ENVIRONMENTS:
        return loaded
    from shared import secret_manager

    try:
        store = secret_manager.default_secret_store()
    except secret_manager.SecretStoreError as exc:
        raise ConfigError.single(path, f"secret store unavailable: {exc}") from None
    loaded = load_bot_config(bot, path, secrets=store, environment=env)
    problems = saxo_credential_problems(loaded, env)
    if problems:
        raise ConfigError(problems)
    return loaded


def client_rate_limits(env: str) -> RateLimits | None:
    """Client-side pacing for `env`: off for `local` (the demo and test simulators run without
    rate limits on an accelerated clock, where 115 requests per REAL minute would stall a bot
    for simulated minutes; a 429 is still waited out by the transport); None (the client's
    default, Saxo's real limits) for `sim` and `live`."""
    return RateLimits(enabled=False) if env == "local" else None


def _run_locked(
    bot: str,
    strategy: Strategy,
    config: Any,
    env: str,
    dry_run: bool,
    sim_url: str | None,
    stop: StopFlag,
    *,
    loaded: LoadedConfig | None = None,
    calendar: EventCalendar | None = None,
) -> int:
    """Build and run the runtime. `calendar` is the strategy's own: the runtime re-reads its
    operator overlay each trading day, so an import reaches the strategy without a restart."""
    from shared.bot_runtime import BotRuntime
    from shared.saxo_client.client import build_client
    from shared.saxo_client.environments import resolve_sim_url

    speed: Callable[[], float] = _real_time
    try:
        clock: Clock = WallClock()
        if env == "local":
            sim_url = resolve_sim_url(sim_url)
            sim_clock = SimulatorClock(sim_url)
            clock, speed = sim_clock, lambda: sim_clock.speed  # follows speed changes
            _ensure_local_login(sim_url)
        client = build_client(
            env, sim_url=sim_url, clock=clock, rate_limits=client_rate_limits(env)
        )
    except CredentialsError as exc:
        print(f"calypso run {bot}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SimulatorClockError, OSError, RuntimeError) as exc:
        logger.critical(kv("startup_failed", bot=bot, env=env, error=exc))
        print(f"calypso run {bot}: start-up failed: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    journal_file = _journal_file(bot, dry_run)
    try:
        journal = Journal.open(journal_file, clock=clock)
    except (OSError, RuntimeError) as exc:
        client.close()
        logger.critical(kv("startup_failed", bot=bot, env=env, error=exc))
        print(f"calypso run {bot}: start-up failed: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    broker: Broker = SaxoBroker(client)
    if dry_run:
        dry = DryRunBroker(
            broker,
            clock=clock,
            commission_per_contract_usd=config.execution.assumed_commission_per_contract_usd,
        )
        dry.seed_positions(_journal_positions(journal))
        broker = dry
    breaker = CircuitBreaker(
        bot, config.circuit_breaker.breaker_settings(), clock=clock, store=journal
    )
    logger.info(kv("bot_starting", bot=bot, env=env, dry_run=dry_run, pid=os.getpid()))
    # The Sheets mirror of this journal (off, with one log line, without credentials).
    mirror = None
    if loaded is not None:
        mirror = build_mirror(loaded, clock=clock, journal_path=journal_file)
    alerts = build_alerts(config.alerts, bot=bot, clock=clock, journal_path=journal_file)
    if alerts is not None:  # a failed token refresh alerts from this process too
        watch_bot_refreshes(client.transport.tokens, alerts, bot=bot, journal_path=journal_file,
                            clock=clock)  # fmt: skip
    runtime = BotRuntime(
        bot=bot,
        strategy=strategy,
        broker=broker,
        journal=journal,
        clock=clock,
        breaker=breaker,
        loop=config.loop,
        market_data=config.market_data,
        execution=ExecutionSettings.from_section(config.execution),
        calendar=calendar if calendar is not None else EventCalendar(),
        crash=crash_hook(env),
        stop=stop,
        clock_speed=speed,
        mirror=mirror,
        environment=f"{env} dry-run" if dry_run else env,
        vix_fallback=vix_fallback_for(getattr(config, "strategy", None), clock=clock),
        alerts=alerts,
    )
    try:
        return runtime.run()
    except Exception as exc:
        logger.critical(kv("runtime_failed", bot=bot, error=exc), exc_info=True)
        return EXIT_ERRORS
    finally:
        journal.close()
        client.close()


def _journal_file(bot: str, dry_run: bool) -> Path:
    """The bot's journal; dry runs keep their own beside it."""
    journal_file = paths.journal_path(bot)
    return journal_file.with_name(f"{bot}.dry_run.sqlite") if dry_run else journal_file


def _strategy(
    bot: str, env: str, factory: StrategyFactory, config: Any, calendar: EventCalendar
) -> Strategy:
    if os.environ.get(TEST_STRATEGY_ENV) == "probe":
        if env != "local":
            raise StrategyNotImplemented(f"{TEST_STRATEGY_ENV} is honoured only with --env local")
        from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy

        hold = float(os.environ.get("CALYPSO_PROBE_HOLD_MINUTES", "5"))
        return ProbeStrategy(bot=bot, settings=ProbeSettings(hold_minutes=hold))
    return factory(config, calendar)


def _ensure_local_login(sim_url: str) -> None:
    """In local mode log in to the simulator (auto-consent) when no usable token is cached."""
    from shared.saxo_client.client import token_coordinator
    from shared.saxo_client.credentials import LOCAL_CREDENTIALS
    from shared.saxo_client.environments import environment
    from shared.saxo_client.errors import SaxoError
    from shared.saxo_client.login import login
    from shared.saxo_client.oauth import OAuthClient

    coordinator = token_coordinator("local", sim_url=sim_url)
    try:
        coordinator.access_token()
        return
    except SaxoError:
        pass
    oauth = OAuthClient(
        env=environment("local", sim_url=sim_url), credentials=LOCAL_CREDENTIALS, clock=WallClock()
    )
    tokens = login(oauth, redirect_uri="http://127.0.0.1:0/callback", auto_consent=True)
    coordinator.store(tokens)
    logger.info(kv("local_login_done", sim_url=sim_url))


def _journal_positions(journal: Journal) -> list[Position]:
    """Positions implied by the open trades' simulated fills (seeds the dry-run broker)."""
    # The intents' payloads name each uic's asset type and option contract (fills do not).
    asset_types: dict[int, str] = {}
    contracts: dict[int, dict[str, Any]] = {}
    for intent in journal.intents():
        uic, asset_type = intent.payload.get("uic"), intent.payload.get("asset_type")
        if uic is not None and asset_type:
            asset_types[int(uic)] = str(asset_type)
        if uic is not None and intent.payload.get("expiry"):
            contracts[int(uic)] = intent.payload
    positions: list[Position] = []
    for trade in journal.open_trades():
        for uic, quantity in net_by_uic(trade).items():
            asset_type = asset_types.get(uic, "StockIndexOption")
            contract = contracts.get(uic, {})
            positions.append(
                Position(f"dry-{uic}", uic, asset_type, Decimal(quantity), open_price=None,
                         strike=_decimal_or_none(contract.get("strike")),
                         expiry=_date_or_none(contract.get("expiry")),
                         put_call=_put_call_or_none(contract.get("put_call")))
            )  # fmt: skip
    return positions


def _decimal_or_none(text: Any) -> Decimal | None:
    return None if text in (None, "None") else Decimal(str(text))


def _date_or_none(text: Any) -> date | None:
    return None if text is None else date.fromisoformat(str(text))


def _put_call_or_none(text: Any) -> PutCall | None:
    return None if text is None else PutCall(str(text))


def main_for(bot: str, factory: StrategyFactory, argv: Sequence[str] | None = None) -> int:
    """`python -m bots.BOT [options]`: the same as `calypso run BOT [options]`."""
    parser = argparse.ArgumentParser(prog=f"python -m bots.{bot}", description=f"Run {bot}.")
    add_run_arguments(parser)
    return run_bot(bot, factory, parser.parse_args(argv))


def _real_time() -> float:
    """Clock speed of the wall clock: one second per second."""
    return 1.0
