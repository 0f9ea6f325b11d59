"""The lazy command line: every command listed from the table, loaded on demand, ``clean`` without the crawl stack."""

from __future__ import annotations

import inspect
import subprocess
import sys

import click
from click.testing import CliRunner

from cleaner.settings import TARGET_SCRIPTS
from newsflow import clean_cli
from newsflow.cli import COMMANDS, load_command, main
from tests.conftest import SEEDS

HEAVY = ("scrapy", "twisted", "kafka")


def test_each_short_help_is_the_first_line_of_the_commands_docstring() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        first_line = inspect.getdoc(command.callback).splitlines()[0] if command.callback else ""
        assert entry.short_help == first_line, name


def test_help_lists_every_command_with_its_short_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == sorted(COMMANDS)
    for line in listed:
        name, shown = line.split(maxsplit=1)
        assert load_command(name).get_short_help_str(limit=len(shown)) == shown


def test_every_command_resolves_and_has_help() -> None:
    context = click.Context(main)
    for name in COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert main.get_command(context, name) is load_command(name)


def test_the_script_choices_are_the_cleaners() -> None:
    assert clean_cli.TARGET_SCRIPTS == TARGET_SCRIPTS


def loaded_after(*args: str) -> dict[str, bool]:
    """Which heavy libraries a fresh process has imported after ``newsflow ARGS``."""
    code = (
        "import sys\n"
        "from newsflow.cli import main\n"
        f"main({list(args)!r}, standalone_mode=False)\n"
        f"print(' '.join(str(name in sys.modules) for name in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return dict(zip(HEAVY, (word == "True" for word in out.stdout.split()[-len(HEAVY) :]), strict=True))


def test_clean_help_imports_no_crawl_or_kafka_library() -> None:
    assert loaded_after("clean", "--help") == dict.fromkeys(HEAVY, False)
    assert loaded_after("--help") == dict.fromkeys(HEAVY, False)


def test_clean_imports_no_crawl_or_kafka_library() -> None:
    assert loaded_after("clean", str(SEEDS / "004_f2452ddb75c7bb69.txt")) == dict.fromkeys(HEAVY, False)
