"""Topic contracts, declared once: names, keys, headers, serialisation, schema versions.

| topic (prefix ``newsflow.``) | key | value | schema |
| --- | --- | --- | --- |
| ``raw`` | canonical URL | the HTTP body, byte for byte | ``newsflow.raw/1`` (the headers) |
| ``articles`` | canonical URL | article JSON; ``null`` = page retracted | ``newsflow.article/1`` |
| ``rejected`` | canonical URL | rejection JSON (the dead-letter topic) | ``newsflow.rejected/1`` |
| ``crawl-requests`` | canonical URL | crawl request JSON | ``newsflow.crawl-request/1`` |
| ``crawl-reports`` | site id | what one crawl did (JSON) | ``newsflow.crawl-report/1`` |

Headers follow the CloudEvents Kafka binding in binary mode: ``ce_specversion``,
``ce_id``, ``ce_source``, ``ce_type``, ``ce_time``, ``ce_dataschema`` and
``content-type``, plus extension attributes (lower-case letters and digits
only, as CloudEvents requires): ``ce_site``, ``ce_cleanerversion`` and, per
type, the ones listed on the encoders below. The raw record's value is the body
exactly as fetched and its Kafka timestamp is the fetch time, so replay by time
is replay by crawl time. ``schemas/*.json`` hold a JSON Schema per record type;
:func:`record_view` gives the JSON view of any record that they validate.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cleaner import Article, Rejection
from cleaner.hints import HINT_FIELDS
from cleaner.identity import canonical_url
from cleaner.records import ARTICLE_SCHEMA, REJECTION_SCHEMA
from sinks.log import Headers, Message, Record, TopicSpec, header

RAW_SCHEMA = "newsflow.raw/1"
CRAWL_REQUEST_SCHEMA = "newsflow.crawl-request/1"
CRAWL_REPORT_SCHEMA = "newsflow.crawl-report/1"
SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
DETAIL_HEADER_LIMIT = 1024  # a rejection's detail in headers is cut here; the value has it whole

DAY_MS = 24 * 3600 * 1000
URL_SCHEMES = ("http", "https", "file")
HINT_EXTENSION = "hint"  # ce_hintencoding, ce_hintbodyselector, …: CloudEvents names have no underscores
HINT_PREFIX = "ce_" + HINT_EXTENSION
CLEANER_SOURCE = "newsflow/cleaner"
RETRACTION_TYPE = "newsflow.article.retracted"
HINT_NAMES = {name.replace("_", ""): name for name in HINT_FIELDS}


class MalformedRecord(ValueError):
    """A record on a topic does not follow its contract (missing header, bad value)."""


@dataclass(frozen=True, slots=True)
class Topics:
    """The five topic names under one prefix, and their declarations."""

    prefix: str = "newsflow."

    @property
    def raw(self) -> str:
        return f"{self.prefix}raw"

    @property
    def articles(self) -> str:
        return f"{self.prefix}articles"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}rejected"

    @property
    def crawl_requests(self) -> str:
        return f"{self.prefix}crawl-requests"

    @property
    def crawl_reports(self) -> str:
        return f"{self.prefix}crawl-reports"

    def all(self) -> tuple[str, ...]:
        return (self.raw, self.articles, self.rejected, self.crawl_requests, self.crawl_reports)

    def resolve(self, name: str) -> str:
        """``articles`` → ``newsflow.articles``; a full or foreign name is kept."""
        short = {full[len(self.prefix) :]: full for full in self.all()}
        return short.get(name, name)

    def specs(
        self, partitions: int, *, raw_retention_days: int | None = None, max_message_bytes: int
    ) -> list[TopicSpec]:
        """``articles`` is compacted: the latest version per page, a tombstone once it is gone.

        ``raw`` keeps pages for replay (``raw_retention_days``, ``None`` = forever);
        ``rejected`` keeps 30 days and ``crawl-requests`` 7 (both are worklists);
        ``crawl-reports`` keeps 30 days of crawl history (status and the canaries read it).
        """
        raw_ms = raw_retention_days * DAY_MS if raw_retention_days else None
        return [
            TopicSpec(self.raw, partitions, retention_ms=raw_ms, max_message_bytes=max_message_bytes),
            TopicSpec(self.articles, partitions, compacted=True, max_message_bytes=max_message_bytes),
            TopicSpec(self.rejected, partitions, retention_ms=30 * DAY_MS, max_message_bytes=max_message_bytes),
            TopicSpec(self.crawl_requests, partitions, retention_ms=7 * DAY_MS, max_message_bytes=max_message_bytes),
            TopicSpec(self.crawl_reports, partitions, retention_ms=30 * DAY_MS, max_message_bytes=max_message_bytes),
        ]


# -- time ----------------------------------------------------------------------------------
def iso_to_ms(value: str) -> int:
    """ISO 8601 → epoch milliseconds; a time without an offset is taken as UTC+08:00."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = datetime.fromisoformat(value + "+08:00")
    return int(moment.timestamp() * 1000)


