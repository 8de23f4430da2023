"""Logging setup: event lines, journald priorities, the rotating file, and redaction."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import logger_service
from shared.logger_service import configure_logging, kv, redact, register_secret

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_kv_renders_event_and_quotes_values_with_spaces() -> None:
    line = kv("order_filled", uic=4913, reason="wing touch", price=None)
    assert line == 'order_filled uic=4913 reason="wing touch" price=null'


def test_redact_hides_bearer_tokens_jwts_and_oauth_fields() -> None:
    text = (
        f"Authorization: Bearer {JWT} refresh_token=abcdef123456 "
        '{"app_secret": "s3cr3t-value"} ErrorCode=InvalidModelState'
    )
    cleaned = redact(text)
    assert JWT not in cleaned
    assert "abcdef123456" not in cleaned
    assert "s3cr3t-value" not in cleaned
    assert "ErrorCode=InvalidModelState" in cleaned


def test_registered_secret_is_redacted_even_without_a_known_shape() -> None:
    register_secret("plainvalue-9f8e7d")
    assert "plainvalue-9f8e7d" not in redact("loaded key plainvalue-9f8e7d ok")


def test_configured_handlers_never_print_a_token(tmp_path: Path) -> None:
    stream = io.StringIO()
    log_file = configure_logging("iron_fly_0dte", home=tmp_path, stream=stream)
    logger = logging.getLogger("tests.redaction")
    logger.info("token_refreshed access_token=%s", JWT)
    try:
        raise RuntimeError(f"refresh failed for Bearer {JWT}")
    except RuntimeError:
        logger.exception("refresh_error")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert log_file is not None
    file_text = log_file.read_text()
    console_text = stream.getvalue()
    for text in (file_text, console_text):
        assert JWT not in text
        assert "token_refreshed access_token=" in text
        assert logger_service.REDACTED in text


def test_journald_lines_carry_syslog_priority_and_no_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    stream = io.StringIO()
    configure_logging(None, home=tmp_path, stream=stream)
    logging.getLogger("tests.journald").error("stop_failed uic=1")
    logging.getLogger("tests.journald").warning("stale_quote age_s=9")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "<3>ERROR tests.journald: stop_failed uic=1"
    assert lines[1] == "<4>WARNING tests.journald: stale_quote age_s=9"


def test_log_file_is_created_under_calypso_home(tmp_path: Path) -> None:
    path = configure_logging("delta_neutral", home=tmp_path, stream=io.StringIO())
    assert path == tmp_path / "logs" / "delta_neutral" / "bot.log"
    assert path.exists()


def test_reconfiguring_replaces_previous_handlers(tmp_path: Path) -> None:
    configure_logging(None, home=tmp_path, stream=io.StringIO())
    configure_logging(None, home=tmp_path, stream=io.StringIO())
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_calypso", False)]
    assert len(ours) == 1
