"""The offline demo: serve the bundled portal on 127.0.0.1, crawl it, clean it, summarise.

Everything real, nothing faked: a Scrapy crawl through the address guard and
robots.txt, raw pages on the configured log (the embedded SQLite file under
``data/demo/`` by default, reset each run; Kafka when configured), the cleaning
worker until it has caught up, then counts read back from the topics.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cleaner import CleanerSettings
from crawler.run import crawl_sites
from crawler.settings import CrawlerSettings
from crawler.sites import SiteConfig, load_site
from newsflow.crawler_role import publish_reports
from newsflow.monitor import SiteMonitor
from newsflow.options import DEMO_DATA
from newsflow.site_server import SiteServer
from sinks.backends import cleaning_worker, open_log, read_messages, topics_for
from sinks.log import Log
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome

DEMO_PATHS = ("db_path", "index_path", "spool_path")  # the stream settings the demo points into DEMO_DATA
#: held by ``demo`` and ``run --demo`` while they use DEMO_DATA (beside it: a reset deletes the folder)
DEMO_LOCK = DEMO_DATA.with_suffix(".lock")


class DemoInUse(RuntimeError):
    """Another process uses the demo's data; the message says which and what to do."""


@contextmanager
def demo_lock() -> Iterator[None]:
    """Hold the demo's data for this process: a second ``demo`` or ``run --demo`` is refused, not let in.

    An exclusive ``flock`` on ``data/demo.lock``, released when the process ends however it ends.
    """
    DEMO_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with DEMO_LOCK.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise DemoInUse(
                f"{DEMO_DATA} is in use by another `newsflow demo` or `newsflow run --demo` (pid {holder});"
                " stop that one first, then run this again."
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_root() -> Path:
    return Path(str(resources.files("newsflow").joinpath("demo_site")))


def demo_site(port: int) -> SiteConfig:
    site = load_site(Path(str(resources.files("newsflow").joinpath("samples", "qinghe_demo.yaml"))))
    urls = tuple(url.replace("http://127.0.0.1/", f"http://127.0.0.1:{port}/") for url in site.start_urls)
    return site.model_copy(update={"start_urls": urls})


def demo_streams(settings: StreamSettings, *, reset: bool = True) -> StreamSettings:
    """The embedded log goes to a fresh ``data/demo``; a configured Kafka is used as it is."""
    if not settings.embedded:
        return settings
    if reset:
        shutil.rmtree(DEMO_DATA, ignore_errors=True)
    return dataclasses.replace(
        settings,
        db_path=str(DEMO_DATA / "newsflow.db"),
        index_path=str(DEMO_DATA / "neardup.db"),
        spool_path=str(DEMO_DATA / "spool.db"),
    )


def demo_service_state() -> Path:
    """Where the demo keeps what ``newsflow status --demo`` shows."""
    return DEMO_DATA / "service.db"


def report_crawl(log: Log, streams: StreamSettings, report: CrawlOutcome) -> None:
    """Publish the crawl's report as a crawler instance would, then bring the status file up to date."""
    publish_reports(log, streams, [report], source="demo")
    monitor = SiteMonitor(demo_service_state(), topics_for(streams))
    try:
        monitor.catch_up(log)
    finally:
        monitor.close()


@dataclass
class DemoSummary:
    fetched: int
    emitted: int
    articles: int
    duplicates: int
    rejections: Counter[str]
    refused: int
    seconds: float
    sample: dict[str, Any] | None
    db_path: str | None
    crawl: dict[str, Any] = field(default_factory=dict)


def read_outputs(log: Log, topics: tuple[str, str]) -> tuple[list[dict[str, Any]], Counter[str]]:
    articles, reasons = [], Counter[str]()
    want = sum(sum(log.end_offsets(t).values()) - sum(log.beginning_offsets(t).values()) for t in topics)
    for message in read_messages(log, topics, want=want):
        value = json.loads(message.value) if message.value is not None else None
        if value is None:
            continue
        if value.get("schema") == "newsflow.article/1":
            articles.append(value)
        else:
            reasons[value["reason"]] += 1
    return articles, reasons


def run_demo(streams: StreamSettings, cleaner: CleanerSettings) -> DemoSummary:
    """The whole demo, holding its data (:func:`demo_lock`) from the reset to the summary."""
    with demo_lock():
        return demo_run(streams, cleaner)


def demo_run(streams: StreamSettings, cleaner: CleanerSettings) -> DemoSummary:
    start = time.perf_counter()
    streams = demo_streams(streams)
    crawler_settings = CrawlerSettings(
        allowed_addresses="127.0.0.1",  # the demo's own server; everything else stays refused
        download_delay=0.0,
        autothrottle=False,
        concurrency_per_domain=8,
        state_dir=str(DEMO_DATA / "crawl"),
    )
    stats: dict[str, dict[str, Any]] = {}
    with SiteServer(demo_root()) as server:
        [report] = crawl_sites([demo_site(server.port)], crawler_settings, streams, stats=stats)
    log = open_log(streams)
    try:
        with cleaning_worker(log, streams, cleaner, threading.Event()) as worker:
            worker.run(exit_when_idle=True)
        names = worker.cleaning.topics
        articles, reasons = read_outputs(log, (names.articles, names.rejected))
        report_crawl(log, streams, report)
    finally:
        log.close()
    return summarise(report, stats[report.site], articles, reasons, time.perf_counter() - start, streams)


def summarise(
    report: CrawlOutcome,
    stats: dict[str, Any],
    articles: list[dict[str, Any]],
    reasons: Counter[str],
    seconds: float,
    streams: StreamSettings,
) -> DemoSummary:
    articles.sort(key=lambda a: (a["quality"]["score"], len(a["text"])), reverse=True)
    return DemoSummary(
        fetched=report.fetched,
        emitted=report.emitted,
        articles=len(articles),
        duplicates=sum(1 for a in articles if a.get("duplicate_of")),
        rejections=reasons,
        refused=report.refused,
        seconds=seconds,
        sample=articles[0] if articles else None,
        db_path=streams.db_path if streams.embedded else None,
        crawl={k: v for k, v in stats.items() if str(k).startswith(("newsflow/", "robotstxt/"))},
    )
