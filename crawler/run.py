"""Run crawls: one Scrapy process for one or more sites, emitting raw pages to the configured log.

Twisted's reactor runs once per process, so each call of :func:`crawl_sites` is
meant to be the crawl of one process (the CLI command, a scheduled job).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess

from crawler.pipelines import Emitter
from crawler.settings import CrawlerSettings, scrapy_settings
from crawler.sites import SiteConfig
from crawler.spider import FetchFailed, NewsSpider
from crawler.state import CrawlState
from sinks.backends import create_topics, open_log, open_producer
from sinks.settings import StreamSettings


@dataclass(frozen=True, slots=True)
class CrawlReport:
    site: str
    crawl_id: str
    stats: Mapping[str, Any]
    seconds: float

    def count(self, name: str) -> int:
        return int(self.stats.get(name, 0))

    @property
    def emitted(self) -> int:
        return self.count("newsflow/emitted")

    @property
    def fetched(self) -> int:
        return self.count("downloader/response_count")

    def rejected(self) -> dict[str, int]:
        """Fetch failures by reason (``fetch.timeout``, …), as the crawl sent them to ``rejected``."""
        prefix = "newsflow/rejected/"
        return {k[len(prefix) :]: int(v) for k, v in self.stats.items() if str(k).startswith(prefix)}

    def to_dict(self) -> dict[str, Any]:
        """The summary a crawl child hands its parent (``newsflow crawl --report FILE``)."""
        return {
            "site": self.site,
            "crawl_id": self.crawl_id,
            "seconds": round(self.seconds, 3),
            "fetched": self.fetched,
            "emitted": self.emitted,
            "unchanged": self.count("newsflow/unchanged"),
            "refused": self.count("newsflow/guard/refused"),
            "rejected": self.rejected(),
            "finish_reason": str(self.stats.get("finish_reason", "unknown")),
        }


class CrawlEvent(StrEnum):
    """What a crawl tells its ``progress`` hook, as it happens (the stats have the final counts)."""

    FETCHED = "fetched"  # a response arrived (robots.txt and retried responses included)
    EMITTED = "emitted"  # a new or changed page went to the pipeline's next commit
    REJECTED = "rejected"  # a fetch failed for good and became a rejection
    DROPPED = "dropped"  # a page was not emitted: unchanged, or too large
    CLOSED = "closed"  # the site's crawl ended


#: ``progress(site_id, event)``; called in the crawl's (reactor) thread, so it must be quick
ProgressHook = Callable[[str, CrawlEvent], None]


def connect_progress(crawler: Crawler, site_id: str, progress: ProgressHook) -> None:
    """Relay the crawler's signals for ``site_id`` to ``progress``."""

    def fetched(**_: Any) -> None:
        progress(site_id, CrawlEvent.FETCHED)

    def scraped(item: Any, **_: Any) -> None:
        progress(site_id, CrawlEvent.REJECTED if isinstance(item, FetchFailed) else CrawlEvent.EMITTED)

    def dropped(**_: Any) -> None:
        progress(site_id, CrawlEvent.DROPPED)

    def closed(**_: Any) -> None:
        progress(site_id, CrawlEvent.CLOSED)

    relays = {
        signals.response_received: fetched,
        signals.item_scraped: scraped,
        signals.item_dropped: dropped,
        signals.spider_closed: closed,
    }
    for signal, relay in relays.items():
        # Scrapy holds receivers weakly by default: these closures would be collected at once
        crawler.signals.connect(relay, signal=signal, weak=False)


def crawl_sites(
    sites: list[SiteConfig],
    crawler_settings: CrawlerSettings,
    stream_settings: StreamSettings,
    *,
    resolver: Callable[[str], list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    progress: ProgressHook | None = None,
) -> list[CrawlReport]:
    """Crawl every site once, concurrently, and report what each emitted.

    ``progress(site_id, event)`` hears of each response, item and site end as it happens.
    """
    log = open_log(stream_settings)
    topics = create_topics(log, stream_settings)
    producer = open_producer(log, stream_settings)
    states: list[CrawlState] = []
    crawlers: list[tuple[SiteConfig, str, Crawler]] = []
    start = time.perf_counter()
    try:
        process = CrawlerProcess({"LOG_LEVEL": crawler_settings.log_level})
        for site in sites:
            # with the embedded log, the state shares its file so both commit in one transaction
            state_path = (
                stream_settings.path("db_path") if stream_settings.embedded else crawler_settings.state_path(site)
            )
            state = CrawlState(state_path, site.id)
            states.append(state)
            crawl_id = f"{site.id}-{uuid.uuid4().hex[:8]}"
            settings = scrapy_settings(site, crawler_settings)
            settings["NEWSFLOW_EMITTER"] = Emitter(producer, topics, state, site, crawl_id)
            settings["NEWSFLOW_RESOLVER"] = resolver
            settings.update(extra or {})
            # one spider class per site, so each crawler gets its own settings (politeness, emitter)
            spider_class = type(f"NewsSpider_{site.id}", (NewsSpider,), {"custom_settings": settings})
            crawler = process.create_crawler(spider_class)
            if progress is not None:
                connect_progress(crawler, site.id, progress)
            process.crawl(crawler, site=site, state=state)
            crawlers.append((site, crawl_id, crawler))
        process.start()
    finally:
        producer.close()
        for state in states:
            state.close()
        log.close()
    seconds = time.perf_counter() - start
    return [
        CrawlReport(site.id, crawl_id, dict(crawler.stats.get_stats()) if crawler.stats else {}, seconds)
        for site, crawl_id, crawler in crawlers
    ]
