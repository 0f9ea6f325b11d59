"""Starting while Kafka is away, and stopping while starting: the worker waits, says why, and exits 0.

Real processes (``newsflow worker`` as a user runs it) and a real TCP port on
127.0.0.1 where nothing listens; no broker is needed to show the waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsflow.cli import main
from sinks.settings import StreamSettings
from tests.conftest import ROOT
from tests.integration.brokers import free_port
from tests.integration.test_stream_cli import env_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def unreachable(tmp_path: Path) -> StreamSettings:
    """Kafka settings pointing at a loopback port nobody listens on, every file in ``tmp_path``."""
    return StreamSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        db_path=str(tmp_path / "log.db"),
        spool_path=str(tmp_path / "spool.db"),
        index_path=str(tmp_path / "index.db"),
        retry_backoff=0.2,
        request_timeout_ms=2000,
    )


def start_worker(settings: StreamSettings, *python_flags: str) -> subprocess.Popen[str]:
    code = "from newsflow.cli import main; main(['worker'])"
    env = {**os.environ, **env_for(settings), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, *python_flags, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )


def lines_of(process: subprocess.Popen[str]) -> Iterator[str]:
    """The process's stderr, line by line (leaving the loop early keeps the pipe open)."""
    assert process.stderr is not None
    return iter(process.stderr.readline, "")


def test_worker_started_while_kafka_is_down_waits_with_back_off_and_names_the_cause(
    unreachable: StreamSettings,
) -> None:
    """Defect 16 and issue 15 item 4: the worker waited 30 s in silence (kafka-python logging ERROR lines),
    then exited 1 with a hint about the metrics port; it now retries with a growing pause and says why."""
    process = start_worker(unreachable)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(lines_of(process)), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while sum("trying again" in line for line in seen) < 3 and time.monotonic() < deadline:
        assert process.poll() is None, "".join(seen)
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0, "".join(seen)
    reader.join(5)
    text = "".join(seen)
    port = unreachable.bootstrap_servers
    assert f"connecting to Kafka at {port}" in text
    assert f"nothing listens on {port} (connection refused)" in text
    pauses = [float(line.split("trying again in ")[1].split(" s")[0]) for line in seen if "trying again" in line]
    assert pauses[:3] == [0.2, 0.4, 0.8], text
    assert "kafka." not in text, "kafka-python's own connection errors are not shown"


def test_sigterm_in_the_first_second_of_worker_exits_cleanly(unreachable: StreamSettings) -> None:
    """Defect 16: a SIGTERM while the worker was still importing its modules ended it with 143."""
    embedded = replace(unreachable, bootstrap_servers=None)
    process = start_worker(embedded, "-X", "importtime")
    for line in lines_of(process):
        if line.rstrip().endswith(" kafka"):  # imported by the worker's own modules, after newsflow.cli
            process.send_signal(signal.SIGTERM)
            break
    rest = [line for line in lines_of(process) if not line.startswith("import time:")]
    assert process.wait(20) == 0, "".join(rest)
    assert "stopped before any work began" in "".join(rest)
    assert not Path(embedded.db_path).exists(), "stopped before anything was opened"


def test_one_shot_command_says_at_once_what_it_could_not_reach(unreachable: StreamSettings) -> None:
    """Issue 15 item 4: ``topics list`` against a stopped broker gave 30 s of silence and a vague error."""
    result = CliRunner().invoke(main, ["topics", "list"], env=env_for(unreachable))
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert f"cannot reach Kafka at {unreachable.bootstrap_servers}: nothing listens on" in message
    assert "is the broker running?" in message
