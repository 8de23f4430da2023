"""The `alerts` section of a bot's config: destinations by secret name, severities, grouping."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from shared.alerts.model import Severity, SeverityName
from shared.config.base import SecretName, StrictModel

DestinationName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class AlertDestination(StrictModel):
    """One place alerts go. Its apprise URL (`tgram://TOKEN/CHAT`, `mailtos://...`) holds a
    token or a password, so the config names the secret that holds it, never the URL."""

    name: DestinationName = Field(
        description="Short name shown in `calypso alerts` output and logs (e.g. telegram)."
    )
    url_secret: SecretName = Field(
        description="Secret holding the destination's apprise URL (Secret Manager, or the "
        "environment variable CALYPSO_SECRET_<NAME> for local use)."
    )
    min_severity: SeverityName = Field(
        default="warning",
        description="Lowest severity sent here: info (trades, daily summary), warning, critical.",
    )

    @property
    def threshold(self) -> Severity:
        return Severity.named(self.min_severity)


class AlertsSection(StrictModel):
    """Alerts to the operator (never block trading: queued in the journal, sent by a thread)."""

    enabled: bool = Field(default=False, description="Send alerts to the destinations below.")
    destinations: tuple[AlertDestination, ...] = Field(
        default=(), max_length=10, description="Where alerts go (at least one when enabled)."
    )
    repeat_window_minutes: int = Field(
        default=30,
        ge=1,
        le=1440,
        description="Repeats of the same event (same kind of safety event, same unit failure) "
        "within this many minutes are sent once; the journal still records each.",
    )

    @model_validator(mode="after")
    def _destinations_consistent(self) -> AlertsSection:
        names = [destination.name for destination in self.destinations]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"destination names must be unique; repeated: {', '.join(duplicates)}")
        if self.enabled and not self.destinations:
            raise ValueError("enabled is true but no destination is configured")
        return self

    @property
    def repeat_window_s(self) -> float:
        return self.repeat_window_minutes * 60.0
