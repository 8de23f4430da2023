"""Where the demo writes under CALYPSO_HOME, and the guard that keeps it off real journals.

The demo's bots write their journals to `CALYPSO_HOME/data/<bot>.sqlite` and their logs to
`CALYPSO_HOME/logs/<bot>/`, so `calypso journal BOT` reads the demo's trades afterwards. A run
starts from empty journals (the simulator's account is new each run). A journal the demo did not
create is never touched: the demo refuses to start instead. Demo-created journals are listed in
`CALYPSO_HOME/data/demo_journals.json`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from shared import paths
from shared.logger_service import kv

logger = logging.getLogger(__name__)

MARKER_NAME = "demo_journals.json"
JOURNAL_SIDE_FILES = ("", "-wal", "-shm")


class DemoHomeError(RuntimeError):
    """CALYPSO_HOME holds something the demo must not overwrite (message names it)."""


@dataclass(frozen=True)
class DemoHome:
    """The demo's paths under `root` (CALYPSO_HOME)."""

    root: Path

    @property
    def marker(self) -> Path:
        return paths.data_dir(self.root) / MARKER_NAME

    def journal(self, bot: str) -> Path:
        return paths.journal_path(bot, self.root)

    def bot_log(self, bot: str) -> Path:
        """The bot's own log file (written by its logger)."""
        return paths.log_dir(bot, self.root) / "bot.log"

    def console_log(self, bot: str) -> Path:
        """Everything the bot process printed (stdout and stderr), for crash diagnosis."""
        return paths.log_dir(bot, self.root) / "demo_console.log"

    @property
    def demo_log(self) -> Path:
        """The demo's own log (orchestration and the in-process simulator)."""
        return paths.log_dir("demo", self.root) / "demo.log"

    def demo_journals(self) -> set[str]:
        """Bots whose journal under this home was created by the demo."""
        try:
            listed = json.loads(self.marker.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            raise DemoHomeError(f"cannot read {self.marker}: {exc}") from exc
        bots = listed.get("bots") if isinstance(listed, dict) else None
        if not isinstance(bots, list):
            raise DemoHomeError(f"{self.marker} is not a demo journal list")
        return {str(bot) for bot in bots}

    def prepare(self, bots: list[str]) -> None:
        """Make room for a fresh demo run of `bots`: remove their previous demo journals.

        Raises DemoHomeError, touching nothing, when any of their journals was not created by
        the demo (a real bot's journal).
        """
        ours = self.demo_journals()
        foreign = [bot for bot in bots if self.journal(bot).exists() and bot not in ours]
        if foreign:
            listed = ", ".join(str(self.journal(bot)) for bot in foreign)
            raise DemoHomeError(
                f"CALYPSO_HOME={self.root} already holds a journal the demo did not create "
                f"({listed}); run the demo in another home, e.g. "
                "`CALYPSO_HOME=/tmp/calypso-demo calypso demo`"
            )
        for bot in bots:
            for suffix in JOURNAL_SIDE_FILES:
                Path(f"{self.journal(bot)}{suffix}").unlink(missing_ok=True)
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        document = {"bots": sorted(ours | set(bots))}
        self.marker.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        for bot in bots:
            paths.log_dir(bot, self.root).mkdir(parents=True, exist_ok=True)
        self.demo_log.parent.mkdir(parents=True, exist_ok=True)
        logger.info(kv("demo_home_prepared", home=self.root, bots=",".join(bots)))
