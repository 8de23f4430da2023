"""`calypso calendar update`: the configured schedule URLs downloaded (HTTP intercepted with
`responses`, or a real refused connection) and imported all or nothing."""

from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import responses

from shared import paths
from shared.cli import calendar_data_cmd
from shared.cli.main import main
from shared.clock import ManualClock
from shared.event_calendar import EventCalendar
from shared.event_update import DEFAULT_SOURCES, USER_AGENT, sources_path
from tests.shared.calendar_files import NFP_2027, bls_feed

BLS_URL = DEFAULT_SOURCES[0].url


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.setattr(
        calendar_data_cmd, "_CLOCK", ManualClock(datetime(2026, 12, 5, 15, tzinfo=UTC))
    )
    return tmp_path


@responses.activate
def test_update_imports_cpi_ppi_and_payrolls_from_the_bls_feed(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.get(BLS_URL, body=bls_feed(), content_type="text/calendar")

    code = main(["calendar", "update", "--year", "2027"])

    assert code == 0, capsys.readouterr()
    assert responses.calls[0].request.headers["User-Agent"] == USER_AGENT
    calendar = EventCalendar()
    for kind in ("cpi", "ppi", "nfp"):
        assert calendar.covers(date(2027, 6, 1), kind)
    assert [e.day for e in calendar.listed("nfp", 2027)] == list(NFP_2027)  # not "of Veterans"
    assert not calendar.has_event(date(2027, 3, 18), "nfp")


@responses.activate
def test_a_feed_without_next_years_schedule_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.get(BLS_URL, body=bls_feed(with_2027=False))

    code = main(["calendar", "update", "--year", "2027"])

    captured = capsys.readouterr()
    assert code == 1
    assert "only 0 cpi dates for 2027" in captured.out
    assert "nothing written" in captured.err
    assert not paths.events_overlay_path(home).exists()


@responses.activate
def test_an_http_error_names_the_url_and_status(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.get(BLS_URL, status=403)

    code = main(["calendar", "update", "--year", "2027"])

    assert code == 1
    assert f"{BLS_URL} answered HTTP 403" in capsys.readouterr().err


def test_offline_a_refused_connection_fails_with_a_clear_message(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bls.ics"
    config = sources_path(home)
    config.parent.mkdir(parents=True)
    config.write_text(
        json.dumps({"sources": [{"name": "BLS mirror", "url": url, "kinds": ["cpi"]}]}),
        encoding="utf-8",
    )

    code = main(["calendar", "update", "--year", "2027"])

    err = capsys.readouterr().err
    assert code == 1
    assert f"BLS mirror: cannot connect to {url}" in err and "refused" in err
    assert "calypso calendar import FILE" in err and "nothing written" in err
    assert not paths.events_overlay_path(home).exists()
