"""Issue 14, records and the log: every raw record ends as one output, retractions hold, the log shrinks.

Real SQLite files in ``tmp_path`` (the embedded log, the index, the spool); the one fake
is the broker behind the spool, which a unit test switches off.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from cleaner import CleanerSettings, Reason, Rejection
from cleaner.identity import article_id, canonical_url
from sinks.cleaning import Cleaning
from sinks.log import Message, Record, Start, TopicSpec
from sinks.maintenance import Maintenance
from sinks.neardup import NearDupIndex
from sinks.settings import StreamSettings
from sinks.spool import Spool, SpoolingProducer
from sinks.topics import RawPage, Topics, cloud_event, rejection_record
from tests.conftest import CMS_FIXTURES, embedded_log
from tests.contracts import validate
from tests.unit.test_spool_and_index import Broker, FlakyProducer, records

TOPICS = Topics()
FETCHED = "2026-11-20T08:00:00+08:00"
PAGE = sorted(CMS_FIXTURES.glob("*.html"))[0].read_bytes()


@pytest.fixture
def cleaning(tmp_path: Path) -> Cleaning:
    return Cleaning(TOPICS, CleanerSettings(), NearDupIndex(tmp_path / "index.db", max_distance=3), attempts=2)


def as_message(record: Record, offset: int = 0) -> Message:
    return Message(record.topic, 0, offset, record.key, record.value, record.headers, record.timestamp_ms or 0)


def raw_message(**headers: str) -> Message:
    """A raw record as the crawler writes it, with ``headers`` (``ce_`` names) put in place of its own."""
    url = "http://www.a.gov.cn/n/1.html"
    record = RawPage(url, url, 200, PAGE, FETCHED, "fixture", "crawl-1", "text/html").to_record(TOPICS.raw)
    names = {f"ce_{name}" for name in headers}
    kept = tuple((k, v) for k, v in record.headers if k not in names)
    extra = tuple((f"ce_{name}", value.encode("utf-8")) for name, value in headers.items())
    return as_message(Record(record.topic, record.key, record.value, kept + extra, record.timestamp_ms))


# -- defect 1: poisoned headers -------------------------------------------------------------
@pytest.mark.parametrize("status", ["²", "٢٠٠", "20", "999", "2OO"])
def test_raw_status_superscript_digit_becomes_rejection(cleaning: Cleaning, status: str) -> None:
    """Defect 1: ``ce_status: "²"`` passed ``isdigit`` and crashed ``int()`` on every restart."""
    output = cleaning.process(raw_message(status=status))
    assert output.topic == TOPICS.rejected
    assert output.header("ce_reason") == Reason.MALFORMED_RECORD.value
    validate(as_message(output))


@pytest.mark.parametrize(
    "url", ["http://x:99999/v", "http://x:abc/v", "http://[::1/a", "x:abc", "http://a/" + "x" * 9000]
)
def test_raw_url_that_is_not_one_becomes_rejection(cleaning: Cleaning, url: str) -> None:
    """Defect 1: a ``ce_url`` that ``canonical_url`` refuses crashed ``Cleaning.process`` outside ``clean_page``."""
    output = cleaning.process(raw_message(url=url, finalurl=url))
    assert output.topic == TOPICS.rejected
    assert output.header("ce_reason") == Reason.MALFORMED_RECORD.value
    assert output.size < 20_000
    validate(as_message(output))


def test_output_refused_as_too_large_is_replaced_by_a_small_rejection(cleaning: Cleaning) -> None:
    """Defect 1: the replacement for a too-large output carried the 9 MB URL again, and its send raised."""
    huge = "http://www.a.gov.cn/" + "x" * 9_000_000
    source = raw_message(url=huge)
    refused = Record(TOPICS.articles, huge.encode(), b"{}", (("ce_url", huge.encode()),))
    replacement = cleaning.too_large(refused, source)
    assert replacement.topic == TOPICS.rejected and replacement.size < 20_000
    assert replacement.header("ce_reason") == Reason.RECORD_TOO_LARGE.value


# -- defect 2: an error outside clean_page ----------------------------------------------------
def test_index_error_outside_clean_page_becomes_a_rejection_after_the_attempts(
    cleaning: Cleaning, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 2: a SQLite error in the near-duplicate index ended the worker's loop, batch after batch."""
    cleaning.index.close()  # every use of the index now raises sqlite3.ProgrammingError
    output = cleaning.process(raw_message())
    assert output.topic == TOPICS.rejected
    assert output.header("ce_reason") == Reason.PUBLISH_INTERNAL_ERROR.value
    assert "ProgrammingError" in str(output.header("ce_detail"))
    assert caplog.text.count("cleaning failed (attempt") == 2
    view = validate(as_message(output))["value"]
    assert (view["stage"], view["site"], view["fetched_at"]) == ("publish", "fixture", FETCHED)


