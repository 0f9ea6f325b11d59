"""The item pipeline that turns fetched pages into raw page records on the configured log.

For each :class:`~crawler.spider.Fetched` item: a 304 or an unchanged body only
moves the page's last-seen time; anything new or changed (a 404 included, so a
published page can be retracted) becomes a :class:`~sinks.topics.RawPage` on
``raw``, flushed (acknowledged) and then recorded in the crawl state. A
:class:`~crawler.spider.FetchFailed` item becomes a rejection on ``rejected``.
Counters: ``newsflow/emitted``, ``newsflow/unchanged``, ``newsflow/rejected``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from cleaner import Rejection
from cleaner import __version__ as cleaner_version
from cleaner.multipart import Part, pack_parts
from cleaner.reasons import Reason
from crawler.sites import SiteConfig
from crawler.spider import Fetched, FetchFailed
from crawler.state import CrawlState
from sinks.log import Producer, RecordTooLarge
from sinks.topics import RawPage, Topics, record_key, rejection_record


@dataclass(frozen=True, slots=True)
class Emitter:
    """What the pipeline writes to: handed over by the crawl runner through the crawler settings."""

    producer: Producer
    topics: Topics
    state: CrawlState
    site: SiteConfig
    crawl_id: str
    #: the pipelines writing through this emitter (one per crawl), so the runner can commit what they hold
    pipelines: list[RawPagePipeline] = field(default_factory=list)

    def commit_open(self) -> None:
        """Commit what a pipeline still holds: a crawl stopped at once never called its ``close_spider``."""
        for pipeline in self.pipelines:
            if pipeline.holds():
                pipeline.commit()


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Emitted:
    """A page sent and waiting for its commit (with its crawl-state entry)."""

    url: str
    version: bytes
    etag: str | None
    last_modified: str | None
    at: str


class RawPagePipeline:
    """Sends pages as they come and commits every ``BATCH`` pages or ``MAX_WAIT`` seconds, and at the end.

    A commit is one flush of the producer plus the crawl-state entries of the pages in it
    (one transaction with the embedded log). A kill loses at most the uncommitted pages
    together with their state, so the next crawl fetches them again: no gap, no duplicate.
    Where the state cannot commit with the records (Kafka sends as soon as it can, so a
    batch is acknowledged long before its state would be written), every page is its own
    commit: the state keeps step with what was acknowledged, and a kill re-emits one page at most.
    """

    BATCH = 50
    MAX_WAIT = 1.0

    def __init__(self, emitter: Emitter, crawler: Crawler) -> None:
        self.emitter = emitter
        self.crawler = crawler
        self.batch = self.BATCH if emitter.producer.atomic_file == emitter.state.path else 1
        self._pending: list[Emitted] = []
        self._seen: list[str] = []
        self._oldest = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawPagePipeline:
        pipeline = cls(crawler.settings["NEWSFLOW_EMITTER"], crawler)
        pipeline.emitter.pipelines.append(pipeline)
        return pipeline

    def holds(self) -> bool:
        return bool(self._pending or self._seen)

    def count(self, name: str, by: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsflow/{name}", by)

    def process_item(self, item: Fetched | FetchFailed, spider: Spider | None = None) -> Fetched | FetchFailed:
        try:
            return self.handle(item)
        finally:
            if len(self._pending) + len(self._seen) >= self.batch or time.monotonic() - self._oldest > self.MAX_WAIT:
                self.commit()

    def handle(self, item: Fetched | FetchFailed) -> Fetched | FetchFailed:
        e = self.emitter
        if isinstance(item, FetchFailed):
            self.reject(item)
            return item
        now = now_iso()
        content_type, body = item.content_type, item.body
        if item.parts:  # a multi-page article: one record, every page's bytes untouched inside
            content_type, body = pack_parts([Part(p.final_url, p.content_type, p.body) for p in (item, *item.parts)])
            self.count("multipage")
        version = str(item.status).encode() + b"\n" + body  # a 404 after a 200 is a change
        if item.status == 304 or not e.state.changed(item.url, version):
            self._seen.append(item.url)
            self.count("unchanged")
            raise DropItem(f"unchanged: {item.url}")
        page = RawPage(
            url=item.url,
            final_url=item.final_url,
            status=item.status,
            body=body,
            fetched_at=now,
            site=e.site.id,
            crawl_id=e.crawl_id,
            content_type=content_type,
            last_modified=item.last_modified,
            etag=item.etag,
            region=e.site.region.label(),
            hints=tuple(sorted(e.site.hints.model_dump(exclude_none=True).items())),
        )
        try:
            e.producer.send(page.to_record(e.topics.raw))
        except RecordTooLarge as error:
            self.reject(FetchFailed(item.url, Reason.DOWNLOAD_TOO_LARGE, str(error)))
            raise DropItem(str(error)) from error
        self._pending.append(Emitted(item.url, version, item.etag, item.last_modified, now))
        self.count(f"emitted/{item.kind}")
        return item

    def reject(self, item: FetchFailed) -> None:
        e = self.emitter
        rejection = Rejection(item.url, item.reason, item.detail, fetched_at=now_iso())  # when the fetch failed
        try:
            key = record_key(item.url)
        except ValueError:  # a link that is not a URL (fetch.bad_link) has no canonical form: keyed as written
            key = item.url.encode("utf-8", "replace")
        record = rejection_record(
            e.topics.rejected,
            rejection,
            key=key,
            site=e.site.id,
            cleaner_version=cleaner_version,
            produced_at=now_iso(),
            crawl_id=e.crawl_id,
        )
        e.producer.send(record)
        self.count("rejected")
        self.count(f"rejected/{item.reason.value}")

    def commit(self) -> None:
        """Flush what was sent, then (or, with the embedded log, in the same transaction) record it."""
        e = self.emitter
        pending, seen = self._pending, self._seen
        self._pending, self._seen, self._oldest = [], [], time.monotonic()
        entries = [(p.url, p.version, p.etag, p.last_modified, p.at) for p in pending]
        now = now_iso()
        if e.producer.atomic_file == e.state.path:
            e.producer.flush_with(lambda conn: e.state.record_in(conn, entries, seen=seen, now=now))
        else:
            e.producer.flush()
            e.state.record(entries, seen=seen, now=now)
        self.count("emitted", len(pending))

    def close_spider(self, spider: Spider | None = None) -> None:
        self.commit()
