"""Start-up failures through the real `calypso` command: one line naming the file or key, the
documented exit code, no traceback, and the offending file left exactly as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "bots" / "iron_fly_0dte" / "config" / "config.example.json"
CALYPSO = [sys.executable, "-m", "shared.cli"]
UNREACHABLE_SIM = "http://127.0.0.1:9"  # nothing listens: start-up must fail before it matters


def calypso(home: Path, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CALYPSO_")}
    environ.update({"CALYPSO_HOME": str(home), **(env or {})})
    return subprocess.run(
        [*CALYPSO, *args], env=environ, capture_output=True, text=True, timeout=60,
        cwd=REPO, check=False,
    )


def calypso_in_process(home: Path, *args: str, env: dict[str, str] | None = None,
                       ) -> subprocess.CompletedProcess[str]:
    """The same command through its entry point (`shared.cli.main.main`) in this process, for
    commands whose behaviour needs no process of their own (each subprocess costs ~2 s)."""
    import contextlib
    import io

    from shared.cli.main import main

    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        for key in [k for k in os.environ if k.startswith("CALYPSO_")]:
            del os.environ[key]
        os.environ.update({"CALYPSO_HOME": str(home), **(env or {})})
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, *named: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    for text in named:
        assert text in result.stderr, result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_config(home: Path, environment: str, **sections: object) -> Path:
    document = json.loads(EXAMPLE.read_text())
    document["bot"]["environment"] = environment
    document.update(sections)
    path = home / "bots" / "iron_fly_0dte" / "config" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    return path


def test_the_example_config_is_refused_outside_local(tmp_path: Path) -> None:
    environment = "live"
    result = calypso(tmp_path, "run", "iron_fly_0dte", "--env", environment)

    missing = tmp_path / "bots" / "iron_fly_0dte" / "config" / "config.json"
    assert_clean_failure(result, 2, str(missing), "--env local only", "cp ")


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "secret 'calypso-saxo-credentials' not found"),
        ("not json", "calypso-saxo-credentials is not valid JSON"),
    ],
)
def test_missing_or_malformed_credentials_are_a_config_error(
    tmp_path: Path, secret: str | None, message: str
) -> None:
    write_config(tmp_path, "live")
    env = {"CALYPSO_SECRET_CALYPSO_ACCOUNT_CONFIG": "{}"}
    if secret is not None:
        env["CALYPSO_SECRET_CALYPSO_SAXO_CREDENTIALS"] = secret

    result = calypso(tmp_path, "run", "iron_fly_0dte", env=env)

    assert_clean_failure(result, 2, message, "account.saxo_credentials_secret")


@pytest.mark.parametrize(
    ("content", "message"),
    [(os.urandom(5000), "is not an SQLite database"), (b"", "is empty (0 bytes)")],
    ids=["random-bytes", "zero-bytes"],
)
def test_an_unusable_journal_stops_the_start_and_is_left_untouched(
    tmp_path: Path, content: bytes, message: str
) -> None:
    journal = tmp_path / "data" / "iron_fly_0dte.sqlite"
    journal.parent.mkdir()
    journal.write_bytes(content)
    before = digest(journal)

    result = calypso(tmp_path, "run", "iron_fly_0dte", "--env", "local",
                     "--sim-url", UNREACHABLE_SIM)

    assert_clean_failure(result, 4, str(journal), message)
    assert digest(journal) == before


def test_status_and_journal_name_an_unreadable_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "iron_fly_0dte.sqlite").write_bytes(b"")
    (data / "delta_neutral.sqlite").mkdir()

    status = calypso_in_process(tmp_path, "status")
    journal = calypso_in_process(tmp_path, "journal", "delta_neutral")

    assert_clean_failure(status, 1, "iron_fly_0dte", "is empty (0 bytes)", "is a directory")
    assert_clean_failure(journal, 2, "is a directory, not a journal file")
    assert (data / "iron_fly_0dte.sqlite").read_bytes() == b""


@pytest.mark.parametrize("as_file", ["", "logs"])
def test_a_home_path_that_is_a_file_is_named(tmp_path: Path, as_file: str) -> None:
    home = tmp_path / "home"
    if as_file:
        home.mkdir()
    blocker = home / as_file if as_file else home
    blocker.write_text("not a directory")

    result = calypso(home, "run", "iron_fly_0dte", "--env", "local", "--sim-url", UNREACHABLE_SIM)

    assert_clean_failure(result, 4, f"{blocker} is a file, not a directory")
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize("command", [["auth", "login", "--env", "local"], ["demo"]])
def test_auth_login_and_demo_name_a_home_that_is_a_file(tmp_path: Path, command: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("x")

    result = calypso(home, *command, env={"CALYPSO_SIM_URL": UNREACHABLE_SIM})

    assert_clean_failure(result, 4, f"{home} is a file, not a directory")


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b"[]", "the top level is a JSON list, not an object"),
        (b'{"environments": "x"}', "'environments' is not an object"),
    ],
    ids=["not-utf8", "list", "environments-string"],
)
def test_a_bad_token_cache_is_named_with_what_to_run(
    tmp_path: Path, cache: bytes, message: str
) -> None:
    path = tmp_path / "data" / "saxo_token_cache.json"
    path.parent.mkdir()
    path.write_bytes(cache)

    result = calypso_in_process(tmp_path, "auth", "status", "--env", "local")

    assert_clean_failure(result, 1, str(path), message, "calypso auth login")
    assert path.read_bytes() == cache


def test_a_token_cache_readable_by_others_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "data" / "saxo_token_cache.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)

    result = calypso_in_process(tmp_path, "auth", "status", "--env", "local")

    assert "mode 0644, wider than 0600" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_secrets_parses_what_run_will_load(tmp_path: Path) -> None:
    write_config(tmp_path, "sim")
    env = {"CALYPSO_SECRET_CALYPSO_SAXO_CREDENTIALS": "not json",
           "CALYPSO_SECRET_CALYPSO_ACCOUNT_CONFIG": "{}"}

    result = calypso_in_process(tmp_path, "config", "check", "iron_fly_0dte", "--secrets", env=env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "account.saxo_credentials_secret" in result.stdout
    assert "not valid JSON" in result.stdout and "Traceback" not in result.stdout


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (None, 0o600, "does not exist"),
        ("garbage", 0o600, "not valid JSON"),
        ('{"type": "service_account"}', 0o644, "has mode 0644"),
    ],
    ids=["missing", "garbage", "world-readable"],
)
def test_config_check_refuses_a_sheets_credentials_file_sheets_sync_would_refuse(
    tmp_path: Path, content: str | None, mode: int, message: str
) -> None:
    key_file = tmp_path / "google.json"
    if content is not None:
        key_file.write_text(content)
        key_file.chmod(mode)
    sheets = {"enabled": True, "spreadsheet_name": "Log", "credentials_secret": None,
              "credentials_file": str(key_file)}
    write_config(tmp_path, "local", sheets=sheets)

    result = calypso_in_process(tmp_path, "config", "check", "iron_fly_0dte")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "sheets.credentials_file" in result.stdout and message in result.stdout


def test_config_check_refuses_sheets_enabled_without_any_google_credentials(
    tmp_path: Path,
) -> None:
    sheets = {"enabled": True, "spreadsheet_name": "Log",
              "credentials_secret": "calypso-google-sheets-credentials", "credentials_file": None}
    write_config(tmp_path, "local", sheets=sheets)

    result = calypso_in_process(tmp_path, "config", "check", "iron_fly_0dte", "--secrets")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "no Google service-account credentials could be loaded" in result.stdout


def test_a_config_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())

    result = calypso_in_process(
        tmp_path, "config", "check", "iron_fly_0dte", "--config", str(config)
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_demo_takes_a_bare_date_and_sim_serve_suggests_a_valid_one(tmp_path: Path) -> None:
    shutil.rmtree(tmp_path)
    tmp_path.mkdir()

    result = calypso_in_process(tmp_path, "sim", "serve", "--start", "2026-03-02")

    assert_clean_failure(result, 2, "2026-03-02T09:25:00-05:00")
    assert "2026-03-02Z" not in result.stderr