# -- defects 5 and 6: one identity per page, idempotent retraction ------------------------------
def test_redirected_article_is_retracted_by_its_later_404(cleaning: Cleaning) -> None:
    """Defect 5: the article id came from ``final_url`` and the tombstone lookup from ``url``."""
    url, final = "http://www.a.gov.cn/n/1.html", "https://www.a.gov.cn/new/1.html?from=old"
    page = RawPage(url, final, 200, PAGE, FETCHED, "fixture", "crawl-1", "text/html")
    article = cleaning.process(as_message(page.to_record(TOPICS.raw)))
    assert article.topic == TOPICS.articles
    view = validate(as_message(article))["value"]
    assert view["id"] == article_id(url, "") and article.key == canonical_url(url).encode()
    gone = RawPage(url, url, 404, b"not found", FETCHED, "fixture", "crawl-2", "text/html")
    tombstone = cleaning.process(as_message(gone.to_record(TOPICS.raw), 1))
    assert (tombstone.topic, tombstone.key, tombstone.value) == (TOPICS.articles, article.key, None)


def test_redelivered_404_keeps_its_tombstone(cleaning: Cleaning) -> None:
    """Defect 6: the index forgot the page before the tombstone was acknowledged; a redelivery said fetch.gone."""
    url = "http://www.a.gov.cn/n/2.html"
    page = RawPage(url, url, 200, PAGE, FETCHED, "fixture", "crawl-1", "text/html")
    assert cleaning.process(as_message(page.to_record(TOPICS.raw))).topic == TOPICS.articles
    gone = as_message(RawPage(url, url, 404, b"", FETCHED, "fixture", "crawl-2", None).to_record(TOPICS.raw), 1)
    first, again = cleaning.process(gone), cleaning.process(gone)  # the worker died before its commit
    assert first.value is None and again.value is None and again.topic == TOPICS.articles
    # published again later: it can be retracted again
    assert cleaning.process(as_message(page.to_record(TOPICS.raw), 2)).topic == TOPICS.articles
    assert cleaning.process(gone).value is None


# -- defect 4: a spool shared by processes ------------------------------------------------------
def test_spool_drained_by_another_process_is_not_an_index_error(tmp_path: Path) -> None:
    """Defect 4: ``drain()`` read ``batch[-1]`` of an empty batch when another process had emptied the spool."""
    broker = Broker()
    broker.up = False
    mine = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    for record in records(0, 3):
        mine.send(record)
    mine.flush()
    assert mine.backlog == 3
    broker.up = True
    other = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    other.flush()  # the other process on this host drains the shared file first
    assert other.backlog == 0
    assert mine.drain() == 0 and mine.backlog == 0
    assert broker.delivered == records(0, 3)
    mine.close()
    other.close()


# -- defect 3: heartbeats while a batch is processed ---------------------------------------------
def test_member_busy_longer_than_the_session_keeps_its_partition(tmp_path: Path) -> None:
    """Defect 3: a member heartbeat only on poll, so a long batch lost its partition and its commit failed."""
    log = embedded_log(tmp_path / "log.db", StreamSettings(session_timeout_ms=600))
    log.create_topics([TopicSpec("raw", 1)])
    producer = log.producer()
    for record in records(0, 4):
        producer.send(Record("raw", record.key, record.value))
    producer.close()
    busy = log.consumer(["raw"], group="g")
    other = log.consumer(["raw"], group="g")
    try:
        batch = busy.poll(1.0, 2)
        assert [m.offset for m in batch] == [0, 1]
        deadline = time.monotonic() + 1.5  # cleaning the batch takes more than twice the session timeout
        stolen = []
        while time.monotonic() < deadline:
            stolen += other.poll(0.1, 10)
        assert stolen == []
        busy.commit({("raw", 0): 2})  # raised CommitFailed: the partition had moved
        assert log.committed("g", "raw") == {0: 2}
    finally:
        busy.close()
        other.close()
        log.close()