def ms_to_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_key(url: str) -> bytes:
    return canonical_url(url).encode("utf-8")


EXTENSION_NAME = re.compile(r"[a-z0-9]+")


def utc_iso(moment: datetime | None = None) -> str:
    """A time as the records carry it: UTC, to the millisecond, with ``Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_time(value: str) -> str:
    """``ce_time`` as given, except that UTC is always written ``Z`` (one spelling on every topic)."""
    return value[: -len("+00:00")] + "Z" if value.endswith("+00:00") else value


def cloud_event(
    *,
    id: str,
    source: str,
    type: str,
    time: str,
    dataschema: str | None = None,
    content_type: str | None = None,
    **extensions: str | None,
) -> Headers:
    """The CloudEvents headers of a record (Kafka binding, binary mode); ``None`` values are left out.

    Extension attribute names are lower-case letters and digits, as CloudEvents requires.
    """
    bad = [name for name in extensions if not EXTENSION_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"CloudEvents extension names are lower-case letters and digits, not {', '.join(bad)}")
    values: dict[str, str | None] = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": id,
        "ce_source": source,
        "ce_type": type,
        "ce_time": event_time(time),
        "ce_dataschema": dataschema,
        "content-type": content_type,
        **{f"ce_{name}": value for name, value in extensions.items()},
    }
    return tuple((name, value.encode("utf-8")) for name, value in values.items() if value is not None)


def _event_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


# -- raw pages -----------------------------------------------------------------------------
STATUS = re.compile(r"[1-5][0-9][0-9]", re.ASCII)
#: longer URLs are not pages but damage (browsers and servers stop near 8 KiB)
MAX_URL_LENGTH = 8192


def page_url(message: Message, name: str, url: str) -> str:
    """A raw record's URL header, checked the way the key and the article id will use it."""
    if len(url) > MAX_URL_LENGTH:
        raise MalformedRecord(
            f"{message.ref}: {name} is {len(url)} characters, over the {MAX_URL_LENGTH} a URL may have"
        )
    try:
        canonical_url(url)
    except ValueError as error:
        raise MalformedRecord(f"{message.ref}: {name} {url[:200]!r} is not a URL ({error})") from error
    if urlsplit(url).scheme not in URL_SCHEMES:
        raise MalformedRecord(f"{message.ref}: {name} {url[:200]!r} is not an http(s) or file URL")
    return url


