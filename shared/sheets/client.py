"""The Google Sheets calls the mirror makes, through gspread, and how their failures are classed.

Every failure becomes a `SheetsApiError` that says whether trying again can help
(`retryable`) and whether the write may have been applied although it failed
(`maybe_applied`: a 5xx, a timeout or a dropped connection), which is what makes the sender
check the sheet before sending the same rows again. Values are sent RAW: text is never
interpreted as a formula or a date.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import requests

from shared.logger_service import kv, redact
from shared.sheets.columns import WorksheetSpec
from shared.sheets.payloads import Cell

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

logger = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/spreadsheets",
    # Read-only Drive: enough to find the spreadsheet by name among the files shared with us.
    "https://www.googleapis.com/auth/drive.readonly",
)
DEFAULT_TIMEOUT_S = 20.0
_UPDATED_RANGE = re.compile(r"![A-Z]+(\d+)")

T = TypeVar("T")
Rows = list[list[Cell]]


class SheetsApiError(RuntimeError):
    """A Sheets or Drive call failed. The message never holds credentials."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        retryable: bool,
        maybe_applied: bool,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.maybe_applied = maybe_applied
        self.retry_after_s = retry_after_s


class SheetsBackend(Protocol):
    """One spreadsheet, as the sender uses it. Each call is one API request."""

    def worksheet_ids(self) -> dict[str, int]:
        """Worksheet title -> sheet id (a read)."""
        ...

    def add_worksheets(self, specs: Sequence[tuple[WorksheetSpec, int]]) -> None:
        """Create worksheets with the given sheet ids, header row frozen, key column hidden."""
        ...

    def read(self, ranges: Sequence[str]) -> list[Rows]:
        """The values of each A1 range (a read; trailing empty rows and cells are omitted)."""
        ...

    def append(self, title: str, last_column: str, rows: Rows) -> int | None:
        """Append rows after the table in `title`; the sheet row number of the first one."""
        ...

    def write(self, updates: Sequence[tuple[str, Rows]]) -> None:
        """Overwrite each A1 range with its rows, all in one request."""
        ...


def quote_title(title: str) -> str:
    """A worksheet title as used in A1 notation: `'Bot Logs'` (inner quotes doubled)."""
    return "'" + title.replace("'", "''") + "'"


def classify(exc: BaseException) -> SheetsApiError:
    """Turn a gspread, requests or google-auth failure into a SheetsApiError."""
    import gspread
    from google.auth import exceptions as auth_exceptions

    if isinstance(exc, SheetsApiError):
        return exc
    if isinstance(exc, gspread.exceptions.APIError):
        status = exc.response.status_code
        message = str(exc.error.get("message", ""))[:200]
        text = redact(f"Sheets API HTTP {status}: {message}")
        if status == 429:
            return SheetsApiError(
                text,
                status=status,
                retryable=True,
                maybe_applied=False,
                retry_after_s=_retry_after(exc.response),
            )
        if status >= 500 or status == 408:
            return SheetsApiError(
                text,
                status=status,
                retryable=True,
                maybe_applied=True,
                retry_after_s=_retry_after(exc.response),
            )
        return SheetsApiError(text, status=status, retryable=False, maybe_applied=False)
    if isinstance(exc, gspread.exceptions.SpreadsheetNotFound):
        return SheetsApiError(
            "spreadsheet not found (does it exist, and is it shared with the service account?)",
            status=404,
            retryable=False,
            maybe_applied=False,
        )
    if isinstance(exc, requests.RequestException):
        # A request that timed out or lost its connection may have been applied.
        return SheetsApiError(
            f"Sheets request failed: {type(exc).__name__}",
            status=None,
            retryable=True,
            maybe_applied=True,
        )
    if isinstance(exc, auth_exceptions.RefreshError):
        return SheetsApiError(
            "Google refused the service-account credentials (RefreshError)",
            status=None,
            retryable=False,
            maybe_applied=False,
        )
    if isinstance(exc, auth_exceptions.TransportError):
        return SheetsApiError(
            "cannot reach Google to obtain an access token (TransportError)",
            status=None,
            retryable=True,
            maybe_applied=False,
        )
    raise exc


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _call(what: str, func: Callable[[], T]) -> T:
    try:
        return func()
    except Exception as exc:  # every failure is classified; a bug is re-raised by classify
        error = classify(exc)
        logger.debug(kv("sheets_call_failed", call=what, status=error.status))
        raise error from None


class GspreadBackend:
    """`SheetsBackend` over a gspread Spreadsheet."""

    def __init__(self, spreadsheet: Any) -> None:
        self._spreadsheet = spreadsheet

    @classmethod
    def open(
        cls,
        credentials: Credentials,
        spreadsheet_name: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> GspreadBackend:
        """Authorize and open the spreadsheet titled `spreadsheet_name` (a Drive search plus a
        metadata read). Raises SheetsApiError (404 when it is missing or not shared)."""
        import gspread

        def do_open() -> Any:
            client = gspread.authorize(credentials)
            client.http_client.set_timeout(timeout_s)
            return client.open(spreadsheet_name)

        return cls(_call("open", do_open))

    def worksheet_ids(self) -> dict[str, int]:
        metadata = _call("metadata", self._spreadsheet.fetch_sheet_metadata)
        return {
            sheet["properties"]["title"]: int(sheet["properties"]["sheetId"])
            for sheet in metadata.get("sheets", [])
        }

    def add_worksheets(self, specs: Sequence[tuple[WorksheetSpec, int]]) -> None:
        requests_body: list[dict[str, Any]] = []
        for spec, sheet_id in specs:
            width = len(spec.columns)
            requests_body.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": spec.title,
                            "gridProperties": {
                                "rowCount": spec.grid_rows,
                                "columnCount": width,
                                "frozenRowCount": 1,
                            },
                        }
                    }
                }
            )
            requests_body.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": width - 1,
                            "endIndex": width,
                        },
                        "properties": {"hiddenByUser": True},
                        "fields": "hiddenByUser",
                    }
                }
            )
        _call("add_worksheets", lambda: self._spreadsheet.batch_update({"requests": requests_body}))

    def read(self, ranges: Sequence[str]) -> list[Rows]:
        response = _call(
            "read",
            lambda: self._spreadsheet.values_batch_get(
                list(ranges), params={"valueRenderOption": "UNFORMATTED_VALUE"}
            ),
        )
        value_ranges = response.get("valueRanges", [])
        return [list(item.get("values", [])) for item in value_ranges]

    def append(self, title: str, last_column: str, rows: Rows) -> int | None:
        response = _call(
            "append",
            lambda: self._spreadsheet.values_append(
                f"{quote_title(title)}!A1:{last_column}1",
                params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                body={"majorDimension": "ROWS", "values": rows},
            ),
        )
        updated = str(response.get("updates", {}).get("updatedRange", ""))
        match = _UPDATED_RANGE.search(updated)
        return int(match.group(1)) if match else None

    def write(self, updates: Sequence[tuple[str, Rows]]) -> None:
        body = {
            "valueInputOption": "RAW",
            "data": [
                {"range": a1, "majorDimension": "ROWS", "values": rows} for a1, rows in updates
            ],
        }
        _call("write", lambda: self._spreadsheet.values_batch_update(body))
