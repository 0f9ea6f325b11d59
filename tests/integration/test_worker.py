"""End to end on both backends: raw records → cleaning worker → exactly one output per input."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

import pytest

from cleaner import CleanerSettings
from sinks.backends import cleaning_worker, create_topics, open_log, open_producer
from sinks.cleaning import Cleaning
from sinks.log import Log, Message, Record
from sinks.neardup import NearDupIndex
from sinks.replay import ReplayWindow, replay
from sinks.settings import StreamSettings
from sinks.topics import RawPage, Topics, iso_to_ms, record_view
from tests.conftest import CMS_FIXTURES
from tests.contracts import read_all, validate

pytestmark = pytest.mark.timeout(180)

FETCHED = "2026-11-20T08:00:00+08:00"


def raw(url: str, body: bytes, *, status: int = 200, site: str = "fixture", fetched_at: str = FETCHED) -> RawPage:
    return RawPage(url, url, status, body, fetched_at, site, "crawl-1", "text/html")


def fixture_pages() -> list[RawPage]:
    pages = [
        raw(f"http://www.fixture.gov.cn/news/{p.stem}.html", p.read_bytes())
        for p in sorted(CMS_FIXTURES.glob("*.html"))
    ]
    first = pages[0]
    return [
        *pages,
        # a repost of the first page on another site
        replace(
            first, url="http://www.other.gov.cn/zx/1.html", final_url="http://www.other.gov.cn/zx/1.html", site="other"
        ),
        raw("http://www.fixture.gov.cn/bad/empty.html", b""),
        raw("http://www.fixture.gov.cn/bad/pdf.html", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 binary"),
        raw("http://www.fixture.gov.cn/bad/500.html", b"<html>error</html>", status=500),
        raw("http://www.fixture.gov.cn/bad/never.html", b"not found", status=404),
    ]


def run_worker(log: Log, settings: StreamSettings, cleaner: CleanerSettings, *, timeout: float = 120) -> Cleaning:
    stop = threading.Event()
    with cleaning_worker(log, replace(settings, batch_size=10), cleaner, stop) as worker:
        thread = threading.Thread(target=worker.run, kwargs={"exit_when_idle": True})
        thread.start()
        thread.join(timeout)
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the worker did not finish"
    return worker.cleaning


def outputs_by_raw_ref(log: Log, names: Topics) -> dict[str, list[Message]]:
    found: dict[str, list[Message]] = {}
    for topic in (names.articles, names.rejected):
        for message in read_all(log, topic):
            found.setdefault(str(message.header("ce_rawref")), []).append(message)
    return found


def test_every_raw_record_ends_as_exactly_one_output(
    stream_settings: StreamSettings, settings: CleanerSettings
) -> None:
    log = open_log(stream_settings)
    names = create_topics(log, stream_settings)
    pages = fixture_pages()
    producer = log.producer()
    for page in pages:
        producer.send(page.to_record(names.raw))
    # a record that breaks the raw contract: no headers at all
    producer.send(Record(names.raw, b"http://www.fixture.gov.cn/bad/headerless.html", b"<html></html>"))
    producer.flush()
    producer.close()
    raw_refs = {m.ref: m for m in read_all(log, names.raw)}
    assert len(raw_refs) == len(pages) + 1
    assert sum(validate(m)["value"]["schema"] == "newsflow.raw/1" for m in raw_refs.values() if m.headers) == len(pages)

    cleaning = run_worker(log, stream_settings, settings)
    outputs = outputs_by_raw_ref(log, names)
    assert set(outputs) == set(raw_refs)
    assert all(len(found) == 1 for found in outputs.values()), "exactly one output per raw record"
    kinds: Counter[str] = Counter()
    for ref, (output,) in outputs.items():
        view = validate(output)
        assert output.key == raw_refs[ref].key, "outputs are keyed by the raw record's canonical URL"
        kinds[view["value"]["reason"] if view["value"]["schema"] == "newsflow.rejected/1" else "article"] += 1
    assert kinds == {
        "article": 33,
        "decode.empty_body": 1,
        "decode.binary": 1,
        "fetch.http_status": 1,
        "fetch.gone": 1,
        "fetch.malformed_record": 1,
    }
    assert cleaning.stats["duplicates"] == 1
    articles = {m.key: record_view(m)["value"] for m in read_all(log, names.articles)}
    repost, original = articles[b"http://www.other.gov.cn/zx/1.html"], articles[pages[0].key]
    assert repost["site"] == "other"
    # partitions run in no fixed order: whichever was cleaned second points at the first
    assert {repost["duplicate_of"], original["duplicate_of"]} in ({None, original["id"]}, {None, repost["id"]})
    assert all(a["fetched_at"] == FETCHED and a["raw_ref"] for a in articles.values())
    committed = log.committed(stream_settings.group, names.raw)
    assert committed == log.end_offsets(names.raw)
    log.close()


def test_a_page_that_disappears_becomes_a_tombstone(stream_settings: StreamSettings, settings: CleanerSettings) -> None:
    log = open_log(stream_settings)
    names = create_topics(log, stream_settings)
    page = raw("http://www.fixture.gov.cn/news/gone.html", (CMS_FIXTURES / "trs_01_utf8.html").read_bytes())
    producer = log.producer()
    producer.send(page.to_record(names.raw))
    producer.send(replace(page, status=410, body=b"", fetched_at="2026-11-21T08:00:00+08:00").to_record(names.raw))
    producer.flush()
    producer.close()
    run_worker(log, stream_settings, settings)
    articles = read_all(log, names.articles)
    assert [m.value is None for m in articles] == [False, True]
    assert {m.key for m in articles} == {page.key}
    assert read_all(log, names.rejected) == []
    log.close()


def test_replay_twice_gives_the_same_keys(stream_settings: StreamSettings, settings: CleanerSettings) -> None:
    log = open_log(stream_settings)
    copy = f"{stream_settings.topic_prefix}articles-v2"
    names = create_topics(log, stream_settings, articles_copy=copy)
    pages = fixture_pages()
    producer = log.producer()
    for i, page in enumerate(pages):
        day = "2026-11-19" if i < 10 else "2026-11-20"
        producer.send(replace(page, fetched_at=f"{day}T08:00:00+08:00").to_record(names.raw))
    producer.flush()
    producer.close()
    since = ReplayWindow(iso_to_ms("2026-11-20T00:00:00+08:00"))
    runs = []
    for _ in range(2):
        index = NearDupIndex(stream_settings.path("index_path"), max_distance=3)
        cleaning = Cleaning(names, settings, index, attempts=1, articles_topic=copy)
        producer = open_producer(log, stream_settings)
        read = replay(log, producer, cleaning, since)
        producer.close()
        index.close()
        runs.append((read, dict(cleaning.stats)))
    assert runs[0] == runs[1] and runs[0][0] == len(pages) - 10
    replayed = read_all(log, copy)
    keys = Counter(m.key for m in replayed)
    assert set(keys.values()) == {2}, "each page once per run, under the same key"
    ids = Counter(record_view(m)["value"]["id"] for m in replayed)
    assert set(ids.values()) == {2}
    log.close()


def poisoned(topic: str, base: RawPage, **headers: str) -> Record:
    """``base`` as a raw record with some headers replaced, as any producer on raw could write it."""
    record = base.to_record(topic)
    names = {f"ce_{name}" for name in headers}
    kept = tuple((k, v) for k, v in record.headers if k not in names)
    return replace(record, headers=kept + tuple((f"ce_{k}", v.encode()) for k, v in headers.items()))


def test_poisoned_raw_records_each_end_as_one_rejection_and_the_partition_moves_on(
    stream_settings: StreamSettings, settings: CleanerSettings
) -> None:
    """Defects 1 and 2: records the worker crashed on at every restart (a status "²", URLs that are not
    URLs, a URL so long that its rejection was over the size limit too) stopped their partition for good."""
    limits = replace(stream_settings, max_message_bytes=1024 * 1024)
    log = open_log(limits)
    names = create_topics(log, limits)
    good = raw("http://www.fixture.gov.cn/news/ok.html", (CMS_FIXTURES / "trs_01_utf8.html").read_bytes())
    long_url = "http://www.fixture.gov.cn/" + "x" * 400_000
    bad = [
        poisoned(names.raw, good, status="²"),
        poisoned(names.raw, good, url="http://x:99999/v"),
        poisoned(names.raw, good, url="http://[::1/a", finalurl="http://[::1/a"),
        replace(poisoned(names.raw, good, url=long_url), key=long_url.encode()),
    ]
    producer = log.producer()
    for record in [*bad, good.to_record(names.raw)]:
        producer.send(record)
    producer.flush()
    producer.close()
    run_worker(log, limits, settings)
    outputs = outputs_by_raw_ref(log, names)
    assert sorted(len(found) for found in outputs.values()) == [1] * 5
    reasons = Counter(m.header("ce_reason") or "article" for (m,) in outputs.values())
    assert reasons == {"fetch.malformed_record": 4, "article": 1}
    committed = log.committed(limits.group, names.raw)
    assert {p: committed.get(p, 0) for p in log.end_offsets(names.raw)} == log.end_offsets(names.raw)
    log.close()
