"""The installation root (CALYPSO_HOME) and the data, log and config paths under it."""

from __future__ import annotations

import os
from pathlib import Path

VM_HOME = Path("/opt/calypso")
BOT_NAMES: tuple[str, ...] = ("iron_fly_0dte", "delta_neutral", "rolling_put_diagonal")

_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "bots").is_dir()


def calypso_home() -> Path:
    """The installation root: $CALYPSO_HOME, else the repo root in a checkout, else /opt/calypso."""
    env = os.environ.get("CALYPSO_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if _is_checkout(_CHECKOUT_ROOT):
        return _CHECKOUT_ROOT
    return VM_HOME


def code_root() -> Path:
    """Where the `bots/` and `shared/` packages live (the checkout, or the installed tree)."""
    return _CHECKOUT_ROOT


def data_dir(home: Path | None = None) -> Path:
    """`CALYPSO_HOME/data`: journals, token cache. Not created here."""
    return (home or calypso_home()) / "data"


def events_overlay_path(home: Path | None = None) -> Path:
    """`CALYPSO_HOME/data/events_local.json`: the operator's event dates, merged over the
    packaged event data (written by `calypso calendar import`)."""
    return data_dir(home) / "events_local.json"


def log_dir(bot: str, home: Path | None = None) -> Path:
    """`CALYPSO_HOME/logs/<bot>`. Not created here."""
    return (home or calypso_home()) / "logs" / bot


def journal_path(bot: str, home: Path | None = None) -> Path:
    """`CALYPSO_HOME/data/<bot>.sqlite`."""
    return data_dir(home) / f"{bot}.sqlite"


def token_cache_path(home: Path | None = None) -> Path:
    """`CALYPSO_HOME/data/saxo_token_cache.json` (mode 0600)."""
    return data_dir(home) / "saxo_token_cache.json"


def bot_config_path(bot: str, home: Path | None = None) -> Path:
    """The operator-edited `bots/<bot>/config/config.json` under CALYPSO_HOME."""
    return (home or calypso_home()) / "bots" / bot / "config" / "config.json"


def bot_example_config_path(bot: str) -> Path:
    """The shipped `config.example.json` for `bot`, beside the bot's code."""
    return code_root() / "bots" / bot / "config" / "config.example.json"


class HomeDirError(RuntimeError):
    """A directory CALYPSO must write to is missing and cannot be created, is a file, or is
    read-only. The message names the path and what is wrong."""


def ensure_writable_dir(path: Path) -> Path:
    """Create `path` (with parents) if missing and check that this process can write there.

    Raises HomeDirError naming `path` (or the first parent that is not a directory).
    """
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise HomeDirError(f"{parent} is a file, not a directory (needed for {path})")
        if parent.exists():
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeDirError(f"cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise HomeDirError(f"{path} is not writable by this user")
    return path


def prepare_home(bot: str | None = None, home: Path | None = None) -> None:
    """Make sure `CALYPSO_HOME`, its `data/` and (for `bot`) `logs/<bot>/` are writable
    directories before anything is written there. Raises HomeDirError naming the path."""
    root = home or calypso_home()
    ensure_writable_dir(data_dir(root))
    if bot is not None:
        ensure_writable_dir(log_dir(bot, root))
