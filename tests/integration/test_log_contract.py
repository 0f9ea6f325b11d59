"""One contract suite, run over both backends: the embedded SQLite file and Kafka (a real broker)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sinks.kafka import KafkaLog
from sinks.log import Consumer, Log, Message, Record, RecordTooLarge, Start, TopicSpec
from sinks.settings import StreamSettings
from tests.conftest import embedded_log
from tests.integration.conftest import KAFKA_TEST_TIMEOUTS

pytestmark = pytest.mark.timeout(120)

MakeLog = Callable[[], Log]


@pytest.fixture(params=["sqlite", "kafka"])
def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLog]:
    """A factory: each call opens the same log afresh, as a restarted process would."""
    opened: list[Log] = []

    def make() -> Log:
        if request.param == "sqlite":
            log: Log = embedded_log(
                tmp_path / "log.db", StreamSettings(max_message_bytes=1024 * 1024, session_timeout_ms=3000)
            )
        else:
            bootstrap = request.getfixturevalue("noida").bootstrap
            log = KafkaLog(
                StreamSettings(bootstrap_servers=bootstrap, max_message_bytes=1024 * 1024, **KAFKA_TEST_TIMEOUTS)
            )
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.close()


def drain(consumer: Consumer, want: int, timeout: float = 30.0) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got.extend(consumer.poll(0.2, 500))
    return got


def produce(log: Log, records: list[Record]) -> None:
    producer = log.producer()
    for record in records:
        producer.send(record)
    producer.flush()
    producer.close()


def keyed(topic: str, n: int, *, start_ms: int | None = None) -> list[Record]:
    return [
        Record(
            topic,
            f"http://example.gov.cn/{i}.html".encode(),
            f"body {i} 正文".encode() + bytes([0xB9, 0xFA]),
            (("ce_id", f"id-{i}".encode()), ("ce_site", b"example")),
            None if start_ms is None else start_ms + i * 1000,
        )
        for i in range(n)
    ]


def test_produce_and_consume_keys_headers_and_tombstones(make_log: MakeLog, topic_prefix: str) -> None:
    log = make_log()
    topic = f"{topic_prefix}raw"
    log.create_topics([TopicSpec(topic, 3)])
    log.create_topics([TopicSpec(topic, 3)])  # again: left as it is
    assert topic in log.topics() and log.partitions(topic) == 3
    records = [*keyed(topic, 20), Record(topic, b"http://example.gov.cn/0.html", None, (("ce_type", b"gone"),))]
    produce(log, records)

    consumer = log.consumer([topic], start=Start("earliest"))
    got = drain(consumer, len(records))
    consumer.close()
    assert len(got) == len(records)
    by_id = {m.header("ce_id"): m for m in got if m.value is not None}
    for record in records[:-1]:
        message = by_id[record.header("ce_id")]
        assert (message.key, message.value, message.headers) == (record.key, record.value, record.headers)
    tombstone = next(m for m in got if m.value is None)
    assert tombstone.key == b"http://example.gov.cn/0.html"
    # one key, one partition: the tombstone follows the record it retracts
    first = by_id["id-0"]
    assert (tombstone.partition, tombstone.offset > first.offset) == (first.partition, True)
    assert sum(log.end_offsets(topic).values()) == len(records)
    assert all(v == 0 for v in log.beginning_offsets(topic).values())


def test_group_resumes_after_restart(make_log: MakeLog, topic_prefix: str) -> None:
    topic, group = f"{topic_prefix}raw", f"{topic_prefix}group"
    log = make_log()
    log.create_topics([TopicSpec(topic, 2)])
    produce(log, keyed(topic, 10))

    first = log.consumer([topic], group=group)
    got = drain(first, 10)
    assert len(got) == 10
    done = [m for m in got if m.offset < 2]  # process only the first two of each partition
    offsets = {(m.topic, m.partition): m.offset + 1 for m in done}
    first.commit(offsets)
    first.close()
    assert log.committed(group, topic) == {p: o for (_, p), o in offsets.items()}

    again = make_log()
    second = again.consumer([topic], group=group)
    rest = drain(second, 10 - len(done), timeout=20)
    second.close()
    assert sorted((m.partition, m.offset) for m in rest) == sorted(
        (m.partition, m.offset) for m in got if m.offset >= 2
    )


def test_two_members_split_the_partitions(make_log: MakeLog, topic_prefix: str) -> None:
    topic, group = f"{topic_prefix}raw", f"{topic_prefix}split"
    log = make_log()
    log.create_topics([TopicSpec(topic, 4)])
    a, b = make_log().consumer([topic], group=group), make_log().consumer([topic], group=group)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        a.poll(0.1)
        b.poll(0.1)
        if a.assignment() and b.assignment() and len(a.assignment() | b.assignment()) == 4:
            break
    assert a.assignment() and b.assignment(), "both members hold partitions"
    assert not a.assignment() & b.assignment()
    assert len(a.assignment() | b.assignment()) == 4

    produce(log, keyed(topic, 40))
    seen: dict[str, list[Message]] = {"a": [], "b": []}
    deadline = time.monotonic() + 30
    while sum(map(len, seen.values())) < 40 and time.monotonic() < deadline:
        seen["a"].extend(a.poll(0.1))
        seen["b"].extend(b.poll(0.1))
    a.close()
    b.close()
    ids = [m.header("ce_id") for group_ in seen.values() for m in group_]
    assert sorted(ids) == sorted(f"id-{i}" for i in range(40))
    assert seen["a"] and seen["b"], "both members received records"
    assert not {m.partition for m in seen["a"]} & {m.partition for m in seen["b"]}


def test_replay_from_a_timestamp(make_log: MakeLog, topic_prefix: str) -> None:
    topic = f"{topic_prefix}raw"
    log = make_log()
    log.create_topics([TopicSpec(topic, 3)])
    base = 1_763_600_000_000
    produce(log, keyed(topic, 12, start_ms=base))
    since = base + 7 * 1000
    offsets = log.offsets_for_time(topic, since)
    ends = log.end_offsets(topic)
    assert sum(ends[p] - o for p, o in offsets.items()) == 5

    consumer = log.consumer([topic], start=Start("time", since))
    got = drain(consumer, 5)
    time.sleep(0.3)
    got.extend(consumer.poll(0.3))
    consumer.close()
    assert sorted(int(str(m.header("ce_id"))[3:]) for m in got) == list(range(7, 12))
    assert all(m.timestamp_ms >= since for m in got)
    after_all = log.offsets_for_time(topic, base + 60_000)
    assert after_all == ends


def test_start_positions_latest_and_offset(make_log: MakeLog, topic_prefix: str) -> None:
    topic = f"{topic_prefix}raw"
    log = make_log()
    log.create_topics([TopicSpec(topic, 1)])
    produce(log, keyed(topic, 5))
    from_offset = log.consumer([topic], start=Start("offset", 3))
    assert [m.offset for m in drain(from_offset, 2)] == [3, 4]
    from_offset.close()
    latest = log.consumer([topic], start=Start("latest"))
    assert latest.poll(0.5) == []
    produce(log, keyed(topic, 1))
    assert [m.offset for m in drain(latest, 1)] == [5]
    latest.close()


def test_a_record_over_the_limit_is_refused_before_sending(make_log: MakeLog, topic_prefix: str) -> None:
    topic = f"{topic_prefix}raw"
    log = make_log()
    log.create_topics([TopicSpec(topic, 1, max_message_bytes=1024 * 1024)])
    producer = log.producer()
    with pytest.raises(RecordTooLarge) as raised:
        producer.send(Record(topic, b"k", b"x" * (2 * 1024 * 1024)))
    assert raised.value.limit == 1024 * 1024
    big = Record(topic, b"k", b"y" * (900 * 1024))
    producer.send(big)
    producer.flush()
    producer.close()
    consumer = log.consumer([topic], start=Start("earliest"))
    [message] = drain(consumer, 1)
    consumer.close()
    assert message.value == big.value
