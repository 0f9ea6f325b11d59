"""A worker killed with SIGKILL mid-batch; another takes over; no raw record is left without its output.

Two ``newsflow worker`` processes share the partitions. One is SIGKILLed while it cleans; the
group drops it after the session timeout and the other takes its partitions from the last
commit. The survivor is then stopped with SIGTERM and must exit cleanly. Run on the embedded
log and on tansu (a broker that evicts a killed member; noida-db keeps it until a restart).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from sinks.backends import create_topics, open_log, read_messages
from sinks.log import Log
from sinks.settings import StreamSettings
from tests.conftest import ROOT
from tests.contracts import produce_pages
from tests.integration.conftest import backend_settings
from tests.integration.test_stream_cli import env_for

pytestmark = pytest.mark.timeout(300)

COPIES = 4  # of each fixture page, under different URLs


@pytest.fixture(params=["sqlite", "tansu"])
def crash_settings(request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str) -> StreamSettings:
    """The embedded log and tansu, the broker that evicts a killed group member."""
    return backend_settings(request, tmp_path, topic_prefix, "tansu", partitions=4, batch_size=10)


def start_worker(settings: StreamSettings, log_file: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **env_for(settings), "PYTHONUNBUFFERED": "1"}
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def outputs(log: Log, settings: StreamSettings, want: int, timeout: float) -> Counter[str]:
    names = create_topics(log, settings)
    found = read_messages(log, [names.articles, names.rejected], want=want, timeout=timeout)
    return Counter(str(m.header("ce_rawref")) for m in found)


def test_killed_worker_leaves_no_raw_record_without_output(crash_settings: StreamSettings, tmp_path: Path) -> None:
    settings = crash_settings
    log = open_log(settings)
    names = create_topics(log, settings)
    total = produce_pages(log, names.raw, COPIES)
    raw_refs = {m.ref for m in read_messages(log, [names.raw], want=total, timeout=30)}
    assert len(raw_refs) == total

    victim = start_worker(settings, tmp_path / "victim.log")
    survivor = start_worker(settings, tmp_path / "survivor.log")
    try:
        deadline = time.monotonic() + 90
        while sum(outputs(log, settings, 20, 1).values()) < 20 and time.monotonic() < deadline:
            assert victim.poll() is None, (tmp_path / "victim.log").read_text()
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        done_at_kill = sum(outputs(log, settings, total, 2).values())
        assert done_at_kill < total, "the victim was killed before the work was done"

        deadline = time.monotonic() + 120
        found: Counter[str] = Counter()
        while time.monotonic() < deadline and not raw_refs <= set(found):
            found = outputs(log, settings, total * 2, 2)
            assert survivor.poll() is None, (tmp_path / "survivor.log").read_text()
        assert raw_refs <= set(found), f"{len(raw_refs - set(found))} raw record(s) without output"
        assert set(found) <= raw_refs

        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(60) == 0, (tmp_path / "survivor.log").read_text()
        assert "SIGTERM received" in (tmp_path / "survivor.log").read_text()
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.kill()
                process.wait()
    log.close()


def test_sigterm_finishes_the_batch_commits_and_exits(stream_settings: StreamSettings, tmp_path: Path) -> None:
    """Stopped mid-run: exit 0, and every record below the committed offsets has its output."""
    settings = replace(stream_settings, batch_size=10)
    log = open_log(settings)
    names = create_topics(log, settings)
    total = produce_pages(log, names.raw, 2 * COPIES)  # enough work to stop in the middle of

    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 90
        while sum(outputs(log, settings, 20, 1).values()) < 20 and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    committed = log.committed(settings.group, names.raw)
    assert 0 < sum(committed.values()) < total, "stopped mid-run, after some commits"
    done = set(outputs(log, settings, total, 3))
    below = {f"{names.raw}/{p}/{o}" for p, end in committed.items() for o in range(end)}
    assert below <= done, f"{len(below - done)} committed record(s) without output"
    log.close()
