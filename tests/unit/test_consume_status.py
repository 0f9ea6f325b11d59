"""``consume`` and ``status`` on a real embedded log: where reading ends, in what order, which groups show."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsflow import stream_cli
from newsflow.cli import main
from newsflow.status import CANARY_STATES
from tests.conftest import CMS_FIXTURES, ROOT

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose log holds the CMS fixture pages, cleaned."""
    folder = tmp_path_factory.mktemp("data")
    pages = sorted(CMS_FIXTURES.glob("*.html"))[:12]
    env = {"NEWSFLOW_DATA_DIR": str(folder)}
    ingested = CliRunner().invoke(main, ["ingest", *map(str, pages), "--site", "cms"], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert CliRunner().invoke(main, ["worker", "--exit-when-idle"], env=env).exit_code == 0
    return folder


def invoke(data: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={"NEWSFLOW_DATA_DIR": str(data), "NEWSFLOW_CONFIG": None})
    assert result.exit_code == 0, result.output
    return result


def test_consume_ends_at_the_end_of_the_partitions(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_cli, "IDLE_EXIT", 3600.0)  # waiting for silence would hang the test
    records = invoke(data, "consume", "raw").stdout.splitlines()
    assert len(records) == 12
    assert invoke(data, "consume", "crawl-requests").stdout == ""  # an empty topic ends at once too
    assert invoke(data, "consume", "raw", "--offset", "1000").stdout == ""
    first = invoke(data, "consume", "raw", "--group", "g1", "--limit", "5").stdout.splitlines()
    rest = invoke(data, "consume", "raw", "--group", "g1").stdout.splitlines()
    assert len(first) == 5 and len(rest) == 7


def test_consume_prints_records_in_the_same_order_every_time(data: Path) -> None:
    runs = [[json.loads(line)["url"] for line in invoke(data, "consume", "raw").stdout.splitlines()] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2] and len(set(runs[0])) == 12


def test_status_lists_every_group_and_explains_the_canary(data: Path) -> None:
    invoke(data, "consume", "articles", "--group", "indexer", "--limit", "2")
    shown = invoke(data, "status", "--sites-dir", str(ROOT / "config" / "sites")).stdout
    rows = [line.split() for line in shown.splitlines()]
    assert ["indexer", "newsflow.articles", str(12 - 2 - rejected(data))] in rows, shown
    assert ["newsflow-cleaner", "newsflow.raw", "0"] in rows
    for name, meaning in CANARY_STATES.items():
        assert f"  {name:<9}{meaning}" in shown


def rejected(data: Path) -> int:
    return len(invoke(data, "consume", "rejected").stdout.splitlines())


def test_the_worker_logs_as_the_service_does(data: Path, restore_root: None) -> None:
    done = invoke(data, "worker", "--exit-when-idle")
    logged = done.stderr.splitlines()
    assert done.stdout == "nothing to clean\n"  # the summary, on stdout as crawl's and replay's
    entry = json.loads(logged[0])
    assert (entry["logger"], entry["level"]) == ("newsflow.worker", "info") and "cleaning" in entry["message"]
    text = invoke(data, "worker", "--exit-when-idle", "--log-format", "text").stderr.splitlines()
    assert " INFO " in text[0] and "newsflow.worker: cleaning" in text[0]


@pytest.fixture
def restore_root() -> Iterator[None]:
    """The worker rewires the root logger: put it back so other tests are not affected."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
