"""Machine-wide health checks: free disk, the shared Saxo token cache, calendar data horizons."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from shared import market_hours, paths
from shared.clock import Clock
from shared.event_calendar import EVENT_KINDS, EventCalendar, EventKind
from shared.health.probes import DiskProbe
from shared.health.verdict import (
    DISK_MIN_FREE_BYTES,
    EVENT_DATA_FAIL_DAYS,
    EVENT_DATA_WARN_DAYS,
    GIB,
    HORIZON_MIN_DAYS,
    Verdict,
    describe_age,
    failed,
    passed,
    warned,
)
from shared.token_coordinator import TokenCacheError, cache_mode_problem, read_cache_environments

SAXO_ENVS: Final = ("live", "sim")
SAXO_ENV_VAR: Final = "CALYPSO_SAXO_ENV"


def check_disk_space(*, home: Path, probe: DiskProbe) -> Verdict:
    """At least DISK_MIN_FREE_BYTES free on the filesystem holding CALYPSO_HOME."""
    name = "disk_space"
    if not home.is_dir():
        return failed(name, f"CALYPSO_HOME {home} does not exist", details={"path": str(home)})
    try:
        free = probe.free_bytes(home)
    except OSError as exc:
        return failed(
            name,
            f"cannot measure free space on {home}: {exc.strerror}",
            details={"path": str(home)},
        )
    details = {
        "path": str(home),
        "free_gib": round(free / GIB, 2),
        "min_free_gib": DISK_MIN_FREE_BYTES / GIB,
    }
    if free >= DISK_MIN_FREE_BYTES:
        return passed(name, f"{free / GIB:.1f} GiB free on {home}", details=details)
    return failed(
        name,
        f"only {free / GIB:.2f} GiB free on {home} (minimum {DISK_MIN_FREE_BYTES / GIB:.0f} GiB)",
        details=details,
    )


def configured_environment(bot: str, home: Path) -> str | None:
    """`bot.environment` of the operator's config.json, or None when absent or unreadable.

    Only this one key is read (no validation: `calypso config check` does that)."""
    try:
        document = json.loads(paths.bot_config_path(bot, home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    section = document.get("bot") if isinstance(document, dict) else None
    env = section.get("environment") if isinstance(section, dict) else None
    return env if isinstance(env, str) else None


def token_environments(bots: Iterable[str], home: Path) -> tuple[set[str], bool]:
    """(Saxo environments that need a token, whether any source named an environment).

    Sources: each bot's config.json and $CALYPSO_SAXO_ENV (the token keeper's environment).
    """
    named = [configured_environment(bot, home) for bot in bots]
    keeper = os.environ.get(SAXO_ENV_VAR, "").strip() or None
    named.append(keeper)
    known = [env for env in named if env is not None]
    return {env for env in known if env in SAXO_ENVS}, bool(known)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _entry_problem(env: str, entry: object, now: datetime, facts: dict[str, Any]) -> str | None:
    """Why `env`'s cache entry is not usable (None when it is); fills `facts` (never tokens)."""
    login = f"run `calypso auth login --env {env}`"
    if not isinstance(entry, dict):
        return f"no {env} token in the cache: {login}"
    access_expires = _parse_time(entry.get("access_expires_at"))
    refresh_expires = _parse_time(entry.get("refresh_expires_at"))
    issued = _parse_time(entry.get("issued_at"))
    if access_expires is None or issued is None:
        return f"{env} cache entry lacks access_expires_at or issued_at: {login}"
    facts["access_token_age_s"] = round((now - issued).total_seconds())
    facts["access_expires_in_s"] = round((access_expires - now).total_seconds())
    facts["refresh_expires_at"] = None if refresh_expires is None else refresh_expires.isoformat()
    if not entry.get("refresh_token"):
        return f"{env} token has no refresh token (cannot be renewed): {login}"
    if refresh_expires is not None and refresh_expires <= now:
        ago = describe_age(now - refresh_expires)
        return f"{env} refresh token expired {ago} ago: {login}"
    if access_expires <= now:
        ago = describe_age(now - access_expires)
        return (
            f"{env} access token expired {ago} ago and nothing renewed it: "
            "is calypso-token-keeper running? (`systemctl status calypso-token-keeper`)"
        )
    return None


