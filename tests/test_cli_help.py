"""The command line explains itself: one test walks the whole parser, whatever commands it holds."""

import argparse

import pytest

from discovery.cli import main
from discovery.cli.parser import build_parser


def _commands(parser, path=("discovery",)):
    """Every (command path, parser) under ``parser``, itself included, in the order of the help."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, path + (name,))


def _listed(parser):
    """The help line of each subcommand of ``parser``, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help for a in action._choices_actions}
    return {}


COMMANDS = list(_commands(build_parser()))


def test_the_walk_reaches_every_group_of_commands():
    names = {" ".join(path[1:]) for path, _ in COMMANDS}
    assert {"run", "identify", "query", "campaign run", "campaign status", "families", "report", "constants",
            "pcf eval", "programs evolve"} <= names


@pytest.mark.parametrize("path, parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_a_description_and_every_option_help_and_its_default(path, parser):
    assert parser.description and len(parser.description) > 20, f"{' '.join(path)} has no description"
    for name, text in _listed(parser).items():
        assert text, f"{' '.join(path)} {name} has no help line"
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        where = f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}"
        assert action.help and action.help.strip(), f"{where} has no help"
        if not (action.default is None or action.default is False or action.default is argparse.SUPPRESS):
            assert "default" in formatter._expand_help(action), f"{where} does not show its default {action.default!r}"


def test_defaults_are_shown_in_the_rendered_help(capsys):
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    out = capsys.readouterr().out
    assert "(default: table)" in " ".join(out.split())
    with pytest.raises(SystemExit):
        main(["identify", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 1)" in out and "default 5" in out and "20 digits" in out
    with pytest.raises(SystemExit):
        main(["pcf", "survey", "--help"])
    assert "2^63-1 (default: 0)" in " ".join(capsys.readouterr().out.split())  # a default of 0 is shown too


def test_run_is_the_first_command_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.split("COMMAND\n", 2)[-1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed[:3] == ["run", "identify", "query"]
