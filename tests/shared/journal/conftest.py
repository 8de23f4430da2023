"""Fixtures for journal tests: a ManualClock and a real SQLite journal in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.clock import ManualClock
from shared.journal import Journal
from tests.shared.journal.factories import make_clock


@pytest.fixture
def clock() -> ManualClock:
    return make_clock()


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "iron_fly_0dte.sqlite"


@pytest.fixture
def journal(journal_path: Path, clock: ManualClock) -> Iterator[Journal]:
    opened = Journal.open(journal_path, clock=clock)
    yield opened
    opened.close()
