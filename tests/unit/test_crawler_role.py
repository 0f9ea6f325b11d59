"""The crawler role's bookkeeping on the real embedded log: which requests start, what is reported, what is committed.

The crawl children are stand-ins here (the real ones are crawled in
``tests/integration/test_service.py``): the test decides when each ends and
what summary it leaves.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.run import summarise
from crawler.settings import CrawlerSettings, ResolvedCrawl
from crawler.sites import SiteConfig
from newsflow.cli import main
from newsflow.crawl_cli import resolved_settings
from newsflow.crawler_role import CrawlerRole
from newsflow.demo import demo_site
from sinks.log import Consumer, Producer, Record, Start
from sinks.settings import StreamSettings
from sinks.spool import Spool, SpoolingProducer
from sinks.sqlite import SqliteLog, partition_for
from sinks.topics import CrawlOutcome, CrawlRequest, Topics, record_key
from tests.conftest import embedded_log
from tests.unit.test_spool_and_index import Broker, FlakyProducer

GROUP = "crawlers"


class FakeChild:
    def __init__(self) -> None:
        self.returncode: int | None = None
        self.killed = False

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        self.killed, self.returncode = True, -9

    def wait(self) -> int | None:
        return self.returncode


class FakeChildren:
    """Records each start; ``end(i, code, sites)`` finishes child ``i`` with summaries for ``sites``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[tuple[list[str], FakeChild, Path]] = []

    def start(self, site_ids: Sequence[str]) -> tuple[FakeChild, Path]:
        child, report = FakeChild(), self.workdir / f"report-{len(self.started)}.json"
        self.started.append((list(site_ids), child, report))
        return child, report

    def end(self, index: int, code: int, sites: Sequence[str]) -> None:
        _, child, report = self.started[index]
        stats = {"downloader/response_count": 7, "newsflow/emitted": 5, "elapsed_time_seconds": 1.5}
        stats["finish_reason"] = "finished"
        summaries = [summarise(s, f"{s}-{index}", stats, "2026-11-20T00:00:00.000Z").to_dict() for s in sites]
        report.write_text(json.dumps(summaries), encoding="utf-8")
        child.returncode = code


def site(site_id: str) -> SiteConfig:
    return demo_site(8000).model_copy(update={"id": site_id})


@pytest.fixture
def log(tmp_path: Path) -> Iterator[SqliteLog]:
    log = embedded_log(tmp_path / "log.db")
    log.create_topics(Topics().specs(1, max_message_bytes=1_000_000))
    yield log
    log.close()


def publish(log: SqliteLog, *sites: str) -> list[CrawlRequest]:
    producer, topics, requests = log.producer(), Topics(), []
    for n, site_id in enumerate(sites):
        request = CrawlRequest(f"http://127.0.0.1:8000/{site_id}/", site_id, f"2026-11-20T08:00:0{n}+08:00")
        producer.send(request.to_record(topics.crawl_requests))
        requests.append(request)
    producer.flush()
    return requests


def reports(log: SqliteLog) -> list[CrawlOutcome]:
    consumer = log.consumer([Topics().crawl_reports], start=Start("earliest"))
    try:
        return [CrawlOutcome.from_message(m) for m in consumer.poll(0.1, 100)]
    finally:
        consumer.close()


def step_until(role: CrawlerRole, consumer: Consumer, started: int, children: FakeChildren) -> None:
    for _ in range(20):
        role.step(consumer)
        if len(children.started) >= started:
            return
    raise AssertionError(f"{len(children.started)} crawls started, expected {started}")


def crawler_role(
    log: SqliteLog,
    children: FakeChildren,
    sites: Sequence[str],
    *,
    producer: Producer | None = None,
    stop: threading.Event | None = None,
    **options: Any,
) -> CrawlerRole:
    """A role over ``sites`` with one child at a time, quick polls and a deadline no test reaches, unless told."""
    settings = {
        "crawl_deadline": 60.0,
        "max_crawls": 1,
        "sites_per_crawl": 5,
        "poll_timeout": 0.05,
        "retry_backoff": 0.05,
        **options,
    }
    configs = {s: site(s) for s in sites}
    return CrawlerRole(
        log,
        producer or log.producer(),
        Topics(),
        configs,
        children,  # type: ignore[arg-type]
        stop or threading.Event(),
        group=GROUP,
        **settings,
    )


