"""`calypso` builds only the parser of the command it runs; help and typos still see them all."""

from __future__ import annotations

import argparse

import pytest

from shared.cli.main import COMMAND_MODULES, build_parser, main


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(subparsers.choices)


def test_every_listed_module_registers_the_command_it_is_listed_under() -> None:
    for command in COMMAND_MODULES:
        assert _commands(build_parser(command)) == [command]


def test_the_full_parser_lists_every_command() -> None:
    assert _commands(build_parser()) == list(COMMAND_MODULES)


def test_an_unknown_command_is_refused_naming_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["jounral"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "'jounral'" in err and all(f"'{command}'" in err for command in COMMAND_MODULES)


def test_no_command_prints_the_help_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2

    out = capsys.readouterr().out
    assert all(command in out for command in COMMAND_MODULES)
