"""The service's numbers: counters per label on /metrics, consumer lag read from the log, /healthz."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cleaner import Rejection
from cleaner.reasons import Reason
from newsflow.canary import Alarm
from newsflow.metrics import LagCollector, Metrics, MetricsServer, lag
from sinks.log import LogError, Record, Start, TopicSpec
from sinks.settings import StreamSettings
from sinks.sqlite import SqliteLog
from sinks.topics import CrawlOutcome, Topics, rejection_record, tombstone_record
from tests.conftest import embedded_log

TOPICS = Topics()
NOW = "2026-11-20T08:30:00+08:00"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: bytes | str) -> Samples:
    """Every sample of an exposition, by sample name and labels."""
    body = text.decode("utf-8") if isinstance(text, bytes) else text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def outcome(site: str = "s1", result: str = "finished", **kw: Any) -> CrawlOutcome:
    return CrawlOutcome(
        site=site,
        request_id="r1",
        started_at="2026-11-20T08:00:00+08:00",
        finished_at=NOW,
        outcome=result,
        exit_code=0 if result == "finished" else 1,
        crawl_id="c1",
        **kw,
    )


# -- crawl reports -----------------------------------------------------------------------------
def test_a_crawl_outcome_counts_crawls_pages_and_crawl_rejections() -> None:
    m = Metrics()
    m.observe_crawl(outcome(seconds=42.0, fetched=10, emitted=7, rejected=(("fetch.timeout", 2), ("fetch.http", 1))))
    found = samples(m.text())
    assert value(found, "newsflow_crawls_total", site="s1", outcome="finished") == 1
    assert value(found, "newsflow_pages_fetched_total", site="s1") == 10
    assert value(found, "newsflow_pages_emitted_total", site="s1") == 7
    assert value(found, "newsflow_rejections_total", stage="crawl", reason="fetch.timeout") == 2
    assert value(found, "newsflow_rejections_total", stage="crawl", reason="fetch.http") == 1
    assert value(found, "newsflow_rejections_total", stage="clean", reason="fetch.timeout") is None
    assert value(found, "newsflow_crawl_duration_seconds_count") == 1
    assert value(found, "newsflow_crawl_duration_seconds_sum") == 42.0
    assert value(found, "newsflow_crawl_duration_seconds_bucket", le="30.0") == 0
    assert value(found, "newsflow_crawl_duration_seconds_bucket", le="60.0") == 1


def test_crawl_outcomes_add_up_per_site_and_only_finished_ones_are_timed() -> None:
    m = Metrics()
    m.observe_crawl(outcome(seconds=42.0, fetched=10, emitted=7, rejected=(("fetch.timeout", 2),)))
    m.observe_crawl(outcome(seconds=5.0, fetched=3, emitted=1, rejected=(("fetch.timeout", 4),)))
    m.observe_crawl(outcome(result="failed", seconds=9999.0, fetched=1))
    m.observe_crawl(outcome(site="s2", result="crashed"))
    found = samples(m.text())
    assert value(found, "newsflow_crawls_total", site="s1", outcome="finished") == 2
    assert value(found, "newsflow_crawls_total", site="s1", outcome="failed") == 1
    assert value(found, "newsflow_crawls_total", site="s2", outcome="crashed") == 1
    assert value(found, "newsflow_crawls_total", site="s2", outcome="finished") is None
    assert value(found, "newsflow_pages_fetched_total", site="s1") == 14
    assert value(found, "newsflow_pages_fetched_total", site="s2") == 0
    assert value(found, "newsflow_pages_emitted_total", site="s1") == 8
    assert value(found, "newsflow_rejections_total", stage="crawl", reason="fetch.timeout") == 6
    assert value(found, "newsflow_crawl_duration_seconds_count") == 2
    assert value(found, "newsflow_crawl_duration_seconds_sum") == 47.0


# -- the cleaner's outputs ---------------------------------------------------------------------
def test_outputs_count_articles_tombstones_and_clean_rejections() -> None:
    m = Metrics()
    article = Record(TOPICS.articles, b"http://s1/1", b"{}", (("ce_site", b"s1"),))
    rejected = rejection_record(
        TOPICS.rejected,
        Rejection("http://s1/2", Reason.TOO_SHORT, "2 CJK characters"),
        key=b"http://s1/2",
        site="s1",
        cleaner_version="1",
        produced_at=NOW,
    )
    plain_rejected = Record(TOPICS.rejected, b"k", b"{}", (("ce_site", b"s2"), ("ce_reason", b"quality.too_short")))
    gone = tombstone_record(TOPICS.articles, key=b"http://s2/3", site="s2", raw_ref="newsflow.raw/0/1", produced_at=NOW)
    m.observe_outputs([article, article, rejected, plain_rejected, gone], TOPICS)
    found = samples(m.text())
    assert value(found, "newsflow_articles_total", site="s1") == 2
    assert value(found, "newsflow_articles_total", site="s2") is None
    assert value(found, "newsflow_tombstones_total", site="s2") == 1
    assert value(found, "newsflow_tombstones_total", site="s1") is None
    assert value(found, "newsflow_rejections_total", stage="clean", reason="quality.too_short") == 2
    assert value(found, "newsflow_rejections_total", stage="crawl", reason="quality.too_short") is None


def test_outputs_without_site_or_reason_headers() -> None:
    m = Metrics()
    m.observe_outputs(
        [
            Record(TOPICS.rejected, b"k", b"{}"),
            Record(TOPICS.articles, b"k", None),
            Record(TOPICS.articles, b"k", b"{}"),
        ],
        TOPICS,
    )
    found = samples(m.text())
    assert value(found, "newsflow_rejections_total", stage="clean", reason="unknown") == 1
    assert value(found, "newsflow_tombstones_total", site="") == 1
    assert value(found, "newsflow_articles_total", site="") == 1


def test_outputs_follow_the_topic_prefix() -> None:
    m = Metrics()
    other = Topics("test.")
    m.observe_outputs([Record(other.rejected, b"k", b"{}", (("ce_reason", b"decode.binary"),))], other)
    found = samples(m.text())
    assert value(found, "newsflow_rejections_total", stage="clean", reason="decode.binary") == 1
    assert value(found, "newsflow_articles_total", site="") is None


# -- canary alarms -----------------------------------------------------------------------------
def test_judged_sets_the_raised_alarms_and_clears_the_rest() -> None:
    m = Metrics()
    m.observe_judged("s1", [Alarm("s1", "c1", "median_body", 100.0, 1500.0)])
    m.observe_judged("s2", [])
    found = samples(m.text())
    assert value(found, "newsflow_canary_alarm", site="s1", check="median_body") == 1
    assert value(found, "newsflow_canary_alarm", site="s1", check="article_rate") == 0
    assert value(found, "newsflow_canary_alarm", site="s1", check="undated_share") == 0
    assert value(found, "newsflow_canary_alarm", site="s2", check="median_body") == 0
    m.observe_judged("s1", [])
    assert value(samples(m.text()), "newsflow_canary_alarm", site="s1", check="median_body") == 0


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.observe_crawl(outcome(fetched=3))
    assert value(samples(second.text()), "newsflow_pages_fetched_total", site="s1") is None


# -- consumer lag ------------------------------------------------------------------------------
def open_log(path: Path) -> SqliteLog:
    return embedded_log(path, StreamSettings(max_message_bytes=1_000_000))


def produce(log: SqliteLog, topic: str, count: int, *, timestamp_ms: int | None = None) -> None:
    producer = log.producer()
    for i in range(count):
        producer.send(Record(topic, f"k{i}".encode(), b"v", timestamp_ms=timestamp_ms))
    producer.close()


def commit_after_reading(log: SqliteLog, group: str, topic: str, count: int) -> None:
    consumer = log.consumer([topic], group=group)
    try:
        got = consumer.poll(0.0, count)
        assert len(got) == count
        consumer.commit({(topic, 0): got[-1].offset + 1})
    finally:
        consumer.close()


@pytest.fixture
def log_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "log.db"
    log = open_log(path)
    log.create_topics([TopicSpec("t", 1)])
    produce(log, "t", 5)
    commit_after_reading(log, "g", "t", 2)
    log.close()
    yield path


def test_lag_is_what_the_group_has_not_committed(log_path: Path) -> None:
    log = open_log(log_path)
    try:
        assert lag(log, "g", "t") == 3
        assert lag(log, "never-read", "t") == 5
        produce(log, "t", 4)
        assert lag(log, "g", "t") == 7
    finally:
        log.close()


def test_lag_adds_up_partitions(tmp_path: Path) -> None:
    log = open_log(tmp_path / "log.db")
    try:
        log.create_topics([TopicSpec("multi", 3)])
        produce(log, "multi", 12)
        assert sum(log.end_offsets("multi").values()) == 12
        assert lag(log, "g", "multi") == 12
        consumer = log.consumer(["multi"], group="g", start=Start("earliest"))
        got = consumer.poll(0.0, 100)
        consumer.commit({(m.topic, m.partition): m.offset + 1 for m in got})
        consumer.close()
        assert lag(log, "g", "multi") == 0
    finally:
        log.close()


def test_lag_does_not_count_records_retention_removed(tmp_path: Path) -> None:
    day = 24 * 3600 * 1000
    now = 1_800_000_000_000
    log = open_log(tmp_path / "log.db")
    try:
        log.create_topics([TopicSpec("raw", 1, retention_ms=7 * day)])
        produce(log, "raw", 5, timestamp_ms=now - 8 * day)
        commit_after_reading(log, "g", "raw", 2)
        produce(log, "raw", 3, timestamp_ms=now - day)
        assert lag(log, "g", "raw") == 6
        assert log.maintain(now=now) == {"raw": 5}
        assert lag(log, "g", "raw") == 3  # the group's offset 2 is gone: it can only read the last 3
        assert lag(log, "never-read", "raw") == 3
    finally:
        log.close()


def test_lag_collector_reports_each_group_and_opens_the_log_once(log_path: Path) -> None:
    opened: list[SqliteLog] = []

    def opener() -> SqliteLog:
        opened.append(open_log(log_path))
        return opened[-1]

    m = Metrics()
    collector = LagCollector(opener, [("g", "t"), ("other", "t")])
    m.registry.register(collector)
    try:
        found = samples(m.text())
        assert value(found, "newsflow_consumer_lag", group="g", topic="t") == 3
        assert value(found, "newsflow_consumer_lag", group="other", topic="t") == 5
        produce(opened[0], "t", 1)
        found = samples(m.text())
        assert value(found, "newsflow_consumer_lag", group="g", topic="t") == 4
        assert len(opened) == 1
    finally:
        collector.close()


def test_lag_collector_survives_a_log_it_cannot_open(log_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    def opener() -> SqliteLog:
        attempts.append(1)
        if len(attempts) == 1:
            raise LogError("broker down")
        return open_log(log_path)

    registry = CollectorRegistry()
    collector = LagCollector(opener, [("g", "t")])
    registry.register(collector)
    try:
        with caplog.at_level(logging.WARNING, logger="newsflow.metrics"):
            found = samples(generate_latest(registry))
        assert not [key for key in found if key[0] == "newsflow_consumer_lag"]
        assert any("broker down" in r.getMessage() for r in caplog.records)
        found = samples(generate_latest(registry))  # the next scrape tries again
        assert value(found, "newsflow_consumer_lag", group="g", topic="t") == 3
        assert len(attempts) == 2
    finally:
        collector.close()


def test_closing_a_collector_that_never_opened_the_log() -> None:
    def opener() -> SqliteLog:
        raise AssertionError("must not open")

    LagCollector(opener, [("g", "t")]).close()


# -- the HTTP server ---------------------------------------------------------------------------
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(port: int, path: str) -> tuple[int, str, bytes]:
    try:
        with NO_PROXY.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


HEALTHY: dict[str, Any] = {"status": "ok", "roles": {"cleaner": "running"}, "site": "中文"}


@pytest.fixture(scope="module")
def shared_health() -> dict[str, Any]:
    return {}


@pytest.fixture
def health(shared_health: dict[str, Any]) -> dict[str, Any]:
    """What the server's health callable returns; each test starts healthy and may change it."""
    shared_health.clear()
    shared_health.update(json.loads(json.dumps(HEALTHY)))
    return shared_health


