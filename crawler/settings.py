"""Crawler settings: politeness and safety defaults, resolved once and turned into Scrapy settings.

Defaults < ``[crawler]`` in the config file < ``NEWSFLOW_CRAWLER_*`` < flags; a
site's ``politeness`` block overrides the politeness part for that site.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crawler.sites import SiteConfig
from sinks.settings import StreamSettings

RESOLVED_CRAWL_SCHEMA = "newsflow.resolved-crawl/1"

CONTACT_URL = "https://github.com/newsflow/newsflow"


@dataclass(frozen=True, slots=True)
class CrawlerSettings:
    #: who we are and where to complain
    user_agent: str = f"newsflow/0.1 (+{CONTACT_URL})"
    obey_robots: bool = True
    autothrottle: bool = True
    #: seconds between requests to one domain (AutoThrottle adapts from here)
    download_delay: float = 1.0
    concurrency_per_domain: int = 2
    concurrency: int = 16
    download_timeout: int = 30
    #: larger responses are cancelled and recorded as ``fetch.too_large``
    max_download_bytes: int = 10 * 1024 * 1024
    retries: int = 3
    #: seconds a crawl may take, then it closes itself as timed_out (0: no limit; the service sets one)
    crawl_timeout: float = 0.0
    #: seconds before retry N of a 429/503/5xx without Retry-After: backoff_base × 2^N
    backoff_base: float = 1.0
    #: a server's Retry-After is honoured up to this many seconds
    max_retry_after: float = 120.0
    #: addresses the guard lets through although they are not public ("127.0.0.1" for a local test site)
    allowed_addresses: str = ""
    #: with Kafka, one SQLite file per site: what was emitted, for incremental crawls
    #: (with the embedded log the state lives in the log's own file)
    state_dir: str = "data/crawl"
    log_level: str = "WARNING"

    def allowed(self) -> list[str]:
        return [a.strip() for a in self.allowed_addresses.split(",") if a.strip()]

    def state_path(self, site: SiteConfig) -> Path:
        return Path(self.state_dir) / f"{site.id}.db"


@dataclass(frozen=True, slots=True)
class ResolvedCrawl:
    """The settings of a crawl child, resolved once by the service and handed over as one file.

    A child reads this instead of the config file and the environment, so it crawls with
    exactly the settings its parent resolved (``newsflow crawl --settings-file``).
    """

    crawler: CrawlerSettings
    streams: StreamSettings

    def to_json(self) -> str:
        return json.dumps(
            {"schema": RESOLVED_CRAWL_SCHEMA, "crawler": asdict(self.crawler), "streams": asdict(self.streams)}
        )

    @classmethod
    def from_json(cls, text: str) -> ResolvedCrawl:
        """Raises ValueError (or TypeError for unknown fields) when the text is not such a file."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("schema") != RESOLVED_CRAWL_SCHEMA:
            raise ValueError(f"not a {RESOLVED_CRAWL_SCHEMA} file")
        return cls(CrawlerSettings(**data["crawler"]), StreamSettings(**data["streams"]))


def process_settings(settings: CrawlerSettings, resolver: Callable[[str], list[str]] | None) -> dict[str, Any]:
    """Scrapy's settings for the crawl process (the reactor's), shared by every site in it."""
    return {
        "LOG_LEVEL": settings.log_level,
        # every connection's own lookup passes the address guard (no DNS rebinding past it)
        "TWISTED_DNS_RESOLVER": "crawler.guard.GuardedResolver",
        "NEWSFLOW_ALLOWED_ADDRESSES": settings.allowed(),
        "NEWSFLOW_RESOLVER": resolver,
    }


def scrapy_settings(site: SiteConfig, settings: CrawlerSettings) -> dict[str, Any]:
    """Scrapy's settings for one crawl of one site."""
    polite = site.politeness
    return {
        "BOT_NAME": "newsflow",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots and polite.obey_robots,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle if polite.autothrottle is None else polite.autothrottle,
        "AUTOTHROTTLE_START_DELAY": settings.download_delay,
        "DOWNLOAD_DELAY": settings.download_delay if polite.download_delay is None else polite.download_delay,
        "CONCURRENT_REQUESTS": settings.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency or settings.concurrency_per_domain,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": settings.max_download_bytes,
        "DOWNLOAD_WARNSIZE": settings.max_download_bytes // 2,
        "RETRY_TIMES": settings.retries,
        "CLOSESPIDER_PAGECOUNT": site.max_pages,
        "CLOSESPIDER_TIMEOUT": settings.crawl_timeout,
        "DEPTH_LIMIT": 0,  # list pagination is bounded by pagination.max_pages, articles are leaves
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # Scrapy 2.19 would open an HTTP control port for every crawl
        "LOG_LEVEL": settings.log_level,
        # Scrapy logs every dropped item (each unchanged page) as a warning; the crawl stats count them instead
        "DEFAULT_DROPITEM_LOG_LEVEL": "DEBUG",
        "NEWSFLOW_ALLOWED_ADDRESSES": settings.allowed(),
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.guard.AddressGuardMiddleware": 10,
            "crawler.backoff.BackoffRetryMiddleware": 560,  # before Scrapy's RetryMiddleware (550) sees a response
            "crawler.redirects.RedirectCheckMiddleware": 610,  # before Scrapy's RedirectMiddleware (600) follows one
        },
        "NEWSFLOW_MAX_RETRY_AFTER": settings.max_retry_after,
        "NEWSFLOW_BACKOFF_BASE": settings.backoff_base,
        "ITEM_PIPELINES": {"crawler.pipelines.RawPagePipeline": 300},
    }
