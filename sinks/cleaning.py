"""From one raw record to exactly one output record: an article, a rejection or a tombstone.

:class:`Cleaning` is what the worker and replay share. It decides in this order:

1. the record breaks the raw contract → rejection ``fetch.malformed_record``;
2. status 404 or 410 → a tombstone on ``articles`` when the page had been
   published (the near-duplicate index knows), else rejection ``fetch.gone``;
3. any other status outside 2xx → rejection ``fetch.http_status``;
4. otherwise ``clean_page``; an article gets its site, region, fetch time,
   raw reference and, for a repost, ``duplicate_of``.

It never raises on bad input; an output too large for the log becomes a
``fetch.record_too_large`` rejection at send time (see :meth:`Cleaning.too_large`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from cleaner import Article, CleanerSettings, PageHints, Rejection, clean_page
from cleaner import __version__ as cleaner_version
from cleaner.identity import article_id
from cleaner.reasons import Reason
from sinks.log import Message, Record
from sinks.neardup import NearDupIndex
from sinks.topics import (
    MalformedRecord,
    RawPage,
    Topics,
    article_record,
    record_key,
    rejection_record,
    tombstone_record,
)

GONE = (404, 410)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Cleaning:
    """Turns raw messages into output records; counts what it made under ``stats``."""

    def __init__(
        self,
        topics: Topics,
        settings: CleanerSettings,
        index: NearDupIndex,
        *,
        articles_topic: str | None = None,
        now: Callable[[], str] = utc_now,
    ) -> None:
        self.topics = topics
        self.settings = settings
        self.index = index
        self.articles_topic = articles_topic or topics.articles
        self.now = now
        self.stats: Counter[str] = Counter()

    def process(self, message: Message) -> Record:
        try:
            page = RawPage.from_message(message)
        except MalformedRecord as error:
            key = message.key
            return self._reject(Rejection(None, Reason.MALFORMED_RECORD, str(error), raw_ref=message.ref), key, None)
        if page.status in GONE:
            return self._gone(page, message.ref)
        if not 200 <= page.status < 300:
            detail = f"HTTP {page.status} for {page.final_url}"
            return self._reject(Rejection(page.url, Reason.HTTP_STATUS, detail, raw_ref=message.ref), page.key, page)
        result = clean_page(
            page.body,
            url=page.final_url,
            headers=page.http_headers(),
            settings=self.settings,
            hints=PageHints.from_mapping(dict(page.hints)),
        )
        if isinstance(result, Rejection):
            return self._reject(dataclasses.replace(result, url=page.url, raw_ref=message.ref), page.key, page)
        return self._publish(result, page, message.ref)

    def _publish(self, article: Article, page: RawPage, ref: str) -> Record:
        match = self.index.add(article.id, article.simhash, site=page.site)
        article = dataclasses.replace(
            article,
            site=page.site,
            region=page.region,
            fetched_at=page.fetched_at,
            raw_ref=ref,
            duplicate_of=match.duplicate_of,
        )
        self.stats["articles"] += 1
        if match.duplicate_of:
            self.stats["duplicates"] += 1
        return article_record(
            self.articles_topic, article, key=page.key, produced_at=self.now(), crawl_id=page.crawl_id
        )

    def _gone(self, page: RawPage, ref: str) -> Record:
        if self.index.forget(article_id(page.url, "")):
            self.stats["tombstones"] += 1
            return tombstone_record(
                self.articles_topic,
                key=page.key,
                site=page.site,
                raw_ref=ref,
                produced_at=self.now(),
                crawl_id=page.crawl_id,
            )
        detail = f"HTTP {page.status}: {page.final_url} is gone and was never published"
        return self._reject(Rejection(page.url, Reason.GONE, detail, raw_ref=ref), page.key, page)

    def _reject(
        self, rejection: Rejection, key: bytes | None, page: RawPage | None, crawl_id: str | None = None
    ) -> Record:
        self.stats[f"rejected/{rejection.reason.value}"] += 1
        return rejection_record(
            self.topics.rejected,
            rejection,
            key=key,
            site=page.site if page else None,
            cleaner_version=cleaner_version,
            produced_at=self.now(),
            crawl_id=page.crawl_id if page else crawl_id,
        )

    def too_large(self, record: Record, source: Message, limit: int) -> Record:
        """The replacement for an output the log refused as too large: a rejection that says so."""
        detail = f"the {record.topic} record is {record.size} bytes, over the {limit}-byte limit"
        url = source.header("ce_url")
        self.stats["articles"] -= record.topic == self.articles_topic
        rejection = Rejection(url, Reason.RECORD_TOO_LARGE, detail, raw_ref=source.ref)
        return self._reject(rejection, record_key(url) if url else source.key, None, source.header("ce_crawlid"))
