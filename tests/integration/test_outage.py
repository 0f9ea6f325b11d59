"""The broker goes away while records are produced: they spool to disk and drain when it is back."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cleaner import CleanerSettings
from sinks.backends import cleaning_worker, create_topics, open_log, open_producer
from sinks.log import DeliveryError, Record, TopicSpec
from sinks.settings import StreamSettings
from sinks.spool import SpoolingProducer
from tests.contracts import produce_pages, read_all

pytestmark = pytest.mark.timeout(240)

TOTAL = 300
STOP_AT, RESTART_AT = 100, 200  # the broker is down while records 100..199 are produced


def outage_settings(bootstrap: str, tmp_path: Path, prefix: str) -> StreamSettings:
    return StreamSettings(
        bootstrap_servers=bootstrap,
        spool_path=str(tmp_path / "spool.db"),
        topic_prefix=prefix,
        partitions=3,
        request_timeout_ms=2000,
        delivery_timeout_ms=3000,
        max_block_ms=1000,
        retries=2,
        retry_backoff=0.2,
    )


def test_no_record_is_lost_while_the_broker_is_away(fresh_noida, tmp_path: Path, topic_prefix: str) -> None:
    settings = outage_settings(fresh_noida.bootstrap, tmp_path, topic_prefix)
    log = open_log(settings)
    names = create_topics(log, settings)
    log.close()
    producer = open_producer(open_log(settings), settings)
    assert isinstance(producer, SpoolingProducer)

    spooled_peak = 0
    for i in range(TOTAL):
        if i == STOP_AT:
            fresh_noida.stop()
        if i == RESTART_AT:
            fresh_noida.start()  # a new broker process on the same port and data dir
        key = f"http://example.gov.cn/{i % 37}.html".encode()
        producer.send(Record(names.raw, key, f"page {i}".encode(), (("ce_id", str(i).encode()),)))
        if i % 20 == 19:
            producer.flush()
            spooled_peak = max(spooled_peak, producer.backlog)
    deadline = time.monotonic() + 60
    while producer.backlog and time.monotonic() < deadline:
        time.sleep(0.2)
        producer.flush()
    assert producer.backlog == 0, "the spool drained once the broker was back"
    assert spooled_peak >= RESTART_AT - STOP_AT - 20, "records produced during the outage went to the spool"
    producer.close()

    log = open_log(settings)
    received = read_all(log, names.raw)
    log.close()
    ids = [int(str(m.header("ce_id"))) for m in received]
    assert set(ids) == set(range(TOTAL)), f"missing: {sorted(set(range(TOTAL)) - set(ids))[:10]}"
    # duplicates only as at-least-once allows: the same id under the same key
    by_id: dict[int, set[bytes | None]] = {}
    for message, record_id in zip(received, ids, strict=True):
        by_id.setdefault(record_id, set()).add(message.key)
    assert all(len(keys) == 1 for keys in by_id.values())
    # within a key, records keep their order except where a redelivery repeats one
    for key in {m.key for m in received}:
        seen = [i for m, i in zip(received, ids, strict=True) if m.key == key]
        firsts = list(dict.fromkeys(seen))
        assert firsts == sorted(firsts)


def test_a_record_the_broker_refuses_is_an_error_not_a_spool_entry(noida, tmp_path: Path, topic_prefix: str) -> None:
    """A topic whose limit is below the service's (made by hand, say): the flush fails loudly."""
    settings = outage_settings(noida.bootstrap, tmp_path, topic_prefix)
    log = open_log(settings)
    topic = f"{topic_prefix}small"
    log.create_topics([TopicSpec(topic, 1, max_message_bytes=2000)])
    producer = open_producer(log, settings)
    producer.send(Record(topic, b"k", os.urandom(20_000)))  # incompressible: the limit is on the gzipped batch
    with pytest.raises(DeliveryError) as raised:
        producer.flush()
    assert raised.value.permanent and "max.message.bytes" in str(raised.value)
    assert isinstance(producer, SpoolingProducer) and producer.backlog == 0
    producer.send(Record(topic, b"k", b"small enough"))  # a new producer: the refusal did not poison it
    producer.flush()
    producer.close()
    assert [m.value for m in read_all(log, topic)] == [b"small enough"]
    log.close()


def test_the_worker_waits_out_an_outage_without_losing_outputs(
    fresh_noida, tmp_path: Path, topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker hangs while the worker cleans: outputs spool, nothing is committed past them,
    and once it answers again every raw record has its output. The broker is paused (SIGSTOP), not
    restarted: the assertion that every output arrived must not depend on noida-db keeping what it
    acknowledged across a restart, which it does not always do (a known noida-db defect)."""
    settings = replace(
        outage_settings(fresh_noida.bootstrap, tmp_path, topic_prefix),
        index_path=str(tmp_path / "index.db"),
        batch_size=10,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    log = open_log(settings)
    names = create_topics(log, settings)
    total = produce_pages(log, names.raw, 4)
    log.close()

    log = open_log(settings)
    stop = threading.Event()
    with cleaning_worker(log, settings, CleanerSettings(), stop) as worker:
        thread = threading.Thread(target=worker.run, kwargs={"exit_when_idle": True})
        thread.start()
        deadline = time.monotonic() + 60
        while worker.committed_batches < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        fresh_noida.pause()
        try:
            time.sleep(4)  # longer than the delivery timeout: outputs of the batch in hand go to the spool
        finally:
            fresh_noida.resume()
        thread.join(120)
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert "spooled to" in caplog.text  # the outage was met: outputs of the batch in hand waited in the spool
    log.close()

    log = open_log(settings)
    outputs = [m for topic in (names.articles, names.rejected) for m in read_all(log, topic)]
    raw_refs = {m.ref for m in read_all(log, names.raw)}
    assert len(raw_refs) == total
    assert {str(m.header("ce_rawref")) for m in outputs} == raw_refs
    assert log.committed(settings.group, names.raw) == log.end_offsets(names.raw)
    log.close()
