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

import re2
import scrapy
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeout
from twisted.python.failure import Failure

from cleaner.reasons import Reason
from crawler.failures import CrawlFailure
from crawler.sites import SiteConfig, compile_pattern
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
        # RE2: matching takes time linear in the URL, whatever a site file's pattern is
        self.article_res = [compile_pattern(p) for p in site.article_url_patterns]
        self.list_res = [compile_pattern(p) for p in site.list_url_patterns]
        self.attachment_res = [compile_pattern(p, flags="(?i)") for p in site.attachment_patterns]
        self.page_number_re = compile_pattern(site.continuation_pattern + r"\.[a-z]+$")
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
    def parse_list(self, response: Response) -> Iterator[scrapy.Request | FetchFailed]:
        """Articles by pattern; more list pages within the limits.

        A link whose text is a page number or a "next" word is pagination of this list
        (bounded by ``pagination.max_pages``); any other list link leads to another list,
        one level deeper (bounded by ``max_depth``). A link that is not a URL is a
        ``fetch.bad_link`` rejection; the rest of the page goes on.
        """
        if not isinstance(response, TextResponse):
            return
        for anchor in response.css("a[href]"):
            href = anchor.attrib["href"].strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")):
                continue
            text = "".join(anchor.css("::text").getall()).strip()
            try:
                request = self.follow(response, urljoin(response.url, href), text)
            except ValueError as error:  # urljoin and Request refuse what cannot be a URL
                yield self.bad_link(response, href, error)
                continue
            if request is not None:
                yield request

    def follow(self, response: Response, url: str, text: str) -> scrapy.Request | None:
        pages, depth = response.meta.get("pages", 1), response.meta.get("list_depth", 0)
        if self.is_article(url):
            return self.page_request(url, ARTICLE)
        if not self.is_list(url, text):
            return None
        if text in self.next_texts or text.isdigit():  # pagination of this list
            more = pages < self.site.pagination.max_pages
            return self.list_request(url, pages=pages + 1, depth=depth) if more else None
        return self.list_request(url, pages=1, depth=depth + 1) if depth < self.site.max_depth else None

    def bad_link(self, response: Response, href: str, error: ValueError) -> FetchFailed:
        self.logger.warning("%s %s on %s: %s", Reason.BAD_LINK.value, href[:200], response.url, error)
        detail = f"link {href[:200]!r} on {response.url} is not a URL ({error})"
        return FetchFailed(href[:2000], Reason.BAD_LINK, detail)

    def parse_article(self, response: Response) -> Iterator[Fetched | scrapy.Request]:
        """An article; if it continues on further pages, they are fetched first and kept with it."""
        page = self.fetched(response)
        if response.status != 200 or not isinstance(response, TextResponse):
            yield page
            return
        continuations = []
        continuation = self.continuation_of(response)
        urls, bad = self.links(response)
        yield from bad
        for url in urls:
            if continuation.match(url):
                continuations.append(url)
            elif any(r.search(url) for r in self.attachment_res):
                yield self.page_request(url, ATTACHMENT)
        pending = sorted(set(continuations), key=self.page_number)
        if pending:
            yield self.part_request(pending[0], parts=(page,), pending=tuple(pending[1:]))
        else:
            yield page

    def links(self, response: TextResponse) -> tuple[list[str], list[FetchFailed]]:
        """The page's links as URLs, and a ``fetch.bad_link`` for each that is not one."""
        urls, bad = [], []
        for href in response.css("a[href]::attr(href)").getall():
            try:
                urls.append(urljoin(response.url, href.strip()))
            except ValueError as error:
                bad.append(self.bad_link(response, href.strip(), error))
        return urls, bad

    def page_number(self, url: str) -> int:
        found = self.page_number_re.search(url.split("?")[0])
        return int(found.group(1)) if found and found.group(1) and found.group(1).isdigit() else 0

    def part_request(self, url: str, *, parts: tuple[Fetched, ...], pending: tuple[str, ...]) -> scrapy.Request:
        meta = {"kind": CONTINUATION, "first": parts[0].url, "parts": parts, "pending": pending}
        return scrapy.Request(url, callback=self.parse_part, errback=self.part_failed, meta=meta, priority=2)

    def parse_part(self, response: Response) -> Iterator[Fetched | scrapy.Request]:
        parts = (*response.meta["parts"], self.fetched(response))
        pending = list(response.meta["pending"])
        if response.status == 200 and isinstance(response, TextResponse):
            known = {p.url for p in parts} | set(pending)
            continuation = self.continuation_of(response)
            urls, _ = self.links(response)  # a bad link on page N was already one on page 1, or is furniture
            pending += [u for u in urls if continuation.match(u) and u not in known]
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

    def continuation_of(self, response: Response) -> re2._Regexp:
        """Page N of this article: its URL (page 1's, for a continuation) with the suffix before the extension."""
        first = response.meta.get("first", response.url)
        base, _, extension = first.split("?")[0].rpartition(".")
        return compile_pattern(f"^{re2.escape(base)}{self.site.continuation_pattern}\\.{re2.escape(extension)}$")

    def parse_attachment(self, response: Response) -> Iterator[Fetched]:
        yield self.fetched(response)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request | FetchFailed]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        for url in SITEMAP_LOC.findall(text) + RSS_LINK.findall(text):
            if self.is_article(url):
                try:
                    yield self.page_request(url, ARTICLE)
                except ValueError as error:
                    yield self.bad_link(response, url, error)

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
        """A request that failed for good (after retries): a rejection, unless it was refused or filtered.

        A list page that fails is no page of the site's, so it is counted
        (``newsflow/failed/list``), not rejected; everything else is a rejection.
        """
        request = getattr(failure, "request", None)
        # the page asked for, not the last hop of its redirects: the rejection is about what the site links to
        url = (request.meta.get("redirect_urls") or [request.url])[0] if request is not None else "?"
        kind = request.meta.get("kind") if request is not None else None
        failed = self.why(failure)
        if failed is None:  # robots.txt, the address guard, offsite: logged and counted where decided
            return
        reason, detail = failed
        self.logger.warning("%s %s: %s", reason.value, url, detail)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsflow/failed/{kind or ARTICLE}")
        if kind != LIST:
            yield FetchFailed(url, reason, detail)

    def why(self, failure: Failure) -> tuple[Reason, str] | None:
        """The reason and a detail that is never empty; None for a request filtered on purpose."""
        error = failure.value
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if failure.check(CrawlFailure):
            return error.reason, error.detail
        if failure.check(HttpError):  # a status the spider does not take, after any retries
            return Reason.HTTP_STATUS, f"HTTP {error.response.status} from {error.response.url}"
        if failure.check(IgnoreRequest):
            if "DOWNLOAD_MAXSIZE" in str(error):  # a compressed body that decompresses past the limit
                return Reason.DOWNLOAD_TOO_LARGE, str(error)
            if "max redirections" in str(error):
                return Reason.REDIRECT_LOOP, detail
            return None
        if failure.check(DownloadTimeoutError, TwistedTimeout):
            return Reason.TIMEOUT, detail
        if failure.check(DownloadCancelledError):  # only the size limit cancels a download
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            return Reason.DOWNLOAD_TOO_LARGE, str(error) or f"the body grew past the download limit of {limit} bytes"
        return Reason.FETCH_FAILED, detail