@dataclass(frozen=True, slots=True)
class RawPage:
    """One fetched page. The body is never re-encoded; the headers that matter ride along."""

    url: str
    final_url: str
    status: int
    body: bytes
    fetched_at: str  # ISO 8601 with offset
    site: str
    crawl_id: str
    content_type: str | None = None
    last_modified: str | None = None
    etag: str | None = None
    region: str | None = None
    #: the site's cleaner hints (encoding, body/title/date selectors), as ``PageHints`` names them
    hints: tuple[tuple[str, str], ...] = ()
    schema: str = RAW_SCHEMA

    @property
    def key(self) -> bytes:
        return record_key(self.url)

    def http_headers(self) -> dict[str, str]:
        found = {"content-type": self.content_type, "last-modified": self.last_modified, "etag": self.etag}
        return {k: v for k, v in found.items() if v is not None}

    def to_record(self, topic: str) -> Record:
        """CloudEvents binary mode: the body is the data, everything else is a header."""
        headers = cloud_event(
            id=_event_id(self.url, self.fetched_at, self.crawl_id),
            source=f"newsflow/crawler/{self.site}",
            type=RAW_SCHEMA,
            time=self.fetched_at,
            dataschema=RAW_SCHEMA,
            content_type=self.content_type,
            site=self.site,
            region=self.region,
            url=self.url,
            finalurl=self.final_url,
            status=str(self.status),
            crawlid=self.crawl_id,
            httplastmodified=self.last_modified,
            httpetag=self.etag,
            **{HINT_EXTENSION + name.replace("_", ""): value for name, value in self.hints},
        )
        return Record(topic, self.key, self.body, headers, iso_to_ms(self.fetched_at))

    @classmethod
    def from_message(cls, message: Message) -> RawPage:
        need = {name: message.header(name) for name in ("ce_url", "ce_status", "ce_time", "ce_site", "ce_crawlid")}
        missing = sorted(name for name, value in need.items() if value is None)
        if missing:
            raise MalformedRecord(f"{message.ref}: raw record without header(s) {', '.join(missing)}")
        if message.value is None:
            raise MalformedRecord(f"{message.ref}: raw record without a body")
        status = str(need["ce_status"])
        if not STATUS.fullmatch(status):
            raise MalformedRecord(f"{message.ref}: ce_status {status[:20]!r} is not an HTTP status (100..599)")
        url = page_url(message, "ce_url", str(need["ce_url"]))
        return cls(
            url=url,
            final_url=page_url(message, "ce_finalurl", message.header("ce_finalurl") or url),
            status=int(status),
            body=message.value,
            fetched_at=str(need["ce_time"]),
            site=str(need["ce_site"]),
            crawl_id=str(need["ce_crawlid"]),
            content_type=message.header("content-type"),
            last_modified=message.header("ce_httplastmodified"),
            etag=message.header("ce_httpetag"),
            region=message.header("ce_region"),
            hints=tuple(
                (HINT_NAMES[name[len(HINT_PREFIX) :]], value.decode("utf-8", "replace"))
                for name, value in message.headers
                if name.startswith(HINT_PREFIX) and name[len(HINT_PREFIX) :] in HINT_NAMES
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``schemas/raw.json``): the body as base64 with its length and SHA-256."""
        return {
            "schema": self.schema,
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "fetched_at": self.fetched_at,
            "site": self.site,
            "region": self.region,
            "crawl_id": self.crawl_id,
            "headers": self.http_headers(),
            "hints": dict(self.hints),
            "body_bytes": len(self.body),
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "body_base64": base64.b64encode(self.body).decode("ascii"),
        }


# -- crawl requests ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CrawlRequest:
    """Ask the crawler to fetch a URL (a seed, a recrawl, a page a user wants refreshed)."""

    url: str
    site: str
    requested_at: str
    reason: str = "schedule"
    priority: int = 0
    schema: str = CRAWL_REQUEST_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "url": self.url,
            "site": self.site,
            "requested_at": self.requested_at,
            "reason": self.reason,
            "priority": self.priority,
        }

    @property
    def id(self) -> str:
        """The request's identity (its CloudEvents id): crawl reports name the request they answer."""
        return _event_id(self.url, self.requested_at)

    def to_record(self, topic: str) -> Record:
        headers = cloud_event(
            id=self.id,
            source="newsflow/scheduler",
            type=CRAWL_REQUEST_SCHEMA,
            time=self.requested_at,
            dataschema=CRAWL_REQUEST_SCHEMA,
            content_type=JSON_CONTENT_TYPE,
            site=self.site,
        )
        value = json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        return Record(topic, record_key(self.url), value, headers, iso_to_ms(self.requested_at))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlRequest:
        return cls(
            url=data["url"],
            site=data["site"],
            requested_at=data["requested_at"],
            reason=data.get("reason", "schedule"),
            priority=int(data.get("priority", 0)),
        )


class Outcome(StrEnum):
    """How a crawl of a site ended; values are a contract on ``crawl-reports``: add, never rename."""

    FINISHED = "finished"  # ran to its end
    CAPPED = "capped"  # stopped at the site's max_pages
    TIMED_OUT = "timed_out"  # stopped, or was ended, at its deadline
    INTERRUPTED = "interrupted"  # stopped by a signal before its end; the counts are what it did until then
    FAILED = "failed"  # no page could be fetched (every request failed or was refused), or no such site
    CRASHED = "crashed"  # the crawl process died without a summary

    @property
    def exit_code(self) -> int:
        """What a crawl process that ended so exits with (``timeout``'s 124, a signal's 128 + SIGINT)."""
        return {Outcome.FINISHED: 0, Outcome.CAPPED: 0, Outcome.TIMED_OUT: 124, Outcome.INTERRUPTED: 130}.get(self, 1)


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """What one crawl of one site did: the crawl's summary, the report on ``crawl-reports`` (keyed by site)
    and the row ``status`` shows are this one record.

    ``outcome`` says how it ended (:class:`Outcome`); ``finish_reason`` is the crawler's own word for it
    (Scrapy's ``finish_reason``), kept for diagnosis; ``exit_code`` is the crawl process's.
    """

    site: str
    request_id: str
    started_at: str
    finished_at: str
    outcome: Outcome
    exit_code: int
    crawl_id: str | None = None
    seconds: float = 0.0
    fetched: int = 0
    emitted: int = 0
    unchanged: int = 0
    refused: int = 0
    rejected: tuple[tuple[str, int], ...] = ()
    finish_reason: str | None = None
    crawler: str | None = None
    schema: str = CRAWL_REPORT_SCHEMA

    @property
    def rejections(self) -> int:
        return sum(n for _, n in self.rejected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "site": self.site,
            "request_id": self.request_id,
            "crawl_id": self.crawl_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "seconds": self.seconds,
            "fetched": self.fetched,
            "emitted": self.emitted,
            "unchanged": self.unchanged,
            "refused": self.refused,
            "rejected": dict(self.rejected),
            "finish_reason": self.finish_reason,
            "crawler": self.crawler,
        }

    def to_record(self, topic: str) -> Record:
        headers = cloud_event(
            id=_event_id(self.request_id, self.site, self.crawl_id or "", self.finished_at),
            source=f"newsflow/crawler/{self.crawler or 'unknown'}",
            type=CRAWL_REPORT_SCHEMA,
            time=self.finished_at,
            dataschema=CRAWL_REPORT_SCHEMA,
            content_type=JSON_CONTENT_TYPE,
            site=self.site,
            crawlid=self.crawl_id,
        )
        value = json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        return Record(topic, self.site.encode("utf-8"), value, headers, iso_to_ms(self.finished_at))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlOutcome:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "schema"}
        known["rejected"] = tuple(sorted((str(k), int(v)) for k, v in (data.get("rejected") or {}).items()))
        known["outcome"] = Outcome(data.get("outcome"))
        return cls(**known)

    @classmethod
    def from_message(cls, message: Message) -> CrawlOutcome:
        try:
            return cls.from_dict(json.loads(message.value or b""))
        except (ValueError, TypeError, AttributeError) as error:
            raise MalformedRecord(f"{message.ref}: not a crawl report ({error})") from error


