"""Run crawls: one Scrapy process for one or more sites, emitting raw pages to the configured log.

Twisted's reactor runs once per process, so each call of :func:`crawl_sites` is
meant to be the crawl of one process (the CLI command, a scheduled job).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess

from crawler.pipelines import Emitter
from crawler.settings import CrawlerSettings, process_settings, scrapy_settings
from crawler.sites import SiteConfig
from crawler.spider import FetchFailed, NewsSpider
from crawler.state import CrawlState
from sinks.backends import create_topics, open_log, open_producer
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, Outcome


def utc_iso(moment: datetime | None = None) -> str:
    """A UTC time as crawl reports carry it: ``2026-11-23T08:00:00.000Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def outcome_of(stats: Mapping[str, Any]) -> Outcome:
    """How a site's crawl ended, from its Scrapy stats.

    In this order: a signal (Scrapy's ``shutdown``, or no finish reason at all when a second
    signal stopped the reactor at once) is ``interrupted``; a crawl that got no page but
    robots.txt (every request failed or was refused) ``failed``; then the page limit, the
    deadline, and a normal end. Any other reason Scrapy gives is a failure.
    """
    reason = stats.get("finish_reason")
    pages = int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0))
    if reason in (None, "shutdown"):
        return Outcome.INTERRUPTED
    if pages <= 0:
        return Outcome.FAILED
    return {
        "closespider_pagecount": Outcome.CAPPED,
        "closespider_timeout": Outcome.TIMED_OUT,
        "finished": Outcome.FINISHED,
    }.get(str(reason), Outcome.FAILED)


def summarise(site: str, crawl_id: str, stats: Mapping[str, Any], started_at: str) -> CrawlOutcome:
    """One site's crawl as the one outcome record (its request id is the crawl's until a request claims it)."""
    finished = stats.get("finish_time")
    outcome = outcome_of(stats)
    prefix = "newsflow/rejected/"
    return CrawlOutcome(
        site=site,
        request_id=crawl_id,
        started_at=started_at,
        finished_at=utc_iso(finished if isinstance(finished, datetime) else None),
        outcome=outcome,
        exit_code=outcome.exit_code,
        crawl_id=crawl_id,
        seconds=round(float(stats.get("elapsed_time_seconds", 0.0)), 3),
        fetched=int(stats.get("downloader/response_count", 0)),
        emitted=int(stats.get("newsflow/emitted", 0)),
        unchanged=int(stats.get("newsflow/unchanged", 0)),
        refused=int(stats.get("newsflow/guard/refused", 0)),
        rejected=tuple(sorted((k[len(prefix) :], int(v)) for k, v in stats.items() if str(k).startswith(prefix))),
        finish_reason=None if stats.get("finish_reason") is None else str(stats["finish_reason"]),
    )


def exit_code(outcomes: Sequence[CrawlOutcome]) -> int:
    """A crawl of several sites exits with its worst site's code (0 when every site finished or was capped)."""
    return max((o.outcome.exit_code for o in outcomes), default=0)


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
    stats: dict[str, dict[str, Any]] | None = None,
) -> list[CrawlOutcome]:
    """Crawl every site once, concurrently, and say how each crawl ended and what it emitted.

    ``progress(site_id, event)`` hears of each response, item and site end as it happens;
    ``stats``, when given, receives each site's Scrapy stats (for diagnosis: tests, benchmarks).
    However the crawl ends, even stopped at once by a second signal, the pages sent are
    committed with their crawl state and counted before the log closes.
    """
    log = open_log(stream_settings)
    topics = create_topics(log, stream_settings)
    producer = open_producer(log, stream_settings)
    states: list[CrawlState] = []
    emitters: list[Emitter] = []
    crawlers: list[tuple[SiteConfig, str, Crawler]] = []
    started_at = utc_iso()
    try:
        process = CrawlerProcess(process_settings(crawler_settings, resolver))
        for site in sites:
            # with the embedded log, the state shares its file so both commit in one transaction
            state_path = (
                stream_settings.path("db_path") if stream_settings.embedded else crawler_settings.state_path(site)
            )
            state = CrawlState(state_path, site.id)
            states.append(state)
            crawl_id = f"{site.id}-{uuid.uuid4().hex[:8]}"
            settings = scrapy_settings(site, crawler_settings)
            emitters.append(Emitter(producer, topics, state, site, crawl_id))
            settings["NEWSFLOW_EMITTER"] = emitters[-1]
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
        for emitter in emitters:
            emitter.commit_open()
    finally:
        producer.close()
        for state in states:
            state.close()
        log.close()
    outcomes = []
    for site, crawl_id, crawler in crawlers:
        site_stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
        if stats is not None:
            stats[site.id] = site_stats
        outcomes.append(summarise(site.id, crawl_id, site_stats, started_at))
    return outcomes