def check_token_cache(*, home: Path, bots: Iterable[str], now: datetime) -> Verdict:
    """The shared token cache holds, for every Saxo environment in use, a refresh token that
    has not expired and an access token that has not expired (the keeper renews it ~2 min
    before expiry). The cache file must be private (no group/other access). Token values are
    never read into the verdict."""
    name = "token_cache"
    path = paths.token_cache_path(home)
    wanted, named = token_environments(bots, home)
    if named and not wanted:
        return passed(
            name, "no bot uses Saxo live or sim: no token needed", details={"path": str(path)}
        )
    try:
        path.stat()
        environments = read_cache_environments(path)
    except FileNotFoundError:
        env = "live|sim" if not wanted else "|".join(sorted(wanted))
        return failed(
            name,
            f"no token cache at {path}: run `calypso auth login --env {env}`",
            details={"path": str(path)},
        )
    except (OSError, TokenCacheError) as exc:
        return failed(name, str(exc), details={"path": str(path)})
    if not wanted:
        wanted = {env for env in environments if env in SAXO_ENVS}
        if not wanted:
            return failed(
                name,
                f"token cache {path} has no live or sim token: run `calypso auth login`",
                details={"path": str(path)},
            )
    problems: list[str] = []
    facts: dict[str, dict[str, Any]] = {}
    for env in sorted(wanted):
        facts[env] = {}
        problem = _entry_problem(env, environments.get(env), now, facts[env])
        if problem:
            problems.append(problem)
    mode_problem = cache_mode_problem(path)
    if mode_problem:
        problems.append(mode_problem)
    details = {"path": str(path), "environments": facts}
    if problems:
        return failed(name, "; ".join(problems), details=details)
    parts = [
        f"{env}: access token {describe_age_s(facts[env]['access_token_age_s'])} old"
        for env in sorted(wanted)
    ]
    return passed(name, "; ".join(parts), details=details)


def describe_age_s(seconds: int) -> str:
    return describe_age(timedelta(seconds=seconds))


def _new_york_today(clock: Clock) -> date:
    return clock.now().astimezone(market_hours.NY).date()


def check_market_hours_horizon(*, clock: Clock) -> Verdict:
    """The verified trading-calendar data reaches at least HORIZON_MIN_DAYS past today (NY)."""
    name = "market_hours_horizon"
    today = _new_york_today(clock)
    horizon = market_hours.known_horizon(clock=clock)
    days_left = (horizon - today).days
    details = {"horizon": horizon.isoformat(), "days_left": days_left, "min_days": HORIZON_MIN_DAYS}
    if days_left >= HORIZON_MIN_DAYS:
        return passed(
            name, f"market hours verified through {horizon} ({days_left} days)", details=details
        )
    return failed(
        name,
        f"market hours verified only through {horizon} ({days_left} days left): "
        "verify the next year and raise VERIFIED_THROUGH_YEAR in shared/market_hours.py",
        details=details,
    )


def check_event_calendar_horizon(
    *, clock: Clock, calendar: EventCalendar | None = None
) -> Verdict:
    """Every event kind (FOMC, CPI, PPI, NFP, earnings) has data, packaged or in the operator
    overlay, without a gap from today (NY) on: fails when a kind runs out in fewer than
    EVENT_DATA_FAIL_DAYS days (or has no data for today) or the overlay is unreadable; warns
    (passes) under EVENT_DATA_WARN_DAYS. Uncovered days are treated as event days by the
    bots, so running out of data means standing aside on every day."""
    name = "event_calendar_horizon"
    today = _new_york_today(clock)
    events = calendar or EventCalendar()
    ends = {kind: events.covered_through(kind, today) for kind in EVENT_KINDS}
    days_left = {kind: -1 if end is None else (end - today).days for kind, end in ends.items()}
    details = {
        "covered_through": {k: None if end is None else end.isoformat() for k, end in ends.items()},
        "days_left": days_left,
        "warn_days": EVENT_DATA_WARN_DAYS,
        "fail_days": EVENT_DATA_FAIL_DAYS,
        "overlay": None if events.overlay_file is None else str(events.overlay_file),
    }
    fix = (
        "add the schedule: `calypso calendar update --year YEAR` or "
        "`calypso calendar import FILE --kind KIND --year YEAR`"
    )
    short = [k for k in EVENT_KINDS if days_left[k] < EVENT_DATA_FAIL_DAYS]
    near = [k for k in EVENT_KINDS if days_left[k] < EVENT_DATA_WARN_DAYS]
    if events.overlay_problem:
        return failed(name, f"{events.overlay_problem}: fix or remove it", details=details)
    if short:
        return failed(name, f"event data runs out: {_ends_text(short, ends, days_left)}; {fix}",
                      details=details)  # fmt: skip
    if near:
        text = _ends_text(near, ends, days_left)
        return warned(name, f"event data runs out soon: {text}; {fix}", details=details)
    first = min(end for end in ends.values() if end is not None)
    return passed(name, f"event data covers through at least {first}", details=details)


def _ends_text(
    kinds: Iterable[EventKind], ends: dict[EventKind, date | None], days_left: dict[EventKind, int]
) -> str:
    parts = []
    for kind in kinds:
        end = ends[kind]
        if end is None:
            parts.append(f"{kind} has no data for this year")
        else:
            parts.append(f"{kind} ends {end} ({days_left[kind]} days)")
    return ", ".join(parts)