# -- cleaner outputs -----------------------------------------------------------------------
def article_record(
    topic: str, article: Article, *, key: bytes, produced_at: str, crawl_id: str | None = None
) -> Record:
    """An article, keyed by the canonical URL, so a compacted topic keeps the latest version."""
    headers = cloud_event(
        id=_event_id(article.id, article.content_hash, article.raw_ref or ""),
        source=CLEANER_SOURCE,
        type=ARTICLE_SCHEMA,
        time=produced_at,
        dataschema=ARTICLE_SCHEMA,
        content_type=JSON_CONTENT_TYPE,
        site=article.site,
        cleanerversion=article.cleaner_version,
        rawref=article.raw_ref,
        duplicateof=article.duplicate_of,
        crawlid=crawl_id,
    )
    return Record(topic, key, article.to_json().encode("utf-8"), headers)


def rejection_record(
    topic: str,
    rejection: Rejection,
    *,
    key: bytes | None,
    site: str | None,
    cleaner_version: str,
    produced_at: str,
    crawl_id: str | None = None,
) -> Record:
    """A dead letter: the rejection JSON, with the error context repeated in headers for routing."""
    rejection = dataclasses.replace(rejection, site=rejection.site or site)
    headers = cloud_event(
        id=_event_id(rejection.url or "", rejection.reason.value, rejection.raw_ref or ""),
        source=CLEANER_SOURCE,
        type=REJECTION_SCHEMA,
        time=produced_at,
        dataschema=REJECTION_SCHEMA,
        content_type=JSON_CONTENT_TYPE,
        site=rejection.site,
        cleanerversion=cleaner_version,
        rawref=rejection.raw_ref,
        stage=rejection.stage,
        reason=rejection.reason.value,
        detail=rejection.detail[:DETAIL_HEADER_LIMIT],
        crawlid=crawl_id,
    )
    return Record(topic, key, rejection.to_json().encode("utf-8"), headers)


def tombstone_record(
    topic: str, *, key: bytes, site: str | None, raw_ref: str, produced_at: str, crawl_id: str | None = None
) -> Record:
    """A retraction: the page is gone (404/410), so the compacted ``articles`` forgets it."""
    headers = cloud_event(
        id=_event_id(key.decode("utf-8"), "tombstone", raw_ref),
        source=CLEANER_SOURCE,
        type=RETRACTION_TYPE,
        time=produced_at,
        site=site,
        rawref=raw_ref,
        crawlid=crawl_id,
    )
    return Record(topic, key, None, headers)


# -- the JSON view of any record ------------------------------------------------------------
def record_view(message: Message) -> dict[str, Any]:
    """What ``newsflow consume`` prints: the value as JSON (the raw body as base64), with its place."""
    kind = message.header("ce_type")
    place = {"topic": message.topic, "partition": message.partition, "offset": message.offset}
    place["key"] = message.key.decode("utf-8", errors="replace") if message.key is not None else None
    place["timestamp"] = ms_to_iso(message.timestamp_ms)
    if kind == RAW_SCHEMA:
        value: Any = RawPage.from_message(message).to_dict()
    elif message.value is None:
        value = None
    else:
        try:
            value = json.loads(message.value)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedRecord(f"{message.ref}: value is not JSON ({error})") from error
    return {"record": place, "headers": {k: header(message.headers, k) for k, _ in message.headers}, "value": value}