def test_requests_run_once_per_site_and_commit_in_order(log: SqliteLog, tmp_path: Path) -> None:
    children = FakeChildren(tmp_path)
    role = crawler_role(log, children, ("alpha", "beta"))
    first_alpha, beta, second_alpha, unknown = publish(log, "alpha", "beta", "alpha", "gamma")
    consumer = log.consumer([Topics().crawl_requests], group=GROUP)
    try:
        step_until(role, consumer, 1, children)
        # one child for both sites; the second alpha request waits for the first; gamma has no config
        assert children.started[0][0] == ["alpha", "beta"]
        assert [(r.site, r.outcome) for r in reports(log)] == [("gamma", "failed")]
        assert log.committed(GROUP, Topics().crawl_requests) == {}  # offset 0 is still crawling

        children.end(0, 0, ["alpha", "beta"])
        step_until(role, consumer, 2, children)
        assert children.started[1][0] == ["alpha"]
        assert log.committed(GROUP, Topics().crawl_requests) == {0: 2}  # up to the request still running

        children.end(1, -9, [])  # killed: no summary
        role.step(consumer)
    finally:
        consumer.close()
    got = {(r.request_id, r.outcome) for r in reports(log)}
    assert got == {
        (first_alpha.id, "finished"),
        (beta.id, "finished"),
        (second_alpha.id, "crashed"),
        (unknown.id, "failed"),
    }
    finished = [r for r in reports(log) if r.outcome == "finished"]
    assert all(r.fetched == 7 and r.emitted == 5 and r.crawl_id for r in finished)
    assert log.committed(GROUP, Topics().crawl_requests) == {0: 4}
    assert not list(tmp_path.glob("report-*.json"))  # read and removed


def test_a_record_that_is_not_a_request_is_skipped_and_committed(log: SqliteLog, tmp_path: Path) -> None:
    producer = log.producer()
    producer.send(CrawlRequest("http://x/", "alpha", "2026-11-20T08:00:00+08:00").to_record(Topics().crawl_requests))
    producer.send(Record(Topics().crawl_requests, b"k", b"not json"))
    producer.flush()
    children = FakeChildren(tmp_path)
    role = crawler_role(log, children, ("alpha",))
    consumer = log.consumer([Topics().crawl_requests], group=GROUP)
    try:
        step_until(role, consumer, 1, children)
        children.end(0, 0, ["alpha"])
        role.step(consumer)
    finally:
        consumer.close()
    assert [r.outcome for r in reports(log)] == ["finished"]
    assert log.committed(GROUP, Topics().crawl_requests) == {0: 2}


def role_for(log: SqliteLog, producer: Producer, children: FakeChildren, stop: threading.Event) -> CrawlerRole:
    return crawler_role(log, children, ("alpha", "beta"), producer=producer, stop=stop, max_crawls=2, sites_per_crawl=1)


def test_crawler_role_does_not_commit_while_its_reports_wait_in_the_spool(log: SqliteLog, tmp_path: Path) -> None:
    """Defect 7: the crawler role committed requests whose reports were still in the spool (the broker away)."""
    broker = Broker()
    producer = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    children, stop = FakeChildren(tmp_path), threading.Event()
    role = role_for(log, producer, children, stop)
    publish(log, "alpha")
    consumer = log.consumer([Topics().crawl_requests], group=GROUP)
    try:
        step_until(role, consumer, 1, children)
        broker.up = False
        children.end(0, 0, ["alpha"])
        stop.set()  # the loop waits for the spool to drain until it is asked to stop
        role.step(consumer)
        assert producer.backlog == 1
        assert log.committed(GROUP, Topics().crawl_requests) == {}
        broker.up, stop = True, threading.Event()
        role.stop = role.loop(consumer).stop = stop
        role.step(consumer)
        assert producer.backlog == 0 and len(broker.delivered) == 1
        assert log.committed(GROUP, Topics().crawl_requests) == {0: 1}
    finally:
        consumer.close()
        producer.close()


