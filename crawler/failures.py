"""Why a request failed, as the crawl decides it: raised in a middleware, turned into a rejection by the spider."""

from __future__ import annotations

from cleaner.reasons import Reason


class CrawlFailure(Exception):
    """A request that cannot give a page, for a reason the crawl knows (``fetch.redirect_loop``, …)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
