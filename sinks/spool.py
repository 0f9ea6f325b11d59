"""No loss while the broker is away: records Kafka did not acknowledge wait in a SQLite spool.

:class:`SpoolingProducer` wraps a producer. When a flush reports records as not
delivered, they go to the spool file in send order and the wrapped producer is
rebuilt (an idempotent producer that lost its broker is not reused). While the
spool holds anything, new records queue behind it, so order per key is kept.
:meth:`SpoolingProducer.drain` sends the spool oldest first and deletes rows
only after the flush that acknowledged them, so a crash while draining can
only send a record twice, never lose it. ``backlog`` says how many wait;
the cleaning worker commits its input only when it is zero. A record the broker
*refuses* (``DeliveryError.permanent``) is not spooled: the error goes up and
the caller stops without committing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sinks.log import DeliveryError, Producer, Record
from sinks.logbase import ProducerBase
from sinks.sqlitedb import connect, pack_headers, transaction, unpack_headers

log = logging.getLogger(__name__)

SPOOL_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key BLOB, value BLOB,
    headers TEXT NOT NULL, timestamp INTEGER);
"""


class Spool:
    """An ordered, durable queue of records in a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        self._conn.executescript(SPOOL_SCHEMA)

    def put(self, records: list[Record]) -> None:
        with transaction(self._conn) as conn:
            conn.executemany(
                "INSERT INTO spool (topic, key, value, headers, timestamp) VALUES (?, ?, ?, ?, ?)",
                [(r.topic, r.key, r.value, pack_headers(r.headers), r.timestamp_ms) for r in records],
            )

    def peek(self, limit: int) -> list[tuple[int, Record]]:
        rows = self._conn.execute(
            "SELECT seq, topic, key, value, headers, timestamp FROM spool ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [(seq, Record(t, k, v, unpack_headers(h), ts)) for seq, t, k, v, h, ts in rows]

    def remove_through(self, seq: int) -> None:
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM spool WHERE seq <= ?", (seq,))

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM spool").fetchone()
        return int(count)

    def close(self) -> None:
        self._conn.close()


class SpoolingProducer(ProducerBase):
    """A :class:`~sinks.log.Producer` that never loses a record to an unreachable broker."""

    #: records sent per flush while draining
    DRAIN_BATCH = 500

    def __init__(self, make_producer: Callable[[], Producer], spool: Spool) -> None:
        self.make_producer = make_producer
        self.spool = spool
        self._inner: Producer | None = None
        self.backlog = len(spool)
        if self.backlog:
            log.warning("spool %s holds %d record(s) from an earlier run; they go first", spool.path, self.backlog)

    def _producer(self) -> Producer:
        if self._inner is None:
            self._inner = self.make_producer()
        return self._inner

    def _discard_producer(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            try:
                inner.close()
            except Exception as error:  # closing a producer whose broker is gone may fail any way it likes
                log.debug("closing the failed producer: %s", error)

    def send(self, record: Record) -> None:
        if self.backlog:
            self.spool.put([record])
            self.backlog += 1
            return
        try:
            self._producer().send(record)
        except DeliveryError as error:  # the producer could not even be built
            self._to_spool([record], error)

    def flush(self, timeout: float | None = None) -> None:
        """Everything sent is acknowledged or spooled when this returns; then the spool is drained."""
        if self._inner is not None:
            try:
                self._inner.flush(timeout)
            except DeliveryError as error:
                if error.permanent:  # refused, not unreachable: the spool would only replay the refusal
                    self._discard_producer()
                    raise
                self._to_spool(list(error.records), error)
        if self.backlog:
            self.drain()

    def _to_spool(self, records: list[Record], error: DeliveryError) -> None:
        self.spool.put(records)
        self.backlog += len(records)
        log.warning("broker unavailable (%s); %d record(s) spooled to %s", error, len(records), self.spool.path)
        self._discard_producer()

    def drain(self) -> int:
        """Send spooled records oldest first; returns how many are still waiting."""
        while self.backlog:
            batch = self.spool.peek(self.DRAIN_BATCH)
            if not batch:  # another process on this spool file sent them (each process drains what it finds)
                self.backlog = len(self.spool)
                log.warning("spool %s drained by another process", self.spool.path)
                break
            try:
                producer = self._producer()
                for _, record in batch:
                    producer.send(record)
                producer.flush()
            except DeliveryError as error:
                log.info("spool drain paused, %d record(s) waiting: %s", self.backlog, error)
                self._discard_producer()
                return self.backlog
            self.spool.remove_through(batch[-1][0])
            self.backlog = len(self.spool)
            if not self.backlog:
                log.warning("spool %s drained; the broker is back", self.spool.path)
        return 0

    def close(self) -> None:
        try:
            if self._inner is not None:
                self.flush()
        finally:
            self._discard_producer()
            self.spool.close()
