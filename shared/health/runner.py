"""Run every health check for a set of bots and for the machine, in a fixed order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shared.clock import Clock
from shared.event_calendar import EventCalendar
from shared.health import bot_checks, system_checks
from shared.health.probes import SystemProbes
from shared.health.service import service_state
from shared.health.verdict import Verdict, all_ok
from shared.logger_service import kv

logger = logging.getLogger(__name__)


def run_health(
    *,
    home: Path,
    bots: Sequence[str],
    clock: Clock,
    probes: SystemProbes,
    calendar: EventCalendar | None = None,
) -> list[Verdict]:
    """All verdicts: per bot (service, log freshness, memory, journal, recent errors), then the
    machine (disk, token cache, market-hours and event-calendar horizons).

    `clock` gives now (UTC); `probes` are the only way to systemd, /proc and the disk. A check
    that raises unexpectedly becomes a failed verdict naming the exception, so one broken
    check never hides the others. Logs one `health_summary` line (WARNING when any failed).
    """
    now = clock.now()
    verdicts: list[Verdict] = []
    for bot in bots:
        service = service_state(bot, home=home, probe=probes.service)
        verdicts.append(_guarded("service_running", bot, bot_checks.check_service_running, service))
        verdicts.append(
            _guarded("log_fresh", bot, bot_checks.check_log_fresh, bot, home=home, now=now)
        )
        verdicts.append(_guarded("memory", bot, bot_checks.check_memory, service, probes.process))
        verdicts.append(
            _guarded("journal_writable", bot, bot_checks.check_journal_writable, bot, home=home)
        )
        verdicts.append(
            _guarded("recent_errors", bot, bot_checks.check_recent_errors, bot, home=home, now=now)
        )
    verdicts.append(
        _guarded("disk_space", None, system_checks.check_disk_space, home=home, probe=probes.disk)
    )
    verdicts.append(
        _guarded(
            "token_cache", None, system_checks.check_token_cache, home=home, bots=bots, now=now
        )
    )
    verdicts.append(
        _guarded(
            "market_hours_horizon", None, system_checks.check_market_hours_horizon, clock=clock
        )
    )
    verdicts.append(
        _guarded(
            "event_calendar_horizon",
            None,
            system_checks.check_event_calendar_horizon,
            clock=clock,
            calendar=calendar,
        )
    )
    failed = [_label(v) for v in verdicts if not v.ok]
    for verdict in verdicts:
        if verdict.ok and verdict.warning:
            logger.warning(kv("health_warning", check=_label(verdict), reason=verdict.reason))
    if all_ok(verdicts):
        logger.info(kv("health_summary", ok=True, checks=len(verdicts)))
    else:
        logger.warning(
            kv("health_summary", ok=False, checks=len(verdicts), failed=",".join(failed))
        )
    return verdicts


def _label(verdict: Verdict) -> str:
    return verdict.name if verdict.bot is None else f"{verdict.name}:{verdict.bot}"


def _guarded(
    name: str, bot: str | None, check: Callable[..., Verdict], *args: Any, **kwargs: Any
) -> Verdict:
    try:
        return check(*args, **kwargs)
    except Exception as exc:  # a broken check must not hide the others: report it as failed
        logger.exception(kv("health_check_crashed", check=name, bot=bot))
        return Verdict(name, False, f"check crashed: {type(exc).__name__}: {exc}", bot, {})
