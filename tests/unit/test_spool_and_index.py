"""The spool keeps order and loses nothing while the broker is away; the near-duplicate index."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinks.log import DeliveryError, Record
from sinks.neardup import NearDupIndex
from sinks.spool import Spool, SpoolingProducer


class Broker:
    """A stand-in for Kafka that can be switched off (pure logic test: no sockets)."""

    def __init__(self) -> None:
        self.up = True
        self.delivered: list[Record] = []
        self.producers = 0


class FlakyProducer:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.pending: list[Record] = []
        broker.producers += 1

    def send(self, record: Record) -> None:
        self.pending.append(record)

    def flush(self, timeout: float | None = None) -> None:
        pending, self.pending = self.pending, []
        if not self.broker.up:
            raise DeliveryError("broker down", pending)
        self.broker.delivered.extend(pending)

    def close(self) -> None:
        self.pending = []


def records(start: int, n: int) -> list[Record]:
    return [
        Record("t", f"k{i}".encode(), f"v{i}".encode(), (("ce_id", f"{i}".encode()),), 1000 + i)
        for i in range(start, start + n)
    ]


def test_records_wait_in_the_spool_and_drain_in_order(tmp_path: Path) -> None:
    broker = Broker()
    producer = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    for record in records(0, 5):
        producer.send(record)
    producer.flush()
    assert producer.backlog == 0 and len(broker.delivered) == 5

    broker.up = False
    for record in records(5, 5):
        producer.send(record)
    producer.flush()  # does not raise: the records are on disk
    assert producer.backlog == 5
    for record in records(10, 3):
        producer.send(record)  # queued behind the spool, not sent around it
    producer.flush()
    assert producer.backlog == 8 and len(broker.delivered) == 5

    broker.up = True
    producer.flush()
    assert producer.backlog == 0
    assert broker.delivered == records(0, 13)
    assert broker.producers >= 2, "a producer that lost its broker is rebuilt"
    producer.close()


def test_a_spool_left_by_a_crash_drains_first(tmp_path: Path) -> None:
    broker = Broker()
    broker.up = False
    first = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    for record in records(0, 4):
        first.send(record)
    first.flush()
    assert first.backlog == 4  # the process dies here without closing

    broker.up = True
    second = SpoolingProducer(lambda: FlakyProducer(broker), Spool(tmp_path / "spool.db"))
    assert second.backlog == 4
    second.send(records(4, 1)[0])
    second.flush()
    assert broker.delivered == records(0, 5)
    assert len(Spool(tmp_path / "spool.db")) == 0
    second.close()


def test_the_spool_keeps_bytes_headers_and_tombstones(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    record = Record("t", None, None, (("h", bytes(range(256))),), None)
    spool.put([record, Record("t", b"\xff", bytes(range(256)))])
    [(_, back), (_, raw)] = spool.peek(10)
    assert back == record and raw.value == bytes(range(256))


def flip(value: str, *bits: int) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:016x}"


def test_near_duplicates_join_the_first_article_of_their_cluster(tmp_path: Path) -> None:
    index = NearDupIndex(tmp_path / "index.db", max_distance=3)
    base = "d93eed3068c5b9c1"
    assert index.add("a" * 20, base).duplicate_of is None
    match = index.add("b" * 20, flip(base, 0, 17, 63))  # 3 bits, one in each of three bands
    assert (match.duplicate_of, match.distance) == ("a" * 20, 3)
    assert index.add("c" * 20, flip(base, 1, 2, 3, 4)).duplicate_of is None  # 4 bits: another story
    # a repost of the repost belongs to the first article's cluster
    assert index.add("d" * 20, flip(flip(base, 0, 17, 63), 40)).duplicate_of == "a" * 20
    # asking again (a replay, a redelivery) gives the same answer, and an article never repeats itself
    assert index.add("b" * 20, flip(base, 0, 17, 63)).duplicate_of == "a" * 20
    assert index.add("a" * 20, base).duplicate_of is None
    assert len(index) == 4
    index.close()

    reopened = NearDupIndex(tmp_path / "index.db", max_distance=3)
    assert reopened.add("e" * 20, base).duplicate_of == "a" * 20
    assert reopened.retract("a" * 20) and not reopened.retract("zzz")


def test_distance_is_bounded_by_the_bands(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"0\.\.3"):
        NearDupIndex(tmp_path / "i.db", max_distance=4)
    strict = NearDupIndex(tmp_path / "strict.db", max_distance=0)
    strict.add("a" * 20, "00000000000000ff")
    assert strict.add("b" * 20, "00000000000000fe").duplicate_of is None
    assert strict.add("c" * 20, "00000000000000ff").duplicate_of == "a" * 20


def test_a_refused_record_is_raised_not_spooled(tmp_path: Path) -> None:
    class Refusing(FlakyProducer):
        def flush(self, timeout: float | None = None) -> None:
            pending, self.pending = self.pending, []
            raise DeliveryError("MessageSizeTooLargeError", pending, permanent=True)

    broker = Broker()
    producer = SpoolingProducer(lambda: Refusing(broker), Spool(tmp_path / "spool.db"))
    producer.send(records(0, 1)[0])
    with pytest.raises(DeliveryError):
        producer.flush()
    assert producer.backlog == 0 and len(producer.spool) == 0
