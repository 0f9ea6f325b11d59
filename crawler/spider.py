"""One generic news spider, driven by a :class:`~crawler.sites.SiteConfig`.

From the start URLs (and any sitemaps or RSS feeds) it reads list pages,
follows their pagination (links matching ``list_url_patterns`` or whose text
is "下一页" and the like, up to ``pagination.max_pages``), and fetches every
link that matches ``article_url_patterns``. From an article it fetches the
continuation pages of a multi-page article and attachments (PDF, DOC…). Every
article, continuation and attachment response becomes a :class:`Fetched` item
with its body untouched; a request that fails for good becomes a
:class:`FetchFailed` item, so nothing is dropped silently. Articles are asked
for conditionally (ETag / Last-Modified from the crawl state); list pages always
are fetched again.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.internet.error import TimeoutError as TwistedTimeout
from twisted.python.failure import Failure

from cleaner.reasons import Reason
from crawler.sites import SiteConfig
from crawler.state import CrawlState

ARTICLE, CONTINUATION, ATTACHMENT, LIST = "article", "continuation", "attachment", "list"
GONE_OR_UNCHANGED = [304, 404, 410]
SITEMAP_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>")
RSS_LINK = re.compile(r"<link>\s*([^<\s]+)\s*</link>")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response worth keeping: its bytes exactly as they came, and where it stands."""

    url: str
    final_url: str
    status: int
    body: bytes
    kind: str
    content_type: str | None
    last_modified: str | None
    etag: str | None
    #: pages 2… of a multi-page article, in order (this item is page 1)
    parts: tuple[Fetched, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchFailed:
    url: str
    reason: Reason
    detail: str


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class NewsSpider(scrapy.Spider):
    name = "news"
    handle_httpstatus_list = GONE_OR_UNCHANGED

    def __init__(self, site: SiteConfig, state: CrawlState, **kwargs: Any) -> None:
        super().__init__(name=f"news:{site.id}", **kwargs)
        self.site = site
        self.state = state
        self.allowed_domains = list(site.allowed_domains)
        self.article_res = [re.compile(p) for p in site.article_url_patterns]
        self.list_res = [re.compile(p) for p in site.list_url_patterns]
        self.attachment_res = [re.compile(p, re.IGNORECASE) for p in site.attachment_patterns]
        self.next_texts = set(site.pagination.next_texts)

    # -- requests --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.start_urls:
            yield self.list_request(url, pages=1)
        for url in (*self.site.sitemap_urls, *self.site.rss_urls):
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.failed, dont_filter=True)

    def list_request(self, url: str, *, pages: int, depth: int = 0) -> scrapy.Request:
        """List pages are fetched every crawl, unconditionally: they are where new articles appear."""
        meta = {"kind": LIST, "pages": pages, "list_depth": depth}
        return scrapy.Request(url, callback=self.parse_list, errback=self.failed, meta=meta)

    def page_request(self, url: str, kind: str) -> scrapy.Request:
        headers = {}
        known = self.state.get(url)
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        callback = self.parse_article if kind != ATTACHMENT else self.parse_attachment
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            headers=headers,
            meta={"kind": kind, "first": url},
            priority=1,
        )

    def is_article(self, url: str) -> bool:
        return any(r.search(url) for r in self.article_res)

    def is_list(self, url: str, text: str) -> bool:
        return any(r.search(url) for r in self.list_res) or text in self.next_texts

    # -- callbacks -------------------------------------------------------------------------
    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        """Articles by pattern; more list pages within the limits.

        A link whose text is a page number or a "next" word is pagination of this list
        (bounded by ``pagination.max_pages``); any other list link leads to another list,
        one level deeper (bounded by ``max_depth``).
        """
        if not isinstance(response, TextResponse):
            return
        pages, depth = response.meta.get("pages", 1), response.meta.get("list_depth", 0)
        for anchor in response.css("a[href]"):
            href = anchor.attrib["href"].strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")):
                continue
            url = urljoin(response.url, href)
            text = "".join(anchor.css("::text").getall()).strip()
            if self.is_article(url):
                yield self.page_request(url, ARTICLE)
            elif not self.is_list(url, text):
                continue
            elif text in self.next_texts or text.isdigit():
                if pages < self.site.pagination.max_pages:
                    yield self.list_request(url, pages=pages + 1, depth=depth)
            elif depth < self.site.max_depth:
                yield self.list_request(url, pages=1, depth=depth + 1)

    def parse_article(self, response: Response) -> Iterator[Fetched | scrapy.Request]:
        """An article; if it continues on further pages, they are fetched first and kept with it."""
        page = self.fetched(response)
        if response.status != 200 or not isinstance(response, TextResponse):
            yield page
            return
        continuations = []
        continuation = self.continuation_of(response)
        for url in self.links(response):
            if continuation.match(url):
                continuations.append(url)
            elif any(r.search(url) for r in self.attachment_res):
                yield self.page_request(url, ATTACHMENT)
        pending = sorted(set(continuations), key=self.page_number)
        if pending:
            yield self.part_request(pending[0], parts=(page,), pending=tuple(pending[1:]))
        else:
            yield page

    def links(self, response: TextResponse) -> list[str]:
        return [urljoin(response.url, href.strip()) for href in response.css("a[href]::attr(href)").getall()]

    def page_number(self, url: str) -> int:
        found = re.search(self.site.continuation_pattern + r"\.[a-z]+$", url.split("?")[0])
        return int(found.group(1)) if found and found.group(1).isdigit() else 0

    def part_request(self, url: str, *, parts: tuple[Fetched, ...], pending: tuple[str, ...]) -> scrapy.Request:
        meta = {"kind": CONTINUATION, "first": parts[0].url, "parts": parts, "pending": pending}
        return scrapy.Request(url, callback=self.parse_part, errback=self.part_failed, meta=meta, priority=2)

    def parse_part(self, response: Response) -> Iterator[Fetched | scrapy.Request]:
        parts = (*response.meta["parts"], self.fetched(response))
        pending = list(response.meta["pending"])
        if response.status == 200 and isinstance(response, TextResponse):
            known = {p.url for p in parts} | set(pending)
            continuation = self.continuation_of(response)
            pending += [u for u in self.links(response) if continuation.match(u) and u not in known]
            pending = sorted(set(pending), key=self.page_number)
        if pending:
            yield self.part_request(pending[0], parts=parts, pending=tuple(pending[1:]))
        else:
            yield self.joined(parts)

    def part_failed(self, failure: Failure) -> Iterator[Fetched]:
        """A later page could not be fetched: the article goes on with the pages it has."""
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get("parts"):
            self.logger.warning(
                "page %s of a multi-page article failed (%s); keeping the others", request.url, failure.value
            )
            yield self.joined(request.meta["parts"])

    @staticmethod
    def joined(parts: tuple[Fetched, ...]) -> Fetched:
        first, rest = parts[0], tuple(p for p in parts[1:] if p.status == 200)
        return replace(first, parts=rest) if rest else first

    def continuation_of(self, response: Response) -> re.Pattern[str]:
        """Page N of this article: its URL (page 1's, for a continuation) with the suffix before the extension."""
        first = response.meta.get("first", response.url)
        base, _, extension = first.split("?")[0].rpartition(".")
        return re.compile(f"^{re.escape(base)}{self.site.continuation_pattern}\\.{re.escape(extension)}$")

    def parse_attachment(self, response: Response) -> Iterator[Fetched]:
        yield self.fetched(response)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        for url in SITEMAP_LOC.findall(text) + RSS_LINK.findall(text):
            if self.is_article(url):
                yield self.page_request(url, ARTICLE)

    def fetched(self, response: Response) -> Fetched:
        return Fetched(
            url=response.request.url if response.request else response.url,
            final_url=response.url,
            status=response.status,
            body=response.body,
            kind=response.meta.get("kind", ARTICLE),
            content_type=header(response, "Content-Type"),
            last_modified=header(response, "Last-Modified"),
            etag=header(response, "ETag"),
        )

    def failed(self, failure: Failure) -> Iterator[FetchFailed]:
        """A request that failed for good (after retries): a rejection, unless it was refused or filtered."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind = request.meta.get("kind") if request is not None else None
        if failure.check(IgnoreRequest):  # robots.txt, the address guard, offsite: logged where decided
            return
        if failure.check(DownloadTimeoutError, TwistedTimeout):
            reason = Reason.TIMEOUT
        elif failure.check(DownloadCancelledError) and "max size" in str(failure.value):
            reason = Reason.DOWNLOAD_TOO_LARGE
        else:
            reason = Reason.FETCH_FAILED
        self.logger.warning("%s %s: %s", reason.value, url, failure.value)
        if kind != LIST:
            yield FetchFailed(url, reason, f"{type(failure.value).__name__}: {failure.value}")
