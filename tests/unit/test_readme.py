"""Every ``newsflow`` command in the README parses as written, from a clone's top folder.

Each line of a ``sh`` block that starts with ``newsflow`` goes through the real command's
argument parsing (options, choices, ranges, paths that must exist); what it does once
parsed is the other tests' business.
"""

from __future__ import annotations

import re
import shlex

import click
import pytest

from newsflow.cli import main
from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [
        line.split(" #")[0].strip() for block in blocks for line in block.splitlines() if line.startswith("newsflow ")
    ]


@pytest.mark.parametrize("line", readme_commands())
def test_the_readme_command_parses(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    words = shlex.split(line)[1:]
    for redirect in ("<", ">"):
        if redirect in words:
            at = words.index(redirect)
            if redirect == "<":
                assert (ROOT / words[at + 1]).is_file(), line
            words = words[:at] + words[at + 2 :]
    ctx = click.Context(main)
    command: click.Command | None = main
    while isinstance(command, click.Group):
        name, words = words[0], words[1:]
        command = command.get_command(ctx, name)
        assert command is not None, f"{line}: no command {name}"
    assert command is not None
    command.make_context(command.name or "", words, parent=ctx)


def test_the_readme_has_commands() -> None:
    assert len(readme_commands()) > 20