def url_on(partition: int, site_id: str) -> str:
    """A request URL of ``site_id`` whose key lands on ``partition`` of two."""
    for n in range(100):
        url = f"http://127.0.0.1:8000/{site_id}/{n}/"
        if partition_for(record_key(url), 2) == partition:
            return url
    raise AssertionError("no URL found")


def test_crawler_joining_mid_crawl_gets_the_moved_request_and_commits_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 8: the first instance kept a moved partition's running request in its commit set: every commit
    failed, the partitions it still owned were never committed, and the request was reported twice."""
    log = embedded_log(tmp_path / "log.db", StreamSettings(session_timeout_ms=600))
    log.create_topics(Topics().specs(2, max_message_bytes=1_000_000))
    producer = log.producer()
    requests = [CrawlRequest(url_on(p, s), s, f"2026-11-20T08:00:0{p}+08:00") for p, s in enumerate(("alpha", "beta"))]
    for request in requests:
        producer.send(request.to_record(Topics().crawl_requests))
    producer.flush()
    first_children, second_children = FakeChildren(tmp_path / "a"), FakeChildren(tmp_path / "b")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = role_for(log, log.producer(), first_children, threading.Event())
    second = role_for(log, log.producer(), second_children, threading.Event())
    one = log.consumer([Topics().crawl_requests], group=GROUP)
    try:
        step_until(first, one, 2, first_children)  # alone in the group: both requests crawl here
        two = log.consumer([Topics().crawl_requests], group=GROUP)
        try:
            for _ in range(40):  # the second joins; the first gives up one partition; the second crawls its request
                first.step(one)
                second.step(two)
                if second_children.started:
                    break
            assert [sites for sites, _, _ in second_children.started] in (
                [["alpha"]],
                [["beta"]],
            ), "the request of the moved partition is crawled by the new owner"
            moved = second_children.started[0][0][0]
            for index, (sites, _, _) in enumerate(first_children.started):
                first_children.end(index, 0, sites)
            second_children.end(0, 0, [moved])
            for _ in range(5):
                first.step(one)
                second.step(two)
        finally:
            two.close()
    finally:
        one.close()
    assert sorted(r.request_id for r in reports(log)) == sorted(r.id for r in requests), "one report per request"
    assert log.committed(GROUP, Topics().crawl_requests) == {0: 1, 1: 1}
    assert "moved to another member" not in caplog.text
    log.close()


def test_defect_10_a_crawl_child_past_its_deadline_is_killed_and_reported_timed_out(
    log: SqliteLog, tmp_path: Path
) -> None:
    """A child stuck for good (a pattern that never ends matching) must not hold its sites forever."""
    children = FakeChildren(tmp_path)
    role = crawler_role(log, children, ("stuck", "other"), crawl_deadline=0.2, sites_per_crawl=1)
    stuck, _ = publish(log, "stuck", "other")
    consumer = log.consumer([Topics().crawl_requests], group=GROUP)
    try:
        step_until(role, consumer, 1, children)
        time.sleep(0.3)
        step_until(role, consumer, 2, children)  # the stuck one was killed: the next site gets the slot
    finally:
        consumer.close()
    assert children.started[0][1].killed and children.started[1][0] == ["other"]
    assert [(r.request_id, r.outcome) for r in reports(log)] == [(stuck.id, "timed_out")]


def test_crawl_children_get_one_resolved_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child crawls with what its parent resolved; the environment it inherits does not change that."""
    resolved = ResolvedCrawl(
        CrawlerSettings(allowed_addresses="127.0.0.1", download_delay=0.0, crawl_timeout=90.0),
        StreamSettings(db_path=str(tmp_path / "log.db")),
    )
    path = tmp_path / "crawl-settings.json"
    path.write_text(resolved.to_json(), encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_CRAWLER_DOWNLOAD_DELAY", "5")
    assert resolved_settings(path, ()) == (resolved.crawler, resolved.streams)
    path.write_text('{"schema": "something else"}', encoding="utf-8")
    result = CliRunner().invoke(main, ["crawl", "--settings-file", str(path)])
    assert result.exit_code == 1 and "cannot use the settings file" in result.output
