"""Retries that wait: a 429 or 503 is retried after its ``Retry-After``, other retryable answers after a backoff.

Scrapy's own RetryMiddleware retries at once. This one sits in front of it (it
sees responses first) and, for a status in ``RETRY_HTTP_CODES``, waits before the
retry: the server's ``Retry-After`` (seconds or an HTTP date) when it gives one,
capped at ``NEWSFLOW_MAX_RETRY_AFTER``; otherwise ``NEWSFLOW_BACKOFF_BASE`` × 2^attempt.
Only that request waits; the rest of the crawl goes on. When the retries are used up
the response goes on unchanged (the spider's errback makes it a rejection).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

log = logging.getLogger(__name__)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: a number, or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.max_wait = settings.getfloat("NEWSFLOW_MAX_RETRY_AFTER")  # CrawlerSettings has the defaults
        self.base = settings.getfloat("NEWSFLOW_BACKOFF_BASE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def delay(self, request: Request, response: Response) -> float:
        header = response.headers.get("Retry-After")
        told = retry_after_seconds(header.decode("latin-1") if header else None)
        attempt = int(request.meta.get("retry_times", 0))
        return min(self.max_wait, told if told is not None else self.base * 2**attempt)

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status not in self.codes or request.meta.get("dont_retry"):
            return response
        wait = self.delay(request, response)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"HTTP {response.status}")
        if retry is None:
            return response
        log.info("HTTP %s for %s: retrying in %.1f s", response.status, request.url, wait)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("newsflow/retry/waited_seconds", wait)
        await asyncio.sleep(wait)
        return retry
