"""Writing a JSON file atomically: private (tokens, secrets: mode 0600 from the first byte) or
with another mode (operator data such as the event calendar overlay)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_private_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write `document` to `path` atomically with mode 0600 (see `write_json_atomically`)."""
    write_json_atomically(path, document, mode=0o600)


def write_json_atomically(path: Path, document: Mapping[str, Any], *, mode: int) -> None:
    """Write `document` to `path` (indented, sorted keys, final newline) with `mode` via a
    temp file in the same directory, fsync and rename, then fsync the directory. A reader sees
    the old file or the new one, never a torn one. Raises OSError; the temp file is removed."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; best effort (some filesystems refuse a directory fsync)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
