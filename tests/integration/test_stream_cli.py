"""The stream commands, in-process, on both backends: topics, ingest, worker, consume, replay."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsflow.cli import main
from sinks.settings import StreamSettings
from tests.conftest import CMS_FIXTURES, ROOT

pytestmark = pytest.mark.timeout(180)


def env_for(settings: StreamSettings) -> dict[str, str]:
    """The same settings as the environment a deployment would give."""
    env = {}
    for field in fields(StreamSettings):
        value = getattr(settings, field.name)
        env[f"NEWSFLOW_STREAMS_{field.name.upper()}"] = "" if value is None else str(value)
    return env


def run(settings: StreamSettings, *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env_for(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def lines(result: Result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_ingest_clean_consume_and_replay(stream_settings: StreamSettings, tmp_path: Path) -> None:
    pages = sorted(CMS_FIXTURES.glob("trs_*.html"))
    for page in pages:
        (tmp_path / page.name).write_bytes(page.read_bytes())
    created = run(stream_settings, "topics", "create")
    assert f"{stream_settings.topic_prefix}raw" in created.stdout

    run(stream_settings, "ingest", str(tmp_path), "--site", "trs", "--base-url", "http://trs.example.gov.cn/news")
    run(stream_settings, "worker", "--exit-when-idle", "--batch-size", "2")

    articles = lines(run(stream_settings, "consume", "articles"))
    assert sorted(a["url"] for a in articles) == sorted(f"http://trs.example.gov.cn/news/{p.name}" for p in pages)
    assert {a["site"] for a in articles} == {"trs"}

    limited = lines(run(stream_settings, "consume", "articles", "--limit", "1", "--meta"))
    assert len(limited) == 1 and set(limited[0]) == {"record", "headers", "value"}
    assert limited[0]["headers"]["ce_type"] == "newsflow.article/1"

    raw = lines(run(stream_settings, "consume", "raw", "--offset", "0", "--limit", "1"))
    assert raw[0]["schema"] == "newsflow.raw/1" and raw[0]["site"] == "trs"

    # a group reads once, then resumes where it stopped
    first = lines(run(stream_settings, "consume", "articles", "--group", "reader"))
    again = lines(run(stream_settings, "consume", "articles", "--group", "reader"))
    assert len(first) == len(pages) and again == []
    # status lists the reader's group beside the service's (Kafka lists groups through its admin API)
    status_env = {**env_for(stream_settings), "NEWSFLOW_SERVICE_STATE_PATH": str(tmp_path / "service.db")}
    shown = CliRunner().invoke(
        main, ["status", "--json", "--sites-dir", str(ROOT / "config" / "sites")], env=status_env
    )
    assert shown.exit_code == 0, shown.output
    groups = {(g["group"], g["topic"]): g["lag"] for g in json.loads(shown.stdout)["groups"]}
    assert groups[("reader", f"{stream_settings.topic_prefix}articles")] == 0
    copy = f"{stream_settings.topic_prefix}articles-v2"
    replayed = run(stream_settings, "replay", "--since", "2000-01-01T00:00:00+08:00", "--into", copy)
    assert f"{len(pages)} raw record(s) read" in replayed.stdout
    fresh = lines(run(stream_settings, "consume", copy))
    assert sorted(a["id"] for a in fresh) == sorted(a["id"] for a in articles)
    nothing = lines(run(stream_settings, "consume", "articles", "--since", "2100-01-01T00:00:00Z"))
    assert nothing == []


def test_bad_arguments_are_one_line_errors(stream_settings: StreamSettings) -> None:
    runner = CliRunner()
    env = env_for(stream_settings)
    run(stream_settings, "topics", "create")
    result = runner.invoke(main, ["consume", "articles", "--since", "yesterday"], env=env)
    assert result.exit_code == 2 and "not an ISO 8601 time" in result.output
    result = runner.invoke(main, ["consume", "articles", "--since", "2026-01-01", "--offset", "3"], env=env)
    assert result.exit_code == 2 and "choose one of" in result.output
    result = runner.invoke(main, ["consume", "no-such-topic"], env=env)
    assert result.exit_code == 1 and "no topic no-such-topic" in result.output
    result = runner.invoke(main, ["topics", "list"], env={**env, "NEWSFLOW_STREAMS_PARTITIONS": "many"})
    assert result.exit_code == 1 and "NEWSFLOW_STREAMS_PARTITIONS" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("base_url", ["http://x:99999/v", "http://[::1/v", "x:abc"])
def test_ingest_base_url_that_is_not_a_url_is_a_one_line_error(tmp_path: Path, base_url: str) -> None:
    """Defect 1 (issue 14): ``ingest --base-url http://x:99999/v`` wrote raw records no worker could key."""
    settings = StreamSettings(db_path=str(tmp_path / "log.db"))
    result = CliRunner().invoke(
        main, ["ingest", str(CMS_FIXTURES), "--site", "x", "--base-url", base_url], env=env_for(settings)
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "--base-url" in result.output and "write it like" in result.output
    assert not (tmp_path / "log.db").exists()


def test_replay_says_when_it_has_nothing_to_do(stream_settings: StreamSettings, tmp_path: Path) -> None:
    page = next(CMS_FIXTURES.glob("trs_*.html"))
    run(stream_settings, "ingest", str(page), "--site", "trs")
    env = env_for(stream_settings)
    since = "2000-01-01T00:00:00+08:00"
    result = CliRunner().invoke(main, ["replay", "--since", since, "--site", "no_such_site"], env=env)
    assert result.exit_code == 1 and "no raw page of site no_such_site was fetched in the window" in result.output
    typo = f"{stream_settings.topic_prefix}artcles-v2"
    result = CliRunner().invoke(main, ["replay", "--since", since, "--into", typo], env=env)
    assert result.exit_code == 2 and f"there is no topic {typo}" in result.output
    result = CliRunner().invoke(main, ["replay", "--since", since, "--into", "raw"], env=env)
    assert result.exit_code == 2 and "is one of the service's own topics" in result.output
    assert typo not in lines_of_topics(stream_settings)
    done = run(stream_settings, "replay", "--since", since, "--site", "trs", "--quiet")
    assert "1 raw record(s) read" in done.stdout and "Traceback" not in done.output


def lines_of_topics(settings: StreamSettings) -> str:
    return run(settings, "topics", "list").stdout
