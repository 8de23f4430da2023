"""Load and validate a bot's JSON config, then resolve the secrets it names.

Public entry point of the config layer: `find_config_path`, `load_bot_config`,
`BOT_CONFIG_MODELS`, `ConfigError`. Every problem is reported with the file, the dotted key
path and what is wrong; no secret value ever appears in a message or a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from shared import paths
from shared.bot_modules import bot_module
from shared.config.base import StrictModel
from shared.config.envelope import BotConfigBase
from shared.config.errors import ConfigError, ConfigProblem, problems_from_validation
from shared.secret_manager import SecretStore, SecretStoreError

__all__ = [
    "BOT_CONFIG_MODELS",
    "BotConfigBase",
    "ConfigError",
    "ConfigProblem",
    "LoadedConfig",
    "ResolvedSecrets",
    "StrictModel",
    "find_config_path",
    "load_bot_config",
    "parse_bot_config",
]

logger = logging.getLogger(__name__)

AnyBotConfig = BotConfigBase[Any]


class _BotConfigRegistry(Mapping[str, type[AnyBotConfig]]):
    """Bot name -> config model, imported on first use from `bots.<bot>.config.CONFIG_MODEL`.

    The bots sit above `shared/` in the layering, so this module never imports them at load
    time; the registry looks them up by name, like plugins.
    """

    def __getitem__(self, bot: str) -> type[AnyBotConfig]:
        if bot not in paths.BOT_NAMES:
            raise KeyError(bot)
        module = bot_module(bot, "config")
        model: type[AnyBotConfig] = module.CONFIG_MODEL
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(paths.BOT_NAMES)

    def __len__(self) -> int:
        return len(paths.BOT_NAMES)


BOT_CONFIG_MODELS: Mapping[str, type[AnyBotConfig]] = _BotConfigRegistry()


@dataclass(frozen=True)
class ResolvedSecrets:
    """Secret values named by a config, fetched at start. `repr` and `str` mask every value;
    call `.get_secret_value()` only where the value is used.

    A field is None when the environment does not need it (local mode) or, for Sheets, when
    the secret is missing (the mirror is then disabled).
    """

    saxo_credentials: SecretStr | None = None
    account: SecretStr | None = None
    sheets_credentials: SecretStr | None = None


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config, where it came from, and its resolved secrets."""

    bot: str
    path: Path
    config: AnyBotConfig
    secrets: ResolvedSecrets
    is_example: bool


def _model_for(bot: str, file: Path) -> type[AnyBotConfig]:
    model = BOT_CONFIG_MODELS.get(bot)
    if model is None:
        valid = ", ".join(BOT_CONFIG_MODELS)
        raise ConfigError.single(file, f"unknown bot {bot!r} (valid bots: {valid})")
    return model


def find_config_path(bot: str, explicit: Path | None = None) -> Path:
    """The config file for `bot`: `explicit` if given (even if missing: loading then says so),
    else `CALYPSO_HOME/bots/<bot>/config/config.json` if it exists, else the shipped example
    (logged as a warning: the example runs in local mode only)."""
    if explicit is not None:
        return explicit
    operator_file = paths.bot_config_path(bot)
    if operator_file.is_file():
        return operator_file
    example = paths.bot_example_config_path(bot)
    logger.warning("config_using_example bot=%s path=%s missing=%s", bot, example, operator_file)
    return example


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(file, "config file not found") from None
    except IsADirectoryError:
        raise ConfigError.single(file, "is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError.single(file, "permission denied reading the config file") from None
    except UnicodeDecodeError:
        raise ConfigError.single(file, "not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError.single(file, f"cannot read: {exc.strerror}") from None


def _check_json(file: Path, text: str) -> None:
    """Syntax (with line and column), duplicate keys, no NaN/Infinity, an object at the top."""
    duplicates: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        return dict(pairs)

    def reject_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError.single(
            file, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise ConfigError.single(file, f"invalid JSON: {exc} is not a number") from None
    if duplicates:
        raise ConfigError(
            [
                ConfigProblem(file, key, "key appears more than once in one object")
                for key in duplicates
            ]
        )
    if not isinstance(data, dict):
        raise ConfigError.single(file, "the top level must be a JSON object {...}")


def parse_bot_config(bot: str, text: str, *, file: Path = Path("<string>")) -> AnyBotConfig:
    """Validate the JSON `text` as `bot`'s config. Raises ConfigError naming `file`."""
    model = _model_for(bot, file)
    _check_json(file, text)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(file, exc, model)) from None


def _resolve_secrets(config: AnyBotConfig, store: SecretStore, file: Path) -> ResolvedSecrets:
    problems: list[ConfigProblem] = []

    def fetch(name: str, key: str, *, required: bool) -> SecretStr | None:
        try:
            value = store.get(name)
        except SecretStoreError as exc:
            problems.append(ConfigProblem(file, key, f"secret {name!r} unavailable: {exc}"))
            return None
        if value is None and required:
            problems.append(ConfigProblem(file, key, f"secret {name!r} not found"))
        return None if value is None else SecretStr(value)

    saxo = account = sheets = None
    if config.needs_saxo_secrets:
        saxo = fetch(
            config.account.saxo_credentials_secret,
            "account.saxo_credentials_secret",
            required=True,
        )
        account = fetch(config.account.account_secret, "account.account_secret", required=True)
    sheet_secret = config.sheets.credentials_secret
    if config.sheets.enabled and sheet_secret is not None:
        sheets = fetch(sheet_secret, "sheets.credentials_secret", required=False)
        if sheets is None:
            logger.warning(
                "sheets_credentials_missing bot=%s secret=%s action=sheets_mirror_disabled",
                config.bot.name,
                sheet_secret,
            )
    if problems:
        raise ConfigError(problems)
    return ResolvedSecrets(saxo_credentials=saxo, account=account, sheets_credentials=sheets)


def load_bot_config(bot: str, path: Path, *, secrets: SecretStore | None = None) -> LoadedConfig:
    """Read, validate and (when `secrets` is given) resolve the secrets of `bot`'s config.

    Without a store only the file is checked and `LoadedConfig.secrets` is empty. With one,
    live and sim need the Saxo credentials and account secrets; local mode needs none; a
    missing Sheets secret disables the mirror with a warning. Raises ConfigError listing
    every problem (file, dotted key path, what is wrong).
    """
    config = parse_bot_config(bot, _read_text(path), file=path)
    resolved = ResolvedSecrets() if secrets is None else _resolve_secrets(config, secrets, path)
    is_example = path.resolve() == paths.bot_example_config_path(bot).resolve()
    logger.info(
        "config_loaded bot=%s path=%s environment=%s dry_run=%s example=%s secrets=%s",
        bot,
        path,
        config.bot.environment,
        config.bot.dry_run,
        is_example,
        "resolved" if secrets is not None else "not_requested",
    )
    return LoadedConfig(bot=bot, path=path, config=config, secrets=resolved, is_example=is_example)
