"""Every key of a config model as documentation rows: dotted key, default, bounds, meaning.

The bots' README tables are generated from these rows, and tests check that the README and
the shipped example configs cover every key, so documentation cannot drift from the model.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from shared.config.base import SESSION_CLOSE_ET, SESSION_OPEN_ET
from shared.config.errors import find_model

REQUIRED = "(required)"


@dataclass(frozen=True)
class FieldDoc:
    """One leaf key of a config."""

    key: str
    default: str
    bounds: str
    meaning: str


def field_docs(model: type[BaseModel]) -> list[FieldDoc]:
    """All leaf keys of `model` in declaration order (sections are flattened, not listed)."""
    return list(_walk(model, None, ""))


def markdown_table(model: type[BaseModel]) -> str:
    """A Markdown table of every key of `model`."""
    lines = ["| Key | Default | Bounds / values | Meaning |", "|---|---|---|---|"]
    for doc in field_docs(model):
        lines.append(f"| `{doc.key}` | {doc.default} | {doc.bounds} | {doc.meaning} |")
    return "\n".join(lines) + "\n"


def _walk(model: type[BaseModel], instance: BaseModel | None, prefix: str) -> Iterator[FieldDoc]:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        value = getattr(instance, name) if instance is not None else info.default
        sub = find_model(info.annotation)
        if sub is not None and typing.get_origin(info.annotation) is None:
            sub_instance = value if isinstance(value, BaseModel) else None
            yield from _walk(sub, sub_instance, key + ".")
            continue
        yield FieldDoc(
            key=key,
            default=_render_default(value),
            bounds=_bounds(info),
            meaning=(info.description or "").replace("|", "/"),
        )


def _render_default(value: Any) -> str:
    if value is PydanticUndefined:
        return REQUIRED
    return f"`{_jsonable_text(value)}`"


def _jsonable_text(value: Any) -> str:
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_jsonable_text(v) for v in value) + "]"
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"))
    return json.dumps(value if not hasattr(value, "__fspath__") else str(value))


def _bounds(info: FieldInfo) -> str:
    parts: list[str] = []
    for meta in info.metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(meta, attr, None)
            if isinstance(meta, annotated_types.BaseMetadata) and bound is not None:
                parts.append(f"{symbol} {bound}")
        if isinstance(meta, annotated_types.MinLen):
            parts.append(f"{meta.min_length}+ items")
        if isinstance(meta, annotated_types.MaxLen):
            parts.append(f"<= {meta.max_length} items")
    choices = _literal_choices(info.annotation)
    if choices:
        parts.append(" / ".join(f"`{json.dumps(c)}`" for c in choices))
    text = _type_hint(info)
    if text:
        parts.append(text)
    return ", ".join(parts) if parts else "-"


def _literal_choices(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return ()


def _type_hint(info: FieldInfo) -> str:
    text = repr(info.annotation) + repr(info.metadata)
    hints = []
    if "_session_time" in text:
        hints.append(f"HH:MM ET, {SESSION_OPEN_ET:%H:%M}-{SESSION_CLOSE_ET:%H:%M}")
    if "A-Za-z0-9_-" in text:
        hints.append("secret name")
    if "Optional" in repr(info.annotation) or "None" in repr(info.annotation):
        hints.append("or null")
    return ", ".join(hints)


TABLE_START = "<!-- config-table:start (generated: calypso config docs --write-readmes) -->"
TABLE_END = "<!-- config-table:end -->"


def readme_with_table(readme: str, model: type[BaseModel]) -> str:
    """`readme` with the text between the table markers replaced by the current table.

    Raises ValueError when the markers are missing.
    """
    start = readme.find(TABLE_START)
    end = readme.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError("README has no config-table markers")
    head = readme[: start + len(TABLE_START)]
    return f"{head}\n{markdown_table(model)}{readme[end:]}"
