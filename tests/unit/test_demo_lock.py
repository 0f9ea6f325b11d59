"""Issue 14, defect 14: `newsflow demo` deleted data/demo under a live `run --demo`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsflow.cli import main
from tests.conftest import ROOT

HOLD = """
import sys
from newsflow.demo import demo_lock
with demo_lock():
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Another process holds the demo's data, as a running `newsflow run --demo` does."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "demo").mkdir(parents=True)
    (tmp_path / "data" / "demo" / "newsflow.db").write_bytes(b"the live service's log")
    env = {"PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD], cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield holder
    holder.communicate("", timeout=10)


def test_defect_14_demo_refuses_while_a_run_demo_holds_its_data(held: subprocess.Popen, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert f"data/demo is in use by another `newsflow demo` or `newsflow run --demo` (pid {held.pid})" in result.output
    assert (tmp_path / "data" / "demo" / "newsflow.db").read_bytes() == b"the live service's log", "nothing deleted"


def test_defect_14_a_second_run_demo_is_refused_too(held: subprocess.Popen) -> None:
    result = CliRunner().invoke(main, ["run", "--demo", "--metrics-port", "-1"])
    assert result.exit_code == 1 and "stop that one first" in result.output
