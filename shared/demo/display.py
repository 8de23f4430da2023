"""How the demo shows progress: a rich Live table on a terminal, plain lines otherwise (CI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live

from shared.demo.status import BotView, MarketView, status_line, status_table

PLAIN_EVERY_S = 10.0  # a plain line at least this often (real seconds), and on every change


class Reporter(Protocol):
    """What the orchestrator calls while the demo runs."""

    def update(self, market: MarketView, bots: Sequence[BotView], *, now_s: float) -> None: ...

    def event(self, text: str) -> None: ...

    def close(self) -> None: ...


class LiveReporter:
    """A rich Live table redrawn on every update; events print above it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, market: MarketView, bots: Sequence[BotView], *, now_s: float) -> None:
        self._live.update(status_table(market, bots, note="Ctrl-C stops the demo"), refresh=True)

    def event(self, text: str) -> None:
        self._live.console.print(text, highlight=False, markup=False)

    def close(self) -> None:
        self._live.stop()


class PlainReporter:
    """One line per change of any bot (state, position, trades, process), and a line every
    PLAIN_EVERY_S real seconds; `now_s` is the caller's real monotonic time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last_bots: tuple[str, ...] = ()
        self._last_at = float("-inf")

    def update(self, market: MarketView, bots: Sequence[BotView], *, now_s: float) -> None:
        lines = tuple(view.line() for view in bots)
        if lines == self._last_bots and now_s - self._last_at < PLAIN_EVERY_S:
            return
        self._last_bots, self._last_at = lines, now_s
        self._write(status_line(market, bots))

    def event(self, text: str) -> None:
        self._write(f"demo: {text}")

    def close(self) -> None:
        self._stream.flush()

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()
