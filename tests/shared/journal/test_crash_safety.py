"""Crash safety: a real process writing intent + state transactions is SIGKILLed mid-loop; the
journal must reopen cleanly, hold no half-written transaction, and keep every commit it reported."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from shared.journal import Journal
from shared.journal.schema import bundled_migrations
from tests.shared.journal.factories import BOT, make_clock

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from shared.clock import WallClock
    from shared.journal import Journal

    journal = Journal.open(Path(sys.argv[1]), clock=WallClock())
    stored = journal.load_state("iron_fly_0dte")
    i = 0 if stored is None else stored.payload["i"] + 1
    while True:
        request_id = f"r-{i}"
        with journal.transaction() as tx:
            tx.record_intent(request_id=request_id, bot="iron_fly_0dte", action="open",
                             payload={"i": i, "legs": ["a", "b", "c", "d"]})
            tx.save_state("iron_fly_0dte", "ENTERING", {"i": i, "request_id": request_id})
            tx.enqueue_outbox("intent", {"i": i}, request_id)
        print(i, flush=True)
        i += 1
    """
)


def _run_and_kill(script: Path, db: Path, *, commits: int) -> int:
    """Start the writer, SIGKILL it after it reported `commits` commits; returns the last seen."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    last = -1
    seen = 0
    deadline = time.monotonic() + 30
    while seen < commits and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        last = int(line)
        seen += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert seen == commits, "the writer did not make progress"
    return last


def test_sigkill_mid_loop_leaves_a_consistent_journal(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "data" / "iron_fly_0dte.sqlite"

    for round_number in range(3):
        last_reported = _run_and_kill(script, db, commits=40 + 7 * round_number)

        with sqlite3.connect(db) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with Journal.open(db, clock=make_clock()) as journal:  # migrations run again: no-op
            assert journal.schema_version() == len(bundled_migrations())
            state = journal.load_state(BOT)
            assert state is not None
            latest = state.payload["i"]
            # Every reported commit survived; nothing beyond the state was half written.
            assert latest >= last_reported
            intents = journal.intents_without_outcome()
            assert [intent.payload["i"] for intent in intents] == list(range(latest + 1))
            assert state.payload["request_id"] == intents[-1].request_id
            assert len(journal.outbox_pending(10_000)) == latest + 1
