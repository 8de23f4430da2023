"""Fixtures for streaming protocol tests (fake-state harness over real loopback sockets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.streaming.harness import StreamHarness


@pytest.fixture
def harness() -> Iterator[StreamHarness]:
    h = StreamHarness()
    yield h
    h.stop()
