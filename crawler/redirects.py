"""Redirects that lead nowhere become typed failures instead of silent drops.

Scrapy's RedirectMiddleware leaves a redirect to ``file:`` or ``data:`` as the 3xx
response (which the spider's error filter then ignores), and a redirect loop ends
in its duplicate filter or as "max redirections reached", both without a trace.
:class:`RedirectCheckMiddleware` sees each 3xx first and raises
:class:`~crawler.failures.CrawlFailure` with ``fetch.bad_redirect`` or
``fetch.redirect_loop``, which the spider's errback turns into a rejection.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from cleaner.reasons import Reason
from crawler.failures import CrawlFailure

REDIRECTS = {301, 302, 303, 307, 308}


class RedirectCheckMiddleware:
    """Downloader middleware placed after RedirectMiddleware (600) in priority, so it sees 3xx responses first."""

    def __init__(self, max_redirects: int) -> None:
        self.max_redirects = max_redirects

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectCheckMiddleware:
        return cls(crawler.settings.getint("REDIRECT_MAX_TIMES"))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or not location or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if urlsplit(target).scheme not in ("http", "https"):
            raise CrawlFailure(Reason.BAD_REDIRECT, f"{request.url} redirects to {target[:200]}, not an http(s) URL")
        if target in chain:
            raise CrawlFailure(Reason.REDIRECT_LOOP, "redirect loop: " + " → ".join([*chain, target]))
        if len(chain) > self.max_redirects:
            raise CrawlFailure(Reason.REDIRECT_LOOP, f"more than {self.max_redirects} redirects from {chain[0]}")
        return response
