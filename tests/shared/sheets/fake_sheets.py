"""An in-memory Google Sheets (v4) + Drive (v3 file list) for one spreadsheet, behind `responses`.

The real gspread talks to it over intercepted HTTP. It keeps worksheets, grid sizes, hidden
columns and cell values, so tests assert on the resulting sheet content. Faults: `fail_next`
(optionally AFTER applying the write, as a server that timed out on its reply would) and
`outage` (every request fails until `restore`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import responses

from shared.sheets.columns import column_letter

TOKEN = "fake-token"
SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_FILES = "https://www.googleapis.com/drive/v3/files"
_RANGE = re.compile(r"^(?:(?P<title>'(?:[^']|'')+'|[^!]+)!)?(?P<cells>[A-Z0-9:]+)$")
_CELL = re.compile(r"^(?P<col>[A-Z]*)(?P<row>\d*)$")

Response = tuple[int, dict[str, str], str]


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (ord(char) - ord("A") + 1)
    return number


@dataclass
class FakeWorksheet:
    sheet_id: int
    title: str
    row_count: int
    column_count: int
    frozen_rows: int = 0
    hidden_columns: set[int] = field(default_factory=set)
    values: list[list[Any]] = field(default_factory=list)  # row 1 is values[0]

    def last_row(self) -> int:
        for index in range(len(self.values) - 1, -1, -1):
            if any(cell not in ("", None) for cell in self.values[index]):
                return index + 1
        return 0

    def set_cell(self, row: int, col: int, value: Any) -> None:
        while len(self.values) < row:
            self.values.append([])
        line = self.values[row - 1]
        while len(line) < col:
            line.append("")
        line[col - 1] = value


@dataclass
class Fault:
    op: str
    status: int
    applied: bool
    retry_after: float | None


class FakeSheets:
    """One spreadsheet titled `title`, shared with the service account unless `shared=False`."""

    def __init__(self, title: str = "Calypso_Test_Log", spreadsheet_id: str = "ss-1") -> None:
        self.title = title
        self.spreadsheet_id = spreadsheet_id
        self.shared = True
        self.worksheets: dict[str, FakeWorksheet] = {
            "Sheet1": FakeWorksheet(0, "Sheet1", row_count=1000, column_count=26)
        }
        self.calls: list[str] = []
        self._faults: list[Fault] = []
        self._down: int | None = None
        self._lock = threading.RLock()

    # --- test controls ------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> None:
        base = re.escape(f"{SHEETS}/{self.spreadsheet_id}")
        mock.add_callback(responses.GET, DRIVE_FILES, callback=self._drive_list)
        mock.add_callback(responses.GET, re.compile(base + r"(\?.*)?$"), callback=self._metadata)
        mock.add_callback(
            responses.POST, re.compile(base + r":batchUpdate$"), callback=self._batch_update
        )
        mock.add_callback(
            responses.GET, re.compile(base + r"/values:batchGet.*"), callback=self._batch_get
        )
        mock.add_callback(
            responses.POST,
            re.compile(base + r"/values:batchUpdate$"),
            callback=self._values_batch_update,
        )
        mock.add_callback(
            responses.POST, re.compile(base + r"/values/.+:append.*"), callback=self._append
        )

    def fail_next(
        self, op: str, status: int, *, applied: bool = False, retry_after: float | None = None
    ) -> None:
        """The next `op` request ('append', 'values_update', 'read', 'batch_update',
        'metadata', 'drive_list') answers `status`; with `applied` the write happens first."""
        with self._lock:
            self._faults.append(Fault(op, status, applied, retry_after))

    def outage(self, status: int = 503) -> None:
        with self._lock:
            self._down = status

    def restore(self) -> None:
        with self._lock:
            self._down = None

    def count(self, op: str) -> int:
        with self._lock:
            return self.calls.count(op)

    def headers(self, title: str) -> list[Any]:
        return list(self.worksheets[title].values[0]) if self.worksheets[title].values else []

    def records(self, title: str) -> list[dict[str, Any]]:
        """Data rows (below the header) as header -> value; empty rows skipped."""
        sheet = self.worksheets[title]
        header = self.headers(title)
        out = []
        for line in sheet.values[1 : sheet.last_row()]:
            if any(cell not in ("", None) for cell in line):
                padded = list(line) + [""] * (len(header) - len(line))
                out.append(dict(zip(header, padded, strict=False)))
        return out

    # --- plumbing -----------------------------------------------------------------------

    def _guard(self, request: Any, op: str) -> tuple[Response | None, Fault | None]:
        with self._lock:
            self.calls.append(op)
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return _error(401, "missing or wrong bearer token"), None
            if self._down is not None:
                return _error(self._down, "backend unavailable"), None
            for index, fault in enumerate(self._faults):
                if fault.op == op:
                    del self._faults[index]
                    if fault.applied:
                        return None, fault
                    return _error(fault.status, "injected", fault.retry_after), None
        return None, None

    def _handle(self, request: Any, op: str, apply: Any) -> Response:
        refused, fault = self._guard(request, op)
        if refused is not None:
            return refused
        with self._lock:
            result: Response = apply()
        if fault is not None:
            return _error(fault.status, "injected after applying", fault.retry_after)
        return result

    def _sheet(self, title: str) -> FakeWorksheet | None:
        if title.startswith("'") and title.endswith("'"):
            title = title[1:-1].replace("''", "'")
        return self.worksheets.get(title)

    def _parse_range(self, a1: str) -> tuple[FakeWorksheet, int, int, int, int | None]:
        match = _RANGE.match(unquote(a1))
        if not match or match.group("title") is None:
            raise ValueError(f"Unable to parse range: {a1}")
        sheet = self._sheet(match.group("title"))
        if sheet is None:
            raise ValueError(f"Unable to parse range: {a1}")
        start, _, end = match.group("cells").partition(":")
        first, last = _CELL.match(start), _CELL.match(end or start)
        assert first is not None and last is not None
        c1 = column_number(first.group("col") or "A")
        r1 = int(first.group("row") or 1)
        c2 = column_number(last.group("col") or column_letter(sheet.column_count))
        r2 = int(last.group("row")) if last.group("row") else None
        return sheet, c1, r1, c2, r2

    # --- endpoints ----------------------------------------------------------------------

    def _drive_list(self, request: Any) -> Response:
        def apply() -> Response:
            query = parse_qs(urlsplit(request.url).query).get("q", [""])[0]
            files = []
            if self.shared and f'name = "{self.title}"' in query:
                files.append({"id": self.spreadsheet_id, "name": self.title})
            return _ok({"kind": "drive#fileList", "files": files})

        return self._handle(request, "drive_list", apply)

    def _metadata(self, request: Any) -> Response:
        def apply() -> Response:
            sheets = [
                {
                    "properties": {
                        "sheetId": sheet.sheet_id,
                        "title": sheet.title,
                        "index": index,
                        "gridProperties": {
                            "rowCount": sheet.row_count,
                            "columnCount": sheet.column_count,
                            "frozenRowCount": sheet.frozen_rows,
                        },
                    }
                }
                for index, sheet in enumerate(self.worksheets.values())
            ]
            return _ok(
                {
                    "spreadsheetId": self.spreadsheet_id,
                    "properties": {"title": self.title, "locale": "en_US"},
                    "sheets": sheets,
                }
            )

        return self._handle(request, "metadata", apply)

    def _batch_update(self, request: Any) -> Response:
        body = json.loads(request.body)

        def apply() -> Response:
            by_id = {sheet.sheet_id: sheet for sheet in self.worksheets.values()}
            for item in body["requests"]:
                if "addSheet" in item:
                    props = item["addSheet"]["properties"]
                    if props["title"] in self.worksheets or props["sheetId"] in by_id:
                        return _error(400, f"A sheet named {props['title']} already exists")
                    grid = props.get("gridProperties", {})
                    sheet = FakeWorksheet(
                        props["sheetId"],
                        props["title"],
                        row_count=grid.get("rowCount", 1000),
                        column_count=grid.get("columnCount", 26),
                        frozen_rows=grid.get("frozenRowCount", 0),
                    )
                    self.worksheets[sheet.title] = sheet
                    by_id[sheet.sheet_id] = sheet
                elif "updateDimensionProperties" in item:
                    spec = item["updateDimensionProperties"]
                    sheet = by_id[spec["range"]["sheetId"]]
                    for col in range(spec["range"]["startIndex"], spec["range"]["endIndex"]):
                        if spec["properties"].get("hiddenByUser"):
                            sheet.hidden_columns.add(col + 1)
                else:
                    return _error(400, f"unsupported request {sorted(item)}")
            return _ok({"spreadsheetId": self.spreadsheet_id, "replies": []})

        return self._handle(request, "batch_update", apply)

    def _batch_get(self, request: Any) -> Response:
        ranges = parse_qs(urlsplit(request.url).query).get("ranges", [])

        def apply() -> Response:
            out = []
            for a1 in ranges:
                try:
                    sheet, c1, r1, c2, r2 = self._parse_range(a1)
                except ValueError as exc:
                    return _error(400, str(exc))
                last = min(r2 or sheet.last_row(), sheet.last_row())
                rows = []
                for row in range(r1, last + 1):
                    line = sheet.values[row - 1] if row <= len(sheet.values) else []
                    cells = list(line[c1 - 1 : c2])
                    while cells and cells[-1] in ("", None):
                        cells.pop()
                    rows.append(cells)
                while rows and not rows[-1]:
                    rows.pop()
                entry: dict[str, Any] = {"range": a1, "majorDimension": "ROWS"}
                if rows:
                    entry["values"] = rows
                out.append(entry)
            return _ok({"spreadsheetId": self.spreadsheet_id, "valueRanges": out})

        return self._handle(request, "read", apply)

    def _values_batch_update(self, request: Any) -> Response:
        body = json.loads(request.body)

        def apply() -> Response:
            if body.get("valueInputOption") != "RAW":
                return _error(400, "valueInputOption must be RAW in these tests")
            planned = []
            for data in body["data"]:
                try:
                    sheet, c1, r1, _, _ = self._parse_range(data["range"])
                except ValueError as exc:
                    return _error(400, str(exc))
                end_row = r1 + len(data["values"]) - 1
                if end_row > sheet.row_count:
                    return _error(
                        400, f"Range ({data['range']}) exceeds grid limits. Max rows: "
                        f"{sheet.row_count}"
                    )
                planned.append((sheet, c1, r1, data["values"]))
            for sheet, c1, r1, rows in planned:
                for dr, line in enumerate(rows):
                    for dc, value in enumerate(line):
                        sheet.set_cell(r1 + dr, c1 + dc, value)
            return _ok({"spreadsheetId": self.spreadsheet_id, "totalUpdatedRows": len(planned)})

        return self._handle(request, "values_update", apply)

    def _append(self, request: Any) -> Response:
        url = urlsplit(request.url)
        a1 = unquote(url.path.split("/values/", 1)[1].rsplit(":append", 1)[0])
        params = parse_qs(url.query)
        body = json.loads(request.body)

        def apply() -> Response:
            if params.get("valueInputOption") != ["RAW"]:
                return _error(400, "valueInputOption must be RAW in these tests")
            try:
                sheet, _, _, _, _ = self._parse_range(a1)
            except ValueError as exc:
                return _error(400, str(exc))
            rows = body["values"]
            start = sheet.last_row() + 1
            # INSERT_ROWS: new rows are inserted after the table, growing the grid.
            sheet.values[start - 1 : start - 1] = [[] for _ in rows]
            sheet.row_count += len(rows)
            for offset, line in enumerate(rows):
                for col, value in enumerate(line, start=1):
                    sheet.set_cell(start + offset, col, value)
            width = max(len(line) for line in rows)
            quoted = "'" + sheet.title.replace("'", "''") + "'"
            updated = f"{quoted}!A{start}:{column_letter(width)}{start + len(rows) - 1}"
            return _ok(
                {
                    "spreadsheetId": self.spreadsheet_id,
                    "tableRange": f"{quoted}!A1:{column_letter(width)}{start - 1}",
                    "updates": {"updatedRange": updated, "updatedRows": len(rows)},
                }
            )

        return self._handle(request, "append", apply)


def _ok(document: dict[str, Any]) -> Response:
    return 200, {"Content-Type": "application/json"}, json.dumps(document)


def _error(status: int, message: str, retry_after: float | None = None) -> Response:
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    document = {"error": {"code": status, "message": message, "status": "ERROR"}}
    return status, headers, json.dumps(document)
