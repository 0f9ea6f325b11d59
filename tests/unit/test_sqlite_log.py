"""The embedded log's own duties: retention and compaction (Kafka's broker does these itself)."""

from __future__ import annotations

from pathlib import Path

from sinks.log import Record, Start, TopicSpec
from sinks.sqlite import TOMBSTONE_RETENTION_MS, SqliteLog
from tests.conftest import embedded_log

DAY = 24 * 3600 * 1000
NOW = 1_800_000_000_000


def append(log: SqliteLog, records: list[Record]) -> None:
    producer = log.producer()
    for record in records:
        producer.send(record)
    producer.close()


def read(log: SqliteLog, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    consumer = log.consumer([topic], start=Start("earliest"))
    got = consumer.poll(0.1, 1000)
    consumer.close()
    return [(m.key, m.value) for m in sorted(got, key=lambda m: m.offset)]


def test_compaction_keeps_the_latest_version_per_key_and_forgets_old_tombstones(tmp_path: Path) -> None:
    log = embedded_log(tmp_path / "log.db")
    log.create_topics([TopicSpec("articles", 1, compacted=True)])
    append(
        log,
        [
            Record("articles", b"a", b"a1", timestamp_ms=NOW - 3 * DAY),
            Record("articles", b"b", b"b1", timestamp_ms=NOW - 3 * DAY),
            Record("articles", b"a", b"a2", timestamp_ms=NOW - 2 * DAY),
            Record("articles", b"b", None, timestamp_ms=NOW - 2 * DAY),  # b retracted, long ago
            Record("articles", b"c", b"c1", timestamp_ms=NOW - DAY),
            Record("articles", b"c", None, timestamp_ms=NOW - 1000),  # c retracted just now
        ],
    )
    assert log.maintain(now=NOW) == {"articles": 4}
    assert read(log, "articles") == [(b"a", b"a2"), (b"c", None)]
    assert log.beginning_offsets("articles") == {0: 2} and log.end_offsets("articles") == {0: 6}
    assert log.maintain(now=NOW + TOMBSTONE_RETENTION_MS) == {"articles": 1}
    assert read(log, "articles") == [(b"a", b"a2")]
    assert log.maintain(now=NOW + TOMBSTONE_RETENTION_MS) == {}


def test_retention_drops_old_records_and_keeps_offsets(tmp_path: Path) -> None:
    log = embedded_log(tmp_path / "log.db")
    log.create_topics([TopicSpec("raw", 2, retention_ms=7 * DAY), TopicSpec("forever", 1)])
    old = [Record("raw", f"k{i}".encode(), b"old", timestamp_ms=NOW - 8 * DAY) for i in range(6)]
    new = [Record("raw", f"k{i}".encode(), b"new", timestamp_ms=NOW - DAY) for i in range(6)]
    append(log, [*old, *new, Record("forever", b"k", b"v", timestamp_ms=NOW - 1000 * DAY)])
    assert log.maintain(now=NOW) == {"raw": 6}
    assert {value for _, value in read(log, "raw")} == {b"new"}
    assert read(log, "forever") == [(b"k", b"v")]
    assert sum(log.end_offsets("raw").values()) == 12  # offsets are never reused
    append(log, [Record("raw", b"k0", b"newest")])
    assert sum(log.end_offsets("raw").values()) == 13
