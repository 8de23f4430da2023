"""Deliver a journal's outbox to the bot's spreadsheet exactly once, paced under Sheets quotas.

A row leaves the outbox (is marked delivered) only after Sheets confirmed its write. When a
write's outcome is unknown (5xx, timeout, dropped connection) or the process restarted, the
worksheet's hidden Row Key column is read before anything is sent again, and rows already
there are marked delivered instead of being sent twice. Upserts (Dashboard, Daily Summary,
Opening Range) and the Positions table are written in place, latest value per key only.

Pacing: at most `writes_per_minute` write and `reads_per_minute` read requests per sender
(Google allows 60 of each per minute per user, and the three bots share one service account).
Not thread-safe: one sender per thread, holding the bot's sheets lock (see `mirror`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shared.clock import Clock
from shared.journal import Journal, OutboxRow
from shared.journal.outbox_worker import SenderStopped
from shared.logger_service import kv
from shared.sheets.client import Rows, SheetsApiError, SheetsBackend, quote_title
from shared.sheets.columns import WorksheetSpec, WriteMode, worksheets_for
from shared.sheets.payloads import PayloadError, Rendered, decode, render

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryPolicy:
    """Pacing and retry settings of one sender (seconds; requests per minute)."""

    writes_per_minute: float = 15.0
    reads_per_minute: float = 15.0
    max_attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 64.0
    jitter_fraction: float = 0.2
    batch_rows: int = 500


@dataclass
class FlushResult:
    """What one `flush` did. `error` is set when Sheets could not be reached or refused."""

    considered: int = 0
    delivered: int = 0
    already_present: int = 0
    invalid: int = 0
    error: str | None = None
    retryable: bool = True
    worksheets: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class _GiveUp(Exception):
    def __init__(self, error: SheetsApiError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Item:
    row: OutboxRow
    rendered: Rendered


class Pacer:
    """Spaces requests at least 60/`per_minute` seconds apart on `clock`'s monotonic time."""

    def __init__(self, per_minute: float, clock: Clock, sleep: Callable[[float], None]) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self._interval_s = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None

    def wait(self) -> None:
        now = self._clock.monotonic()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = max(now, self._clock.monotonic())
        self._next_at = max(now, self._next_at or now) + self._interval_s