@pytest.fixture(scope="module")
def server(shared_health: dict[str, Any]) -> Iterator[MetricsServer]:
    """One server for the module (stopping one waits for its half-second poll)."""
    m = Metrics()
    m.observe_crawl(outcome(rejected=(("fetch.timeout", 2),)))
    running = MetricsServer(m, lambda: dict(shared_health), "127.0.0.1", 0).start()
    try:
        yield running
    finally:
        running.stop()
        running.thread.join(timeout=10)
        assert not running.thread.is_alive()


def test_server_binds_a_free_port(server: MetricsServer) -> None:
    assert server.port > 0


def test_server_serves_metrics(server: MetricsServer) -> None:
    status, content_type, body = get(server.port, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    found = samples(body)
    assert value(found, "newsflow_rejections_total", stage="crawl", reason="fetch.timeout") == 2
    assert value(found, "newsflow_crawls_total", site="s1", outcome="finished") == 1


def test_server_metrics_are_read_at_each_scrape(server: MetricsServer) -> None:
    _, _, before = get(server.port, "/metrics")
    assert value(samples(before), "newsflow_rejections_total", stage="crawl", reason="fetch.dns") is None
    server.metrics.observe_crawl(outcome(site="s-scrape", rejected=(("fetch.dns", 3),)))
    _, _, after = get(server.port, "/metrics?x=1")
    assert value(samples(after), "newsflow_rejections_total", stage="crawl", reason="fetch.dns") == 3
    assert value(samples(after), "newsflow_crawls_total", site="s-scrape", outcome="finished") == 1


def test_healthz_is_200_while_status_is_ok(server: MetricsServer, health: dict[str, Any]) -> None:
    status, content_type, body = get(server.port, "/healthz")
    assert status == 200
    assert content_type == "application/json"
    assert json.loads(body) == health


@pytest.mark.parametrize("state", ["degraded", "stopping", None])
def test_healthz_is_503_otherwise(server: MetricsServer, health: dict[str, Any], state: str | None) -> None:
    if state is None:
        del health["status"]
    else:
        health["status"] = state
    status, _, body = get(server.port, "/healthz")
    assert status == 503
    assert json.loads(body) == health


def test_unknown_path_is_404(server: MetricsServer) -> None:
    status, content_type, body = get(server.port, "/nope")
    assert status == 404
    assert content_type.startswith("text/plain")
    assert b"/metrics" in body and b"/healthz" in body
