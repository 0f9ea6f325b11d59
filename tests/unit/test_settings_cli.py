"""Settings as a user meets them: one data directory, a checked config file, one-sentence errors.

The commands run in-process on the real entry point, in a fresh working directory, on real
SQLite files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsflow.cli import main
from newsflow.settings import crawler_settings, service_settings, stream_settings
from tests.conftest import CMS_FIXTURES

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"NEWSFLOW_CONFIG": None, "NEWSFLOW_DATA_DIR": None, **(env or {})})


def one_sentence_error(result: Result) -> str:
    """The error line of a failed command: one line, no traceback, non-zero exit."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert line.endswith("."), line
    return line


def test_the_data_directory_moves_every_state_file_together() -> None:
    env = {"NEWSFLOW_DATA_DIR": "/srv/nf"}
    streams = stream_settings(env=env)
    assert (streams.db_path, streams.index_path, streams.spool_path) == (
        "/srv/nf/newsflow.db",
        "/srv/nf/neardup.db",
        "/srv/nf/spool.db",
    )
    assert service_settings(env=env).state_path == "/srv/nf/service.db"
    assert crawler_settings(env=env).state_dir == "/srv/nf/crawl"
    # a path set on its own still wins; --demo (a flag) wins over both
    assert stream_settings(env={**env, "NEWSFLOW_STREAMS_DB_PATH": "x.db"}).db_path == "x.db"
    assert stream_settings(env=env, data="data/demo").index_path == "data/demo/neardup.db"


def test_data_dir_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "nf.toml"
    config.write_text('data_dir = "/var/lib/newsflow"\n[streams]\npartitions = 3\n')
    assert stream_settings(config, env={}).db_path == "/var/lib/newsflow/newsflow.db"
    assert service_settings(config, env={}).state_path == "/var/lib/newsflow/service.db"


def test_ingest_and_worker_keep_everything_in_the_data_directory(workdir: Path) -> None:
    page = next(CMS_FIXTURES.glob("trs_*.html"))
    env = {"NEWSFLOW_DATA_DIR": "state"}
    assert invoke("ingest", str(page), "--site", "trs", env=env).exit_code == 0
    assert invoke("worker", "--exit-when-idle", env=env).exit_code == 0
    assert {p.name for p in (workdir / "state").iterdir()} >= {"newsflow.db", "neardup.db"}
    assert not (workdir / "data").exists()
    consumed = invoke("consume", "articles", env=env)
    assert consumed.exit_code == 0 and '"schema": "newsflow.article/1"' in consumed.output


def test_reading_commands_create_no_file(workdir: Path) -> None:
    line = one_sentence_error(invoke("consume", "articles"))
    assert "no log at data/newsflow.db" in line and "--demo" in line
    line = one_sentence_error(invoke("consume", "articles", "--demo"))
    assert "no log at data/demo/newsflow.db" in line and "`newsflow demo`" in line
    listed = invoke("topics", "list", "--demo")
    assert listed.exit_code == 0 and "no topics yet" in listed.output
    shown = invoke("status", "--demo")
    assert shown.exit_code == 0 and "newsflow.raw" in shown.output and "nothing has run here yet" in shown.output
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('[crawler]\ndownload_delay = "fast"\n', '[crawler] download_delay must be a number, not "fast"'),
        ('[streams]\npartitions = "six"\n', '[streams] partitions must be a whole number, not "six"'),
        ("[service]\nadaptive = 1\n", "[service] adaptive must be true or false, not 1"),
        ("[stream]\npartitions = 6\n", "unknown table [stream]"),
        ("[streams]\npartition = 6\n", "unknown [streams] setting(s): partition"),
    ],
)
def test_a_bad_config_file_is_one_sentence_naming_file_table_and_key(workdir: Path, text: str, wanted: str) -> None:
    config = workdir / "bad.toml"
    config.write_text(text)
    # every table is checked, whichever the command uses
    line = one_sentence_error(invoke("topics", "list", "--config", str(config)))
    assert wanted in line and str(config) in line, line
    assert line.endswith(f"fix {config} and run again."), line


def test_a_missing_config_file_names_where_it_came_from(workdir: Path) -> None:
    line = one_sentence_error(invoke("topics", "list", env={"NEWSFLOW_CONFIG": "nope.toml"}))
    assert "NEWSFLOW_CONFIG=nope.toml does not exist" in line and "--config" not in line
    result = invoke("topics", "list", "--config", "nope.toml")
    assert result.exit_code == 2 and "Invalid value for '--config': nope.toml does not exist" in result.output


@pytest.mark.parametrize("port", ["70000", "-2"])
def test_ports_out_of_range_are_usage_errors(workdir: Path, port: str) -> None:
    result = invoke("run", "--metrics-port", port)
    assert result.exit_code == 2 and "is not in the range -1<=x<=65535" in result.output
    config = workdir / "nf.toml"
    config.write_text(f"[service]\nmetrics_port = {port}\n")
    line = one_sentence_error(invoke("status", "--config", str(config)))
    assert f"metrics_port must be -1 (none), 0 (any free port) or up to 65535, not {port}" in line
