"""The item pipeline that turns fetched pages into raw page records on the configured log.

For each :class:`~crawler.spider.Fetched` item: a 304 or an unchanged body only
moves the page's last-seen time; anything new or changed (a 404 included, so a
published page can be retracted) becomes a :class:`~sinks.topics.RawPage` on
``raw``, flushed (acknowledged) and then recorded in the crawl state. A
:class:`~crawler.spider.FetchFailed` item becomes a rejection on ``rejected``.
Counters: ``newsflow/emitted``, ``newsflow/unchanged``, ``newsflow/rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from cleaner import Rejection
from cleaner import __version__ as cleaner_version
from cleaner.reasons import Reason
from crawler.sites import SiteConfig
from crawler.spider import Fetched, FetchFailed
from crawler.state import CrawlState
from sinks.log import Producer, RecordTooLarge
from sinks.sqlite import SqliteProducer
from sinks.topics import RawPage, Topics, record_key, rejection_record


@dataclass(frozen=True, slots=True)
class Emitter:
    """What the pipeline writes to: handed over by the crawl runner through the crawler settings."""

    producer: Producer
    topics: Topics
    state: CrawlState
    site: SiteConfig
    crawl_id: str


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


class RawPagePipeline:
    def __init__(self, emitter: Emitter, crawler: Crawler) -> None:
        self.emitter = emitter
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawPagePipeline:
        return cls(crawler.settings["NEWSFLOW_EMITTER"], crawler)

    def count(self, name: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsflow/{name}")

    def process_item(self, item: Fetched | FetchFailed, spider: Spider | None = None) -> Fetched | FetchFailed:
        e = self.emitter
        if isinstance(item, FetchFailed):
            rejection = Rejection(item.url, item.reason, item.detail)
            e.producer.send(
                rejection_record(
                    e.topics.rejected,
                    rejection,
                    key=record_key(item.url),
                    site=e.site.id,
                    cleaner_version=cleaner_version,
                    produced_at=now_iso(),
                )
            )
            e.producer.flush()
            self.count("rejected")
            return item
        now = now_iso()
        version = str(item.status).encode() + b"\n" + item.body  # a 404 after a 200 is a change
        if item.status == 304 or not e.state.changed(item.url, version):
            e.state.seen(item.url, now)
            self.count("unchanged")
            raise DropItem(f"unchanged: {item.url}")
        page = RawPage(
            url=item.url,
            final_url=item.final_url,
            status=item.status,
            body=item.body,
            fetched_at=now,
            site=e.site.id,
            crawl_id=e.crawl_id,
            content_type=item.content_type,
            last_modified=item.last_modified,
            etag=item.etag,
            region=e.site.region.label(),
        )
        try:
            e.producer.send(page.to_record(e.topics.raw))
        except RecordTooLarge as error:
            self.process_item(FetchFailed(item.url, Reason.DOWNLOAD_TOO_LARGE, str(error)), spider)
            raise DropItem(str(error)) from error
        if isinstance(e.producer, SqliteProducer) and e.producer.log.path == e.state.path:
            # the state lives in the log's file: record and page commit together
            e.producer.flush(
                within=lambda conn: e.state.record_in(
                    conn, item.url, version, etag=item.etag, last_modified=item.last_modified, now=now
                )
            )
        else:
            e.producer.flush()
            e.state.record(item.url, version, etag=item.etag, last_modified=item.last_modified, now=now)
        self.count("emitted")
        self.count(f"emitted/{item.kind}")
        return item
