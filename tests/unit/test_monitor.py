"""The site monitor over the real embedded log: crawl history, judging, the canary, what status reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsflow.monitor import SiteMonitor
from sinks.log import Record
from sinks.sqlite import SqliteLog
from sinks.topics import CrawlOutcome, Topics
from tests.conftest import embedded_log

TOPICS = Topics()
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[SqliteLog]:
    log = embedded_log(tmp_path / "log.db")
    log.create_topics(TOPICS.specs(2, max_message_bytes=1_000_000))
    yield log
    log.close()


def outcome(crawl: str, minute: int, emitted: int, **extra: object) -> CrawlOutcome:
    at = (NOW + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    return CrawlOutcome.from_dict(
        {
            "site": "s1",
            "request_id": f"req-{crawl}",
            "crawl_id": crawl,
            "started_at": at,
            "finished_at": at,
            "outcome": "finished",
            "exit_code": 0,
            "fetched": emitted + 2,
            "emitted": emitted,
            **extra,
        }
    )


def output(crawl: str, n: int, *, body: int | None, dated: bool = True) -> Record:
    """An article of ``body`` characters, or (``body=None``) a rejection, of page ``n`` of ``crawl``."""
    headers = [("ce_site", b"s1"), ("ce_crawlid", crawl.encode()), ("ce_rawref", f"raw/0/{crawl}-{n}".encode())]
    if body is None:
        return Record(TOPICS.rejected, b"k", b'{"reason": "quality.too_short"}', tuple(headers))
    article = {"text": "字" * body, "published_at": "2026-11-20T08:00:00+08:00" if dated else None}
    return Record(TOPICS.articles, f"k{n}".encode(), json.dumps(article).encode(), tuple(headers))


def send(log: SqliteLog, *records: Record) -> None:
    producer = log.producer()
    for record in records:
        producer.send(record)
    producer.flush()


def monitor(tmp_path: Path, now: datetime = NOW + timedelta(hours=1)) -> SiteMonitor:
    return SiteMonitor(tmp_path / "service.db", TOPICS, now=lambda: now)


def test_a_redesign_trips_the_canary_on_the_next_crawl(log: SqliteLog, tmp_path: Path) -> None:
    normal = [output("c1", n, body=900) for n in range(10)]
    send(log, outcome("c1", 0, 10).to_record(TOPICS.crawl_reports), *normal, normal[0])  # one output read twice
    # the template changed: most pages now fail, the rest are short and undated
    broken = [output("c2", n, body=None) for n in range(7)] + [
        output("c2", n, body=120, dated=False) for n in (7, 8, 9)
    ]
    send(log, *broken, outcome("c2", 30, 10, rejected={"fetch.timeout": 1}).to_record(TOPICS.crawl_reports))

    m = monitor(tmp_path)
    try:
        m.catch_up(log)
        [latest] = m.crawls(limit=1)
        assert (latest.crawl_id, latest.articles, latest.clean_rejected, latest.rejections) == ("c2", 3, 7, 8)
        assert latest.judged and latest.checked
        assert {a["check"] for a in latest.alarms} == {"article_rate", "median_body", "undated_share"}
        assert "s1" in m.site_alarms() and "check its site config" in latest.alarms[0]["message"]
        first = m.crawls(limit=2)[1]
        assert (first.articles, first.alarms, first.checked) == (10, (), False)  # the read-twice output counts once
        assert m.outcome("req-c1") is not None and m.outcome("req-c1").emitted == 10  # type: ignore[union-attr]
        assert m.recent_new("s1") == [10, 10]
        assert not m.live()
    finally:
        m.close()


def test_a_crawl_is_judged_only_when_its_outputs_are_in_or_settled(log: SqliteLog, tmp_path: Path) -> None:
    send(log, outcome("c1", 0, 10).to_record(TOPICS.crawl_reports), *[output("c1", n, body=900) for n in range(4)])
    m = monitor(tmp_path, now=NOW + timedelta(minutes=5))  # 4 of 10 outputs, 5 minutes after the report
    try:
        m.catch_up(log)
        assert not m.crawls()[0].judged
    finally:
        m.close()
    later = monitor(tmp_path, now=NOW + timedelta(minutes=11))  # past the 10-minute settle time
    try:
        later.catch_up(log)
        assert later.crawls()[0].judged
    finally:
        later.close()


def test_following_marks_the_file_live_and_resumes_where_it_left_off(log: SqliteLog, tmp_path: Path) -> None:
    send(log, outcome("c1", 0, 1).to_record(TOPICS.crawl_reports))
    m = monitor(tmp_path)
    consumer = m.consumer(log)
    loop = m.loop(consumer)
    try:
        for _ in range(10):
            m.follow(loop, 0.05)
        assert m.live()
        assert [row.crawl_id for row in m.crawls()] == ["c1"]
    finally:
        consumer.close()
        m.close()
    send(log, outcome("c2", 30, 1).to_record(TOPICS.crawl_reports))
    again = monitor(tmp_path)
    try:
        assert again.catch_up(log) == 1  # only the new report: positions are kept in the log
        assert [row.crawl_id for row in again.crawls()] == ["c2"]
    finally:
        again.close()
