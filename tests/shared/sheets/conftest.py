"""Fixtures: the fake Sheets API behind `responses`, a real journal file, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from google.oauth2.credentials import Credentials

from shared.clock import ManualClock
from shared.journal import Journal
from shared.sheets.client import GspreadBackend
from tests.shared.sheets.fake_sheets import TOKEN, FakeSheets

BOT = "iron_fly_0dte"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 New York


@pytest.fixture
def fake() -> Iterator[FakeSheets]:
    sheets = FakeSheets()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sheets.install(mock)
        yield sheets


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / f"{BOT}.sqlite"


@pytest.fixture
def journal(journal_path: Path, clock: ManualClock) -> Iterator[Journal]:
    with Journal.open(journal_path, clock=clock) as opened:
        yield opened


def open_backend(fake: FakeSheets) -> GspreadBackend:
    """The real gspread client, authorized with a bearer token the fake accepts."""
    return GspreadBackend.open(Credentials(token=TOKEN), fake.title)
