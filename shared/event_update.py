"""Downloading published schedules for `calypso calendar update`: the configured iCalendar URLs.

Sources: `CALYPSO_HOME/config/calendar_sources.json` when present (`{"sources": [{"name",
"url", "kinds"}]}`), else DEFAULT_SOURCES (the BLS release calendar, for cpi, ppi and nfp). The
Fed publishes its FOMC schedule as a web page, not a feed: add an iCalendar URL with kind `fomc`
to the file when you have one, or import a file with `calypso calendar import --kind fomc`.
"""

from __future__ import annotations

from pathlib import Path

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.event_overlay import ImportKind

DOWNLOAD_TIMEOUT_S = 30.0
# bls.gov refuses requests without a descriptive User-Agent.
USER_AGENT = "calypso-calendar-update/1 (operator tool; schedule download)"
SOURCES_FILENAME = "calendar_sources.json"


class ScheduleSource(BaseModel):
    """One published schedule: an iCalendar URL and the kinds read from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str
    kinds: tuple[ImportKind, ...]


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[ScheduleSource, ...]


DEFAULT_SOURCES: tuple[ScheduleSource, ...] = (
    ScheduleSource(
        name="BLS release calendar",
        url="https://www.bls.gov/schedule/news_release/bls.ics",
        kinds=("cpi", "ppi", "nfp"),
    ),
)


class UpdateError(RuntimeError):
    """A source cannot be configured or downloaded; the message names the file or URL."""


def sources_path(home: Path) -> Path:
    """`CALYPSO_HOME/config/calendar_sources.json` (optional)."""
    return home / "config" / SOURCES_FILENAME


def load_sources(path: Path) -> tuple[ScheduleSource, ...]:
    """The sources listed in `path`, DEFAULT_SOURCES when it does not exist.

    Raises UpdateError naming the file when it is unreadable or malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DEFAULT_SOURCES
    except OSError as exc:
        raise UpdateError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return _SourcesFile.model_validate_json(text).sources
    except ValidationError as exc:
        raise UpdateError(f"invalid schedule sources file {path}: {exc}") from exc


def download(source: ScheduleSource, *, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """The body of `source.url` (HTTP 200). Raises UpdateError with the reason: no network or
    connection refused, timeout, or the HTTP status the server answered."""
    try:
        response = requests.get(
            source.url, timeout=timeout_s, headers={"User-Agent": USER_AGENT}
        )
    except requests.Timeout:
        raise UpdateError(
            f"{source.name}: no answer from {source.url} within {timeout_s:.0f} s"
        ) from None
    except requests.ConnectionError as exc:
        raise UpdateError(
            f"{source.name}: cannot connect to {source.url} (offline, or the connection was "
            f"refused: {type(exc).__name__}); download the file elsewhere and run "
            "`calypso calendar import FILE --kind KIND --year YEAR`"
        ) from None
    if response.status_code != 200:
        raise UpdateError(
            f"{source.name}: {source.url} answered HTTP {response.status_code}"
        )
    return response.content