# -- defect 9: the file shrinks -----------------------------------------------------------------
def test_retention_gives_the_space_back(tmp_path: Path) -> None:
    """Defect 9: retention removed most rows and the file (and its WAL) stayed as large as before."""
    path = tmp_path / "log.db"
    log = embedded_log(path)
    log.create_topics([TopicSpec("raw", 2, retention_ms=1000)])
    producer = log.producer()
    old = int(time.time() * 1000) - 10_000
    for i in range(400):
        producer.send(Record("raw", f"k{i}".encode(), bytes(range(256)) * 40, timestamp_ms=old))
    producer.close()
    wal = path.with_name(path.name + "-wal")
    before = path.stat().st_size + wal.stat().st_size
    assert sum(log.maintain().values()) == 400
    after = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert after < before / 4, (before, after)
    consumer = log.consumer(["raw"], start=Start("earliest"))
    assert consumer.poll(0.1, 10) == []
    consumer.close()
    log.close()


# -- issue 15 item 9: one spelling of time, rejections that say where and when --------------------
def test_ce_time_is_written_with_z_on_every_topic() -> None:
    """``ce_time`` ended ``+00:00`` on raw records and ``Z`` on rejections."""
    page = RawPage("http://a/1", "http://a/1", 200, b"x", "2026-11-20T00:00:00+00:00", "s", "c")
    rejection = rejection_record(
        TOPICS.rejected,
        Rejection("http://a/1", Reason.GONE, "gone"),
        key=None,
        site="s",
        cleaner_version="1",
        produced_at="2026-11-20T00:00:01Z",
    )
    assert page.to_record(TOPICS.raw).header("ce_time") == "2026-11-20T00:00:00Z"
    assert rejection.header("ce_time") == "2026-11-20T00:00:01Z"
    assert RawPage("u", "u", 200, b"", FETCHED, "s", "c").to_record("t").header("ce_time") == FETCHED


def test_rejection_values_carry_site_and_fetch_time(cleaning: Cleaning) -> None:
    """Rejection values had no ``site`` or ``fetched_at``: only their headers did."""
    url = "http://www.a.gov.cn/n/3.html"
    page = RawPage(url, url, 500, b"error", FETCHED, "fixture", "crawl-1", "text/html")
    view = validate(as_message(cleaning.process(as_message(page.to_record(TOPICS.raw)))))["value"]
    assert (view["reason"], view["site"], view["fetched_at"]) == ("fetch.http_status", "fixture", FETCHED)


def test_cloudevents_headers_are_written_in_one_place() -> None:
    """The six hand-written header blocks are one helper, which also refuses names CloudEvents forbids."""
    headers = dict(cloud_event(id="1", source="s", type="t", time="2026-11-20T00:00:00+00:00", site="x", rawref=None))
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"1",
        "ce_source": b"s",
        "ce_type": b"t",
        "ce_time": b"2026-11-20T00:00:00Z",
        "ce_site": b"x",
    }
    with pytest.raises(ValueError, match="lower-case letters and digits"):
        cloud_event(id="1", source="s", type="t", time="t", raw_ref="r")


def test_retention_runs_on_a_timer_of_its_own(tmp_path: Path) -> None:
    """maintain() ran inside the worker's hot loop, between polls; it now has a thread and a timer."""
    log = embedded_log(tmp_path / "log.db")
    log.create_topics([TopicSpec("raw", 1, retention_ms=1000)])
    producer = log.producer()
    producer.send(Record("raw", b"k", b"old", timestamp_ms=int(time.time() * 1000) - 10_000))
    producer.close()
    with Maintenance(log, interval=0.05, stop=threading.Event()):
        deadline = time.monotonic() + 10
        while log.beginning_offsets("raw") != {0: 1} and time.monotonic() < deadline:
            time.sleep(0.05)
    assert log.beginning_offsets("raw") == {0: 1}
    log.close()
