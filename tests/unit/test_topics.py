"""Topic contracts: names, keys, CloudEvents headers, the raw body byte for byte, JSON Schemas."""

from __future__ import annotations

import re

import pytest

from cleaner import Rejection, clean_page
from cleaner.reasons import Reason
from sinks.log import Message, Record
from sinks.topics import (
    CrawlOutcome,
    CrawlRequest,
    MalformedRecord,
    RawPage,
    Topics,
    article_record,
    iso_to_ms,
    record_view,
    rejection_record,
    tombstone_record,
)
from tests.conftest import CMS_FIXTURES
from tests.contracts import schemas, validate

CE_NAME = re.compile(r"^(ce_[a-z0-9]+|content-type)$")


def as_message(record: Record, offset: int = 7) -> Message:
    return Message(record.topic, 0, offset, record.key, record.value, record.headers, record.timestamp_ms or 0)


def raw_page(body: bytes = b"<html>\xb9\xfa</html>", status: int = 200) -> RawPage:
    return RawPage(
        url="HTTP://www.Example.gov.cn:80/news/1.html?utm_source=x#top",
        final_url="http://www.example.gov.cn/news/1.html",
        status=status,
        body=body,
        fetched_at="2026-11-20T08:30:00+08:00",
        site="example",
        crawl_id="c1",
        content_type="text/html; charset=gbk",
        etag='"abc"',
        hints=(("body_selector", "div#content"), ("encoding", "gbk")),
    )


def test_topic_names_and_prefix() -> None:
    assert Topics().all() == (
        "newsflow.raw",
        "newsflow.articles",
        "newsflow.rejected",
        "newsflow.crawl-requests",
        "newsflow.crawl-reports",
    )
    topics = Topics("t1.")
    assert topics.resolve("articles") == "t1.articles"
    assert topics.resolve("crawl-requests") == "t1.crawl-requests"
    assert topics.resolve("crawl-reports") == "t1.crawl-reports"
    assert topics.resolve("other.topic") == "other.topic"
    specs = {s.name: s for s in topics.specs(3, max_message_bytes=1000)}
    assert specs["t1.articles"].compacted and not specs["t1.raw"].compacted
    assert specs["t1.raw"].retention_ms is None and specs["t1.rejected"].retention_ms == 30 * 24 * 3600 * 1000


def test_raw_record_keeps_body_and_fetch_time() -> None:
    page = raw_page(bytes(range(256)))
    record = page.to_record("newsflow.raw")
    assert record.value == bytes(range(256))
    assert record.key == b"http://www.example.gov.cn/news/1.html"
    assert record.timestamp_ms == iso_to_ms("2026-11-20T00:30:00Z")
    assert all(CE_NAME.match(name) for name, _ in record.headers)
    assert record.header("content-type") == "text/html; charset=gbk"
    back = RawPage.from_message(as_message(record))
    assert back == page


def test_raw_view_validates_and_carries_the_body() -> None:
    view = validate(as_message(raw_page().to_record("newsflow.raw")))
    assert view["value"]["body_bytes"] == len(b"<html>\xb9\xfa</html>")
    assert view["record"]["key"] == "http://www.example.gov.cn/news/1.html"
    assert view["headers"]["ce_type"] == "newsflow.raw/1"
    assert view["value"]["hints"] == {"body_selector": "div#content", "encoding": "gbk"}
    assert view["headers"]["ce_hintbodyselector"] == "div#content"


@pytest.mark.parametrize("missing", ["ce_url", "ce_status", "ce_time", "ce_site", "ce_crawlid"])
def test_raw_record_without_a_header_is_malformed(missing: str) -> None:
    record = raw_page().to_record("newsflow.raw")
    message = as_message(
        Record(record.topic, record.key, record.value, tuple(h for h in record.headers if h[0] != missing))
    )
    with pytest.raises(MalformedRecord, match=missing):
        RawPage.from_message(message)


def test_article_rejection_and_tombstone_records_validate(settings) -> None:
    page = CMS_FIXTURES / "trs_01_utf8.html"
    article = clean_page(page.read_bytes(), url="http://www.example.gov.cn/a.html", settings=settings)
    assert not isinstance(article, Rejection)
    record = article_record(
        "newsflow.articles", article, key=b"http://www.example.gov.cn/a.html", produced_at="2026-11-20T00:00:00Z"
    )
    view = validate(as_message(record))
    assert view["value"]["id"] == article.id
    assert view["headers"]["ce_cleanerversion"] == article.cleaner_version

    rejection = Rejection("http://x.gov.cn/1", Reason.TOO_SHORT, "2 CJK characters", raw_ref="newsflow.raw/0/3")
    dead = rejection_record(
        "newsflow.rejected", rejection, key=b"k", site="s", cleaner_version="0", produced_at="2026-11-20T00:00:00Z"
    )
    view = validate(as_message(dead))
    assert view["headers"]["ce_reason"] == "quality.too_short"
    assert view["headers"]["ce_stage"] == "quality"
    assert view["headers"]["ce_rawref"] == "newsflow.raw/0/3"

    gone = tombstone_record(
        "newsflow.articles", key=b"k", site="s", raw_ref="r/0/1", produced_at="2026-11-20T00:00:00Z"
    )
    assert gone.value is None and validate(as_message(gone))["value"] is None


def test_every_reason_fits_the_rejection_schema() -> None:
    validator = schemas()["newsflow.rejected/1"]
    for reason in Reason:
        rejection = Rejection("http://x", reason, "why")
        assert validator.is_valid(rejection.to_dict()), reason


def test_crawl_requests_and_reports_validate_and_round_trip() -> None:
    request = CrawlRequest("http://www.example.gov.cn/news/", "example", "2026-11-20T08:00:00+08:00")
    record = request.to_record("newsflow.crawl-requests")
    assert validate(as_message(record))["headers"]["ce_id"] == request.id
    assert CrawlRequest.from_dict(validate(as_message(record))["value"]) == request

    outcome = CrawlOutcome(
        site="example",
        request_id=request.id,
        started_at="2026-11-20T08:00:01+08:00",
        finished_at="2026-11-20T08:01:00+08:00",
        outcome="finished",
        exit_code=0,
        crawl_id="example-1",
        seconds=59.0,
        fetched=30,
        emitted=21,
        rejected=(("fetch.timeout", 2),),
    )
    report = outcome.to_record("newsflow.crawl-reports")
    assert report.key == b"example" and report.header("ce_crawlid") == "example-1"
    view = validate(as_message(report))
    assert view["value"]["rejected"] == {"fetch.timeout": 2}
    back = CrawlOutcome.from_message(as_message(report))
    assert back == outcome and back.rejections == 2
    with pytest.raises(MalformedRecord, match="not a crawl report"):
        CrawlOutcome.from_message(as_message(Record("t", b"k", b"[1]")))


def test_a_non_json_value_is_malformed() -> None:
    message = Message("newsflow.articles", 0, 0, b"k", b"\xff\xfe", (("ce_type", b"newsflow.article/1"),), 0)
    with pytest.raises(MalformedRecord, match="not JSON"):
        record_view(message)


def test_times_without_offset_are_china_time() -> None:
    assert iso_to_ms("2026-01-01T08:00:00") == iso_to_ms("2026-01-01T00:00:00Z")
