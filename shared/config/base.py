"""The strict pydantic base every config section inherits, and the small value types they share."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

# US equity and index options regular session, America/New_York.
SESSION_OPEN_ET = time(9, 30)
SESSION_CLOSE_ET = time(16, 0)
# NYSE early-close days end at 13:00 ET (SPX options at 13:15): the earliest possible close.
EARLY_CLOSE_ET = time(13, 0)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable, types are
    strict (no "5" for 5, no "true" for true), and NaN/Infinity are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _session_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a plain HH:MM time; every config time is America/New_York")
    if not SESSION_OPEN_ET <= value <= SESSION_CLOSE_ET:
        raise ValueError("must be within the regular session 09:30-16:00 ET")
    return value


# A wall-clock time "HH:MM" in America/New_York, inside the 09:30-16:00 regular session.
SessionTimeET = Annotated[time, AfterValidator(_session_time)]

# A Google Secret Manager secret id (also used as the key in env and file stores).
SecretName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,255}$")]

# Free text such as a spreadsheet title.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


def minutes_between(start: time, end: time) -> int:
    """Whole minutes from `start` to `end` on the same day (negative when `end` is earlier)."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
