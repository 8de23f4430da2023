"""Loads the recorded-shape Saxo payloads under tests/resources/saxo/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "saxo"


def load(name: str) -> Any:
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))
