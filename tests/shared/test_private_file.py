"""The atomic private JSON writer shared by the token cache and the secrets file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from shared.private_file import write_private_json


def test_the_file_is_written_owner_only_and_complete(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "tokens.json"

    write_private_json(path, {"b": 2, "a": 1})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1, "b": 2}


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    write_private_json(path, {"kept": "yes"})

    with pytest.raises(TypeError):
        write_private_json(path, {"broken": object()})  # not JSON: fails mid-write

    assert json.loads(path.read_text(encoding="utf-8")) == {"kept": "yes"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.json"]
