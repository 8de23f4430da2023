"""The operator's event overlay, `CALYPSO_HOME/data/events_local.json`: event dates added without
a code release (by `calypso calendar import` / `update`), merged over the packaged event data.

One entry per (kind, year) holds the complete schedule of that kind in that year, as the import
claimed it; importing the same kind and year again replaces the entry (the packaged files are
never written). Days are US Eastern calendar dates. Kinds: `cpi`, `ppi`, `nfp`, `fomc` (every
meeting day; `decision` marks each meeting's last day) and `earnings` (one row per symbol).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from shared.private_file import write_json_atomically

ImportKind = Literal["cpi", "ppi", "nfp", "fomc", "earnings"]
IMPORT_KINDS: tuple[ImportKind, ...] = get_args(ImportKind)
OVERLAY_MODE = 0o644  # not a secret: every bot user must read it
DESCRIPTION = (
    "Operator event overlay: complete schedules per kind and year, written by "
    "`calypso calendar import`; merged over the packaged shared/data/events_*.json."
)


class OverlayError(ValueError):
    """The overlay file is unreadable or malformed; the message names the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverlayDay(_Strict):
    """One event day. `decision` (fomc only): the meeting's last day, the decision day."""

    date: date
    name: str
    symbol: str | None = None
    timing: Literal["before_open", "after_close"] | None = None
    decision: bool = False

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        if value is not None and (not value.isalnum() or value != value.upper()):
            raise ValueError(f"symbol {value!r} must be upper-case letters/digits")
        return value


class OverlayYear(_Strict):
    """The complete `kind` schedule of `year`, from `source`, imported at `imported_at` (UTC)."""

    kind: ImportKind
    year: int
    source: str
    imported_at: datetime
    days: tuple[OverlayDay, ...]

    @model_validator(mode="after")
    def _days_in_year_on_weekdays(self) -> OverlayYear:
        if not self.days:
            raise ValueError(f"{self.kind} {self.year}: no days")
        for day in self.days:
            if day.date.year != self.year or day.date.weekday() > 4:
                raise ValueError(
                    f"{self.kind} {self.year}: {day.date} is not a weekday of {self.year}"
                )
            if self.kind == "earnings" and (day.symbol is None or day.timing is None):
                raise ValueError(f"earnings {day.date}: symbol and timing are required")
        return self


class Overlay(_Strict):
    description: str = DESCRIPTION
    entries: tuple[OverlayYear, ...] = ()

    @model_validator(mode="after")
    def _one_entry_per_kind_and_year(self) -> Overlay:
        seen: set[tuple[str, int]] = set()
        for entry in self.entries:
            key = (entry.kind, entry.year)
            if key in seen:
                raise ValueError(f"{entry.kind} {entry.year} is listed twice")
            seen.add(key)
        return self

    def entry(self, kind: ImportKind, year: int) -> OverlayYear | None:
        return next((e for e in self.entries if (e.kind, e.year) == (kind, year)), None)

    def with_entry(self, new: OverlayYear) -> Overlay:
        """A copy with `new` replacing any entry of the same kind and year (sorted)."""
        kept = [e for e in self.entries if (e.kind, e.year) != (new.kind, new.year)]
        ordered = sorted([*kept, new], key=lambda e: (IMPORT_KINDS.index(e.kind), e.year))
        return Overlay(description=self.description, entries=tuple(ordered))


def load_overlay(path: Path) -> Overlay:
    """The overlay at `path`; an empty one when the file does not exist.

    Raises OverlayError (naming the file) when it cannot be read or is malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Overlay()
    except OSError as exc:
        raise OverlayError(f"cannot read event overlay {path}: {exc.strerror}") from exc
    try:
        return Overlay.model_validate_json(text)
    except ValidationError as exc:
        raise OverlayError(f"invalid event overlay {path}: {exc}") from exc


def save_overlay(path: Path, overlay: Overlay) -> None:
    """Write `overlay` to `path` atomically (temp file, fsync, rename; mode 0644)."""
    write_json_atomically(path, overlay.model_dump(mode="json"), mode=OVERLAY_MODE)
