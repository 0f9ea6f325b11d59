"""The offline demo: serve the bundled portal on 127.0.0.1, crawl it, clean it, summarise.

Everything real, nothing faked: a Scrapy crawl through the address guard and
robots.txt, raw pages on the configured log (the embedded SQLite file under
``data/demo/`` by default, reset each run; Kafka when configured), the cleaning
worker until it has caught up, then counts read back from the topics.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cleaner import CleanerSettings
from crawler.run import CrawlReport, crawl_sites
from crawler.settings import CrawlerSettings
from crawler.sites import SiteConfig, load_site
from newsflow.crawler_role import publish_reports, utc_iso
from newsflow.monitor import SiteMonitor
from newsflow.options import DEMO_DATA
from newsflow.site_server import SiteServer
from sinks.backends import cleaning_worker, open_log, read_messages, topics_for
from sinks.log import Log
from sinks.settings import StreamSettings

DEMO_PATHS = ("db_path", "index_path", "spool_path")  # the stream settings the demo points into DEMO_DATA


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


def report_crawl(log: Log, streams: StreamSettings, report: CrawlReport, started_at: str) -> None:
    """Publish the crawl's report as a crawler instance would, then bring the status file up to date."""
    publish_reports(log, streams, [report], started_at=started_at, source="demo")
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
    start = time.perf_counter()
    streams = demo_streams(streams)
    crawler_settings = CrawlerSettings(
        allowed_addresses="127.0.0.1",  # the demo's own server; everything else stays refused
        download_delay=0.0,
        autothrottle=False,
        concurrency_per_domain=8,
        state_dir=str(DEMO_DATA / "crawl"),
    )
    started_at = utc_iso()
    with SiteServer(demo_root()) as server:
        [report] = crawl_sites([demo_site(server.port)], crawler_settings, streams)
    log = open_log(streams)
    try:
        with cleaning_worker(log, streams, cleaner, threading.Event()) as worker:
            worker.run(exit_when_idle=True)
        names = worker.cleaning.topics
        articles, reasons = read_outputs(log, (names.articles, names.rejected))
        report_crawl(log, streams, report, started_at)
    finally:
        log.close()
    return summarise(report, articles, reasons, time.perf_counter() - start, streams)


def summarise(
    report: CrawlReport, articles: list[dict[str, Any]], reasons: Counter[str], seconds: float, streams: StreamSettings
) -> DemoSummary:
    articles.sort(key=lambda a: (a["quality"]["score"], len(a["text"])), reverse=True)
    return DemoSummary(
        fetched=report.fetched,
        emitted=report.emitted,
        articles=len(articles),
        duplicates=sum(1 for a in articles if a.get("duplicate_of")),
        rejections=reasons,
        refused=report.count("newsflow/guard/refused"),
        seconds=seconds,
        sample=articles[0] if articles else None,
        db_path=streams.db_path if streams.embedded else None,
        crawl={k: v for k, v in report.stats.items() if str(k).startswith(("newsflow/", "robotstxt/"))},
    )
