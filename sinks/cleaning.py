"""From one raw record to exactly one output record: an article, a rejection or a tombstone.

:class:`Cleaning` is what the worker and replay share. It decides in this order:

1. the record breaks the raw contract (a header missing or not what it says: a status
   that is not 100..599, a URL that is not one) → rejection ``fetch.malformed_record``;
2. status 404 or 410 → a tombstone on ``articles`` when the page had been
   published (the near-duplicate index knows), else rejection ``fetch.gone``;
3. any other status outside 2xx → rejection ``fetch.http_status``;
4. otherwise ``clean_page`` (in a child process under a time limit when given a
   :class:`~sinks.timelimit.TimedCleaner`: a page over it is ``extract.time_limit``);
   an article gets its site, region, fetch time, raw reference and, for a repost,
   ``duplicate_of``.

A page has one identity, its requested URL (the crawler asks for it again, and its
404 arrives under it): the key, the article id and the index entry all come from
it, so a redirected page can be retracted. :meth:`Cleaning.process` never raises:
an error outside ``clean_page`` (the index's file, say) is tried ``attempts`` times,
then the record becomes a ``<stage>.internal_error`` rejection. An output too large
for the log becomes a ``fetch.record_too_large`` rejection at send time
(:meth:`Cleaning.too_large`), small enough to be sent whatever the record's headers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cleaner import Article, CleanerSettings, PageHints, Rejection, clean_page
from cleaner import __version__ as cleaner_version
from cleaner.identity import article_id
from cleaner.reasons import Reason, Stage, StageFailed, in_stage
from sinks.log import Message, Record
from sinks.neardup import NearDupIndex
from sinks.timelimit import CleanerDied, CleanTimeout, TimedCleaner
from sinks.topics import (
    MAX_URL_LENGTH,
    MalformedRecord,
    RawPage,
    Topics,
    article_record,
    record_key,
    rejection_record,
    tombstone_record,
    utc_iso,
)

log = logging.getLogger(__name__)

GONE = (404, 410)


class Cleaning:
    """Turns raw messages into output records; counts what it made under ``stats``."""

    def __init__(
        self,
        topics: Topics,
        settings: CleanerSettings,
        index: NearDupIndex,
        *,
        attempts: int,
        timed: TimedCleaner | None = None,
        articles_topic: str | None = None,
        now: Callable[[], str] = utc_iso,
    ) -> None:
        self.topics = topics
        self.settings = settings
        self.index = index
        self.attempts = attempts
        #: cleans in a child process under a time limit (``None``: in this process, no limit)
        self.timed = timed
        self.articles_topic = articles_topic or topics.articles
        self.now = now
        self.stats: Counter[str] = Counter()

    def process(self, message: Message, upcoming: Message | None = None) -> Record:
        """The one output of ``message``; an error is retried, then becomes a rejection that names it.

        ``upcoming`` is the message to be processed next, if known: its page goes to the cleaner's
        process as soon as this one's is cleaned, to be cleaned while this one is published.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return self._process(message, upcoming)
            except Exception as error:  # the record must still end as one output, and the loop go on
                failed = error
                log.warning(
                    "%s: cleaning failed (attempt %d of %d): %s: %s",
                    message.ref,
                    attempt,
                    self.attempts,
                    type(error).__name__,
                    error,
                )
        return self.failed(message, failed)

    def failed(self, message: Message, error: Exception) -> Record:
        stage = error.stage if isinstance(error, StageFailed) else Stage.PUBLISH
        cause = error.error if isinstance(error, StageFailed) else error
        detail = f"{type(cause).__name__}: {cause} (in the cleaning worker, {self.attempts} attempt(s))"
        url = message.header("ce_url")
        url = url if url and len(url) <= MAX_URL_LENGTH else None
        rejection = Rejection(url, Reason.internal(stage), detail, raw_ref=message.ref)
        return self._reject(rejection, self._key(url, message), None, message)

    def _process(self, message: Message, upcoming: Message | None = None) -> Record:
        try:
            page = RawPage.from_message(message)
        except MalformedRecord as error:
            rejection = Rejection(None, Reason.MALFORMED_RECORD, str(error), raw_ref=message.ref)
            return self._reject(rejection, self._key(None, message), None, message)
        except Exception as error:
            raise StageFailed(Stage.FETCH, error) from error
        if page.status in GONE:
            with in_stage(Stage.PUBLISH):
                return self._gone(page, message)
        if not _cleaned(page):
            detail = f"HTTP {page.status} for {page.final_url}"
            rejection = Rejection(page.url, Reason.HTTP_STATUS, detail, raw_ref=message.ref)
            return self._reject(rejection, page.key, page, message)
        try:
            result = self._clean(page)
        except CleanTimeout as error:
            result = Rejection(page.url, Reason.TIME_LIMIT, f"{error}; the page was given up")
        self._send_ahead(upcoming)  # cleaned while this one is published
        if isinstance(result, Rejection):
            rejection = dataclasses.replace(result, url=page.url, raw_ref=message.ref)
            return self._reject(rejection, page.key, page, message)
        with in_stage(Stage.PUBLISH):
            return self._publish(result, page, message.ref)

    def _clean(self, page: RawPage) -> Article | Rejection:
        if self.timed is not None:
            try:
                return self.timed.clean(**_clean_args(page))
            except CleanerDied as error:
                raise StageFailed(Stage.EXTRACT, error) from error
        return clean_page(**_clean_args(page), settings=self.settings)

    def _send_ahead(self, message: Message | None) -> None:
        """Start the cleaner's process on ``message``'s page, if it is one that will be cleaned."""
        if self.timed is None or message is None:
            return
        try:
            page = RawPage.from_message(message)
        except Exception:  # its own turn reports it
            return
        if _cleaned(page):
            with contextlib.suppress(CleanerDied):  # this page is done; the next one's turn starts a new process
                self.timed.send_ahead(**_clean_args(page))

    def close(self) -> None:
        try:
            if self.timed is not None:
                self.timed.close()
        finally:
            self.index.close()

    def _publish(self, article: Article, page: RawPage, ref: str) -> Record:
        identity = page_id(page)
        match = self.index.add(identity, article.simhash, site=page.site)
        article = dataclasses.replace(
            article,
            id=identity,
            url=page.url,
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

    def _gone(self, page: RawPage, source: Message) -> Record:
        ref = source.ref
        if self.index.retract(page_id(page)):
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
        return self._reject(Rejection(page.url, Reason.GONE, detail, raw_ref=ref), page.key, page, source)

    def _reject(self, rejection: Rejection, key: bytes | None, page: RawPage | None, source: Message) -> Record:
        self.stats[f"rejected/{rejection.reason.value}"] += 1
        if page is not None:
            rejection = dataclasses.replace(rejection, site=page.site, fetched_at=page.fetched_at)
        else:
            site, fetched_at = _short(source.header("ce_site")), _time(source.header("ce_time"))
            rejection = dataclasses.replace(rejection, site=site, fetched_at=fetched_at)
        return rejection_record(
            self.topics.rejected,
            rejection,
            key=key,
            site=rejection.site,
            cleaner_version=cleaner_version,
            produced_at=self.now(),
            crawl_id=page.crawl_id if page else _short(source.header("ce_crawlid")),
        )

    def _key(self, url: str | None, message: Message) -> bytes | None:
        """The canonical URL when it is one; else the record's own key when that is of a sane size."""
        if url:
            try:
                return record_key(url)
            except ValueError:
                pass
        return message.key if message.key is not None and len(message.key) <= MAX_URL_LENGTH else None

    def too_large(self, record: Record, source: Message) -> Record:
        """The replacement for an output the log refused as too large: a small rejection that says so."""
        detail = f"the {record.topic} record is {record.size} bytes, over the log's limit"
        self.stats["articles"] -= record.topic == self.articles_topic
        url = source.header("ce_url")
        url = url if url and len(url) <= MAX_URL_LENGTH else None
        rejection = Rejection(url, Reason.RECORD_TOO_LARGE, detail, raw_ref=source.ref)
        return self._reject(rejection, self._key(url, source), None, source)


def _cleaned(page: RawPage) -> bool:
    """Whether the page is cleaned (a success status), not rejected for its status."""
    return 200 <= page.status < 300


def _clean_args(page: RawPage) -> dict[str, Any]:
    """What the cleaner is given for a page: its body, final URL, HTTP headers and site hints."""
    hints = PageHints.from_mapping(dict(page.hints))
    return {"body": page.body, "url": page.final_url, "headers": page.http_headers(), "hints": hints}


def page_id(page: RawPage) -> str:
    """The page's one identity: the article id of its requested (canonical) URL."""
    return article_id(page.url, "")


def _time(value: str | None) -> str | None:
    """A record's ``ce_time`` when it is an ISO 8601 time with an offset."""
    if value is None or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if moment.tzinfo is not None else None


def _short(value: str | None, limit: int = 256) -> str | None:
    """A header copied into a rejection, unless it is too long to be what it says."""
    return value if value is not None and len(value) <= limit else None
