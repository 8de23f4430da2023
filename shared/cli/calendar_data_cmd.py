"""`calypso calendar import|update|coverage`: the operator's event dates.

`import FILE --kind K --year Y` reads an iCalendar file or a CSV of dates, validates every date
(`shared.event_import`), prints what it would add and writes `CALYPSO_HOME/data/events_local.json`
atomically (not with `--dry-run`). `update --year Y` downloads the configured schedule URLs
(`shared.event_update`) and imports each kind they carry, all or nothing. `coverage` lists per
kind the dates covered and where each comes from (packaged, overlay). Exit codes: 0 done, 1 a
date or download was refused (nothing written), 2 bad arguments or an unreadable file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shared import paths
from shared.clock import Clock, WallClock
from shared.event_calendar import EVENT_KINDS, KINDS_OF_IMPORT, EventCalendar
from shared.event_import import ImportPlan, ScheduleFileError, plan_import, read_schedule
from shared.event_overlay import (
    IMPORT_KINDS,
    ImportKind,
    Overlay,
    OverlayError,
    load_overlay,
    save_overlay,
)
from shared.event_update import UpdateError, download, load_sources, sources_path

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
_CLOCK: Clock = WallClock()  # the import time written to the overlay; tests swap it


def register(actions: Any) -> None:
    """Add `import`, `update` and `coverage` to the `calendar` actions."""
    imp = actions.add_parser(
        "import", help="add a year's schedule of one kind from an iCalendar or CSV file"
    )
    imp.add_argument("file", metavar="FILE", type=Path, help=".ics file, or CSV of dates")
    _kind_and_year(imp)
    imp.add_argument("--symbol", help="earnings from an iCalendar file: the company's symbol")
    imp.set_defaults(func=run_import)
    upd = actions.add_parser(
        "update", help="download the configured schedule URLs (BLS, ...) and import them"
    )
    upd.add_argument("--year", type=int, required=True, help="the year whose schedules to add")
    upd.add_argument("--kind", choices=IMPORT_KINDS, action="append", help="only this kind")
    upd.add_argument("--dry-run", action="store_true", help="show what would be added only")
    upd.add_argument("--allow-closed-days", action="store_true", help=argparse.SUPPRESS)
    upd.set_defaults(func=run_update)
    cov = actions.add_parser(
        "coverage", help="per kind: the dates covered and their source (packaged, overlay)"
    )
    cov.add_argument("--kind", choices=EVENT_KINDS, help="list this kind's dates one by one")
    cov.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    cov.set_defaults(func=run_coverage)


def _kind_and_year(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=IMPORT_KINDS, required=True, help="the event kind")
    parser.add_argument(
        "--year", type=int, required=True, help="the year whose complete schedule FILE holds"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would be added only")
    parser.add_argument(
        "--allow-closed-days",
        action="store_true",
        help="accept dates on weekday market holidays (e.g. payrolls on Good Friday)",
    )


# ----------------------------------------------------------------------------- import / update


def run_import(args: argparse.Namespace) -> int:
    overlay_file = paths.events_overlay_path()
    try:
        data = args.file.read_bytes()
        overlay = load_overlay(overlay_file)
        candidates = read_schedule(data, kind=args.kind, filename=args.file.name,
                                   symbol=args.symbol)  # fmt: skip
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE)
    except (OverlayError, ScheduleFileError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    digest = hashlib.sha256(data).hexdigest()[:12]
    plan = _plan(candidates, args, overlay, f"file {args.file.name} (sha256 {digest})",
                 from_feed=data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"))  # fmt: skip
    _print_plan(plan)
    if not plan.ok or plan.entry is None:
        return _fail(f"{args.kind} {args.year} not imported: fix the dates above", EXIT_REFUSED)
    if args.dry_run:
        print("dry run: nothing written")
        return EXIT_OK
    save_overlay(overlay_file, overlay.with_entry(plan.entry))
    print(f"written: {overlay_file}")
    return EXIT_OK


def run_update(args: argparse.Namespace) -> int:
    home = paths.calypso_home()
    overlay_file = paths.events_overlay_path(home)
    try:
        sources = load_sources(sources_path(home))
        overlay = load_overlay(overlay_file)
    except (UpdateError, OverlayError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    wanted = set(args.kind or IMPORT_KINDS)
    plans: list[ImportPlan] = []
    for source in sources:
        kinds = [k for k in source.kinds if k in wanted]
        if not kinds:
            continue
        try:
            data = download(source)
            for kind in kinds:
                candidates = read_schedule(data, kind=kind, filename=source.url)
                plans.append(_plan(candidates, args, overlay, f"{source.name} {source.url}",
                                   from_feed=True, kind=kind))  # fmt: skip
        except (UpdateError, ScheduleFileError) as exc:
            return _fail(f"{exc}; nothing written", EXIT_REFUSED)
    if not plans:
        return _fail(f"no configured source carries {', '.join(sorted(wanted))}", EXIT_USAGE)
    for plan in plans:
        _print_plan(plan)
    if not all(plan.ok for plan in plans):
        return _fail("update refused: nothing written", EXIT_REFUSED)
    if args.dry_run:
        print("dry run: nothing written")
        return EXIT_OK
    for plan in plans:
        if plan.entry is not None:
            overlay = overlay.with_entry(plan.entry)
    save_overlay(overlay_file, overlay)
    print(f"written: {overlay_file}")
    return EXIT_OK


def _plan(
    candidates: Sequence[Any],
    args: argparse.Namespace,
    overlay: Overlay,
    source: str,
    *,
    from_feed: bool,
    kind: ImportKind | None = None,
) -> ImportPlan:
    kind = kind or args.kind
    assert kind is not None
    packaged = EventCalendar(packaged_only=True)
    known = [e.day for k in KINDS_OF_IMPORT[kind] for e in packaged.listed(k, args.year)]
    return plan_import(
        candidates, kind=kind, year=args.year, source=source, now=_CLOCK.now(), overlay=overlay,
        known=known, from_feed=from_feed, allow_closed_days=args.allow_closed_days,
    )  # fmt: skip


def _print_plan(plan: ImportPlan) -> None:
    print(f"{plan.kind} {plan.year}:")
    for reason in plan.rejected:
        print(f"  REJECTED {reason}")
    if plan.skipped_other_years:
        print(f"  skipped {plan.skipped_other_years} {plan.kind} event(s) of other years")
    for note in plan.notes:
        print(f"  note: {note}")
    if plan.entry is None:
        return
    count = len(plan.entry.days)
    print(f"  would add {count} day(s): {', '.join(d.date.isoformat() for d in plan.entry.days)}")
    if plan.known_days:
        print(f"  already in the packaged data: {len(plan.known_days)} of them")
    if plan.replaced is not None:
        when = plan.replaced.imported_at.isoformat(timespec="seconds")
        print(f"  replaces the overlay's {plan.kind} {plan.year} imported {when}")


def _fail(message: str, code: int) -> int:
    print(f"calypso calendar: error: {message}", file=sys.stderr)
    return code


# ----------------------------------------------------------------------------- coverage


def coverage_report(
    calendar: EventCalendar, packaged: EventCalendar, overlay: Overlay
) -> dict[str, Any]:
    """{"overlay": path, "overlay_problem", "kinds": {kind: {"years": {year: source},
    "dates": [{"date", "source", "symbol"}]}}}; a source is `packaged`, `overlay` or
    `packaged+overlay` (listed in both)."""
    kinds: dict[str, Any] = {}
    for kind in EVENT_KINDS:
        base_years = packaged.covered_years(kind)
        entries = [e for e in overlay.entries if kind in KINDS_OF_IMPORT[e.kind]]
        overlay_years = {e.year for e in entries}
        added = {(d.date, d.symbol) for e in entries for d in e.days}
        if kind == "fomc_decision":
            added = {(d.date, None) for e in entries for d in e.days if d.decision}
        dates: list[dict[str, Any]] = []
        base = {(e.day, e.symbol) for y in base_years for e in packaged.listed(kind, y)}
        for year in sorted(calendar.covered_years(kind)):
            for event in calendar.listed(kind, year):
                key = (event.day, event.symbol)
                source = _source(key in base, key in added)
                dates.append({"date": event.day.isoformat(), "source": source,
                              "symbol": event.symbol})  # fmt: skip
        years = sorted(calendar.covered_years(kind))
        kinds[kind] = {
            "years": {str(y): _source(y in base_years, y in overlay_years) for y in years},
            "dates": dates,
        }
    return {
        "overlay": str(calendar.overlay_file) if calendar.overlay_file else None,
        "overlay_problem": calendar.overlay_problem,
        "kinds": kinds,
    }


def _source(packaged: bool, overlay: bool) -> str:
    if packaged and overlay:
        return "packaged+overlay"
    return "packaged" if packaged else "overlay"


def run_coverage(args: argparse.Namespace) -> int:
    calendar = EventCalendar()
    try:
        overlay = load_overlay(paths.events_overlay_path())
    except OverlayError:
        overlay = Overlay()  # reported below through calendar.overlay_problem
    report = coverage_report(calendar, EventCalendar(packaged_only=True), overlay)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_coverage(report, args.kind)
    if calendar.overlay_problem:
        return _fail(calendar.overlay_problem, EXIT_REFUSED)
    return EXIT_OK


def _print_coverage(report: dict[str, Any], detail: str | None) -> None:
    table = Table(title=f"event data coverage (overlay: {report['overlay']})")
    table.add_column("kind", no_wrap=True)
    table.add_column("year")
    table.add_column("source")
    table.add_column("dates", justify="right")
    table.add_column("from overlay", justify="right")
    for kind, facts in report["kinds"].items():
        for year, source in facts["years"].items():
            rows = [d for d in facts["dates"] if d["date"].startswith(year)]
            added = sum(1 for d in rows if "overlay" in d["source"])
            table.add_row(kind, year, source, str(len(rows)), str(added))
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(table)
    if detail is not None:
        for row in report["kinds"][detail]["dates"]:
            symbol = f" {row['symbol']}" if row["symbol"] else ""
            console.print(f"{detail} {row['date']}{symbol}: {row['source']}")
