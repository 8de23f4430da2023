"""ConfigError and the translation of pydantic errors into `file: key.path: problem` lines.

Input values are echoed only when they are numbers: a string in a config could be a secret
pasted into the wrong place, and must not reach a log or a terminal.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

UNKNOWN_KEY = "unknown key (not a CALYPSO setting)"


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with one config file: where (dotted key path, "" for the whole file)
    and what."""

    file: Path
    key: str
    message: str

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


class ConfigError(ValueError):
    """A config file is missing, unreadable or invalid; lists every problem found.

    The message never contains a secret value.
    """

    def __init__(self, problems: typing.Sequence[ConfigProblem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def single(cls, file: Path, message: str, key: str = "") -> ConfigError:
        """A ConfigError with one problem."""
        return cls([ConfigProblem(file, key, message)])


def key_path(loc: tuple[int | str, ...]) -> str:
    """('strategy', 'ladder', 2) -> 'strategy.ladder[2]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def problems_from_validation(
    file: Path, exc: ValidationError, model: type[BaseModel]
) -> list[ConfigProblem]:
    """One ConfigProblem per pydantic error, in the order pydantic reports them."""
    return [
        ConfigProblem(file, key_path(tuple(err["loc"])), _describe(err, model))
        for err in exc.errors(include_url=False)
    ]


def _describe(err: ErrorDetails, model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    got = _echo(err.get("input"))
    if kind == "extra_forbidden":
        loc = tuple(err["loc"])
        hint = _suggest(model, loc)
        return UNKNOWN_KEY + (f"; did you mean {hint!r}?" if hint else "")
    if kind == "missing":
        return "required key is missing"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "less_than_equal": ("<=", "le"),
        "greater_than": (">", "gt"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        symbol, name = bounds[kind]
        return f"must be {symbol} {ctx.get(name)}{got}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "must contain only letters, digits, '-' and '_' (1-255 characters)"
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        return str(error) if error is not None else err["msg"]
    msg = err["msg"]
    if msg.startswith("Input should be"):
        msg = "must be" + msg[len("Input should be") :]
    return msg + got


def _echo(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return ""
    return f" (got {value})"


def _suggest(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """The closest known key at the place of an unknown key, if one is close enough."""
    parent = _model_at(model, loc[:-1])
    if parent is None or not isinstance(loc[-1], str):
        return None
    matches = difflib.get_close_matches(loc[-1], list(parent.model_fields), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] = model
    for part in loc:
        if not isinstance(part, str) or part not in current.model_fields:
            return None
        found = find_model(current.model_fields[part].annotation)
        if found is None:
            return None
        current = found
    return current


def find_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside an annotation such as `X`, `X | None` or `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType or origin is typing.Annotated:
        for arg in typing.get_args(annotation):
            found = find_model(arg)
            if found is not None:
                return found
    return None
