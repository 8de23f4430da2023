"""Keeps docs/PERFORMANCE.md: one marked section per benchmark, rewritten in place on each run."""

from __future__ import annotations

from pathlib import Path

INTRO = """# CALYPSO performance

Measured numbers, one section per benchmark. Each section names the command that produced it,
the machine, the date, the results, the target and a verdict. Re-running a benchmark with
`--write` rewrites only its own section (between its `BEGIN`/`END` markers); add a new
benchmark by giving it a new section key (see `benchmarks/perf_doc.py`).
"""


def write_section(path: Path, key: str, body: str) -> None:
    """Replace (or append) the section marked `key` in `path`, creating the file if needed."""
    begin, end = f"<!-- BEGIN {key} -->", f"<!-- END {key} -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else INTRO
    start = text.find(begin)
    stop = text.find(end, start + len(begin)) if start >= 0 else -1
    if start >= 0 and stop >= 0:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