class OutboxSender:
    """Moves a bot's pending outbox rows to its spreadsheet; see the module docstring."""

    def __init__(
        self,
        *,
        bot: str,
        journal: Journal,
        backend: SheetsBackend,
        clock: Clock,
        sleep: Callable[[float], None] | None = None,
        stop_requested: Callable[[], bool] = lambda: False,
        policy: DeliveryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._bot = bot
        self._specs = {spec.title: spec for spec in worksheets_for(bot)}
        self._journal = journal
        self._backend = backend
        self._clock = clock
        self._sleep = sleep if sleep is not None else clock.sleep
        self._stop_requested = stop_requested
        self._policy = policy or DeliveryPolicy()
        self._rng = rng or random.Random()
        self._writes = Pacer(self._policy.writes_per_minute, clock, self._sleep)
        self._reads = Pacer(self._policy.reads_per_minute, clock, self._sleep)
        self._worksheets_ready = False
        # A new sender knows nothing: a previous process may have written rows it never
        # marked delivered. Every append worksheet is checked before its first send.
        self._needs_check: set[str] = {
            title for title, spec in self._specs.items() if spec.mode is WriteMode.APPEND
        }
        self._keys: dict[str, dict[str, int]] = {}
        self._keys_height: dict[str, int] = {}
        self._delivered_ids: set[int] = set()
        self._invalid_ids: set[int] = set()
        self._result = FlushResult()

    # --- public -------------------------------------------------------------------------

    def flush(self, limit: int | None = None) -> FlushResult:
        """Deliver up to `limit` pending rows (oldest first). Never raises for Sheets failures:
        they are in the result, and the rows stay pending. Raises SenderStopped on stop."""
        self._result = result = FlushResult()
        self._delivered_ids = set()
        wanted = self._policy.batch_rows if limit is None else limit
        # Rows known to be invalid stay pending; look past them so they never block the rest.
        pending = self._journal.outbox_pending(wanted + len(self._invalid_ids))
        items = self._render(pending)
        result.considered = len(items)
        if not items:
            return result
        try:
            self._ensure_worksheets()
            self._deliver(items)
        except _GiveUp as exc:
            result.error = str(exc.error)
            result.retryable = exc.error.retryable
            if not exc.error.retryable:
                self._worksheets_ready = False
            self._record_failure(items, result.error)
        return result

    # --- rendering ----------------------------------------------------------------------

    def _render(self, pending: Sequence[OutboxRow]) -> list[_Item]:
        items: list[_Item] = []
        for row in pending:
            if row.outbox_id in self._invalid_ids:
                continue
            try:
                rendered = render(self._bot, decode(row.kind, row.payload))
            except PayloadError as exc:
                self._invalid_ids.add(row.outbox_id)
                self._result.invalid += 1
                self._journal.mark_failed(row.outbox_id, str(exc))
                logger.error(kv(
                    "sheets_row_invalid",
                    bot=self._bot,
                    outbox_id=row.outbox_id,
                    kind=row.kind,
                    error=exc,
                ))
                continue
            items.append(_Item(row, rendered))
        return items

    # --- worksheets ---------------------------------------------------------------------

    def _ensure_worksheets(self) -> None:
        if self._worksheets_ready:
            return
        self._retrying("ensure_worksheets", self._ensure_worksheets_once, lambda: None)
        self._worksheets_ready = True

    def _ensure_worksheets_once(self) -> None:
        self._reads.wait()
        existing = self._backend.worksheet_ids()
        missing = [spec for title, spec in self._specs.items() if title not in existing]
        if missing:
            used = set(existing.values())
            assigned: list[tuple[WorksheetSpec, int]] = []
            candidate = 1000
            for spec in missing:
                while candidate in used:
                    candidate += 1
                used.add(candidate)
                assigned.append((spec, candidate))
            self._writes.wait()
            self._backend.add_worksheets(assigned)
            logger.info(kv(
                "sheets_worksheets_created",
                bot=self._bot,
                worksheets=",".join(spec.title.replace(" ", "_") for spec in missing),
            ))
        specs = list(self._specs.values())
        self._reads.wait()
        headers = self._backend.read(
            [f"{quote_title(s.title)}!A1:{s.last_column_letter}1" for s in specs]
        )
        stale = [
            spec
            for spec, found in zip(specs, headers, strict=True)
            if [str(cell) for cell in (found[0] if found else [])] != spec.headers
        ]
        if stale:
            for spec in stale:
                if spec not in missing:
                    logger.warning(kv(
                        "sheets_header_rewritten",
                        bot=self._bot,
                        worksheet=spec.title.replace(" ", "_"),
                    ))
            self._writes.wait()
            self._backend.write(
                [
                    (f"{quote_title(s.title)}!A1:{s.last_column_letter}1", [list(s.headers)])
                    for s in stale
                ]
            )

    # --- keys on the sheet ----------------------------------------------------------------

    def _load_keys(self, titles: Sequence[str]) -> None:
        wanted = [title for title in dict.fromkeys(titles) if title not in self._keys]
        if not wanted:
            return
        ranges = []
        for title in wanted:
            letter = self._specs[title].last_column_letter
            ranges.append(f"{quote_title(title)}!{letter}2:{letter}")
        self._reads.wait()
        columns = self._backend.read(ranges)
        for title, column in zip(wanted, columns, strict=True):
            keys: dict[str, int] = {}
            for offset, cells in enumerate(column):
                key = str(cells[0]) if cells else ""
                if key and key not in keys:
                    keys[key] = offset + 2
            self._keys[title] = keys
            self._keys_height[title] = len(column)

    # --- delivery -----------------------------------------------------------------------

    def _deliver(self, items: list[_Item]) -> None:
        appends: dict[str, list[_Item]] = {}
        in_place: dict[tuple[str, str], list[_Item]] = {}
        for item in items:
            spec = item.rendered.spec
            if spec.mode is WriteMode.APPEND:
                appends.setdefault(spec.title, []).append(item)
            else:
                in_place.setdefault((spec.title, item.rendered.row_key), []).append(item)
        to_check = [title for title in appends if title in self._needs_check]
        to_check += [title for title, _ in in_place]
        if to_check:
            self._retrying("read_keys", lambda: self._load_keys(to_check), self._forget(to_check))
        for title, group in appends.items():
            self._deliver_append(self._specs[title], group)
        if in_place:
            self._deliver_in_place(in_place)

    def _forget(self, titles: Sequence[str]) -> Callable[[], None]:
        def forget() -> None:
            for title in titles:
                self._keys.pop(title, None)

        return forget

    def _deliver_append(self, spec: WorksheetSpec, group: list[_Item]) -> None:
        remaining = list(group)

        def attempt() -> None:
            nonlocal remaining
            if spec.title in self._needs_check:
                self._load_keys([spec.title])
                present = self._keys.get(spec.title, {})
                found = [item for item in remaining if item.rendered.row_key in present]
                if found:
                    self._mark_delivered(spec, found, already_present=True)
                remaining = [item for item in remaining if item.rendered.row_key not in present]
            self._keys.pop(spec.title, None)  # append sheets are not cached between checks
            if not remaining:
                self._needs_check.discard(spec.title)
                return
            self._needs_check.add(spec.title)
            rows: Rows = [item.rendered.rows[0] for item in remaining]
            self._writes.wait()
            try:
                self._backend.append(spec.title, spec.last_column_letter, rows)
            except SheetsApiError as exc:
                if not exc.maybe_applied:
                    self._needs_check.discard(spec.title)
                raise
            self._mark_delivered(spec, remaining)
            remaining = []
            self._needs_check.discard(spec.title)

        self._retrying(f"append:{spec.title}", attempt, lambda: self._needs_check.add(spec.title))

    def _deliver_in_place(self, groups: dict[tuple[str, str], list[_Item]]) -> None:
        done: set[tuple[str, str]] = set()
        titles = sorted({title for title, _ in groups})

        def attempt() -> None:
            self._load_keys(titles)
            updates: list[tuple[str, Rows]] = []
            update_keys: list[tuple[str, str]] = []
            new_rows: dict[str, list[tuple[str, str]]] = {}
            for group_key, group in groups.items():
                if group_key in done:
                    continue
                title, row_key = group_key
                spec = self._specs[title]
                latest = max(group, key=lambda item: item.row.outbox_id).rendered
                if spec.mode is WriteMode.REPLACE:
                    height = self._keys_height.get(title, 0)
                    total = max(len(latest.rows), height)
                    blank: Rows = [[""] * len(spec.columns)]
                    padded = latest.rows + blank * (total - len(latest.rows))
                    if total:
                        a1 = f"{quote_title(title)}!A2:{spec.last_column_letter}{1 + total}"
                        updates.append((a1, padded))
                    update_keys.append(group_key)
                    continue
                row_number = self._keys[title].get(row_key)
                if row_number is None:
                    new_rows.setdefault(title, []).append(group_key)
                else:
                    a1 = f"{quote_title(title)}!A{row_number}:{spec.last_column_letter}{row_number}"
                    updates.append((a1, latest.rows))
                    update_keys.append(group_key)
            if updates:
                self._writes.wait()
                self._backend.write(updates)
            for group_key in update_keys:
                title = group_key[0]
                if self._specs[title].mode is WriteMode.REPLACE:
                    latest = max(groups[group_key], key=lambda item: item.row.outbox_id).rendered
                    self._keys[title] = {
                        str(row[-1]): index + 2 for index, row in enumerate(latest.rows)
                    }
                    self._keys_height[title] = len(latest.rows)
                self._mark_delivered(self._specs[title], groups[group_key])
                done.add(group_key)
            for title, keys in new_rows.items():
                spec = self._specs[title]
                rows: Rows = []
                for group_key in keys:
                    latest = max(groups[group_key], key=lambda item: item.row.outbox_id).rendered
                    rows.extend(latest.rows)
                self._writes.wait()
                first = self._backend.append(title, spec.last_column_letter, rows)
                if first is None:
                    self._keys.pop(title, None)
                else:
                    for offset, (_, row_key) in enumerate(keys):
                        self._keys[title][row_key] = first + offset
                for group_key in keys:
                    self._mark_delivered(spec, groups[group_key])
                    done.add(group_key)

        self._retrying("write_in_place", attempt, self._forget(titles))

    def _mark_delivered(
        self, spec: WorksheetSpec, items: Sequence[_Item], *, already_present: bool = False
    ) -> None:
        ids = [item.row.outbox_id for item in items]
        self._journal.mark_delivered(ids)
        self._delivered_ids.update(ids)
        self._result.delivered += len(items)
        self._result.worksheets[spec.title] = self._result.worksheets.get(spec.title, 0) + len(
            items
        )
        if already_present:
            self._result.already_present += len(items)
            logger.info(kv(
                "sheets_rows_already_present",
                bot=self._bot,
                worksheet=spec.title.replace(" ", "_"),
                rows=len(items),
                action="marked_delivered",
            ))
        else:
            logger.debug(kv(
                "sheets_rows_delivered",
                bot=self._bot,
                worksheet=spec.title.replace(" ", "_"),
                rows=len(items),
            ))

    # --- retries ------------------------------------------------------------------------

    def _retrying(
        self, what: str, attempt: Callable[[], T], on_maybe_applied: Callable[[], None]
    ) -> T:
        for number in range(1, self._policy.max_attempts + 1):
            if self._stop_requested():
                raise SenderStopped()
            try:
                return attempt()
            except SheetsApiError as exc:
                if exc.maybe_applied:
                    on_maybe_applied()
                if not exc.retryable or number == self._policy.max_attempts:
                    logger.warning(kv(
                        "sheets_gave_up",
                        bot=self._bot,
                        step=what.replace(" ", "_"),
                        attempts=number,
                        status=exc.status,
                        error=exc,
                    ))
                    raise _GiveUp(exc) from None
                delay = self._backoff_s(number, exc.retry_after_s)
                logger.warning(kv(
                    "sheets_retry",
                    bot=self._bot,
                    step=what.replace(" ", "_"),
                    attempt=number,
                    status=exc.status,
                    maybe_applied=exc.maybe_applied,
                    delay_s=delay,
                ))
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff_s(self, attempt: int, retry_after_s: float | None) -> float:
        """Exponential from `backoff_base_s`, capped, with +/- jitter; at least Retry-After."""
        policy = self._policy
        delay = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (attempt - 1))
        delay *= 1 + policy.jitter_fraction * (2 * self._rng.random() - 1)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return delay

    def _record_failure(self, items: Sequence[_Item], error: str) -> None:
        """Count the failed attempt on every row of this flush that is still pending."""
        for item in items:
            if item.row.outbox_id not in self._delivered_ids:
                self._journal.mark_failed(item.row.outbox_id, error)
