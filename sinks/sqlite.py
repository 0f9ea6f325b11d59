"""The embedded log: Kafka's topic, offset and group semantics in one SQLite file.

The default when no Kafka is configured (``data/newsflow.db``). The file is in
WAL mode, so any number of reader processes run beside one writer at a time;
every append and commit is a transaction (``synchronous=FULL``), so what a
flush or commit returned is on disk.

Groups work across processes with partition *leases*: a member heartbeats from
a thread while it is open (and on every commit); the live members, sorted by id, split the partitions
round-robin; a member takes a partition only when no live member holds it and
gives up the ones that are no longer its share. A member that stops polling for
``session_timeout_ms`` (a crash, a SIGKILL) is dropped and its partitions move
on. A commit for a partition the member no longer holds raises
:class:`~sinks.log.CommitFailed`, like Kafka's ``CommitFailedError``.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from kafka.partitioner.default import murmur2

from sinks.log import (
    COMMITTED,
    CommitFailed,
    DeliveryError,
    LogError,
    Message,
    Offsets,
    Record,
    Start,
    TopicPartition,
    TopicSpec,
)
from sinks.logbase import ConsumerBase, ProducerBase, resolved_start_offsets
from sinks.sqlitedb import connect, pack_headers, reclaim, transaction, unpack_headers

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, compacted INTEGER NOT NULL,
    retention_ms INTEGER, max_message_bytes INTEGER);
CREATE TABLE IF NOT EXISTS partitions (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    timestamp INTEGER NOT NULL, key BLOB, value BLOB, headers TEXT NOT NULL,
    PRIMARY KEY (topic, partition, offset));
CREATE INDEX IF NOT EXISTS records_by_time ON records (topic, partition, timestamp);
CREATE INDEX IF NOT EXISTS records_by_key ON records (topic, partition, key, offset);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL, member TEXT NOT NULL, heartbeat REAL NOT NULL, PRIMARY KEY (grp, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL,
    PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
"""


TOMBSTONE_RETENTION_MS = 24 * 3600 * 1000  # Kafka's delete.retention.ms default


def partition_for(key: bytes | None, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key), so a key lands alike on both backends."""
    if key is None:
        return random.randrange(partitions)
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def now_ms() -> int:
    return int(time.time() * 1000)


class SqliteLog:
    """A :class:`~sinks.log.Log` in one SQLite file."""

    #: seconds a writer waits for another to finish
    BUSY_TIMEOUT = 30.0

    def __init__(
        self, path: Path, *, max_message_bytes: int, session_timeout_ms: int, max_poll_interval_ms: int
    ) -> None:
        self.path = Path(path)
        self.max_message_bytes = max_message_bytes
        self.session_timeout_ms = session_timeout_ms
        self.max_poll_interval_ms = max_poll_interval_ms
        try:
            self._conn = self.connection()
            self._conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file: maintain() shrinks it
            self._conn.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise LogError(f"cannot open the embedded log {self.path}: {error}") from error

    def connection(self) -> sqlite3.Connection:
        return connect(self.path, timeout=self.BUSY_TIMEOUT)

    # -- topics --------------------------------------------------------------------------
    def create_topics(self, specs: Sequence[TopicSpec]) -> None:
        with transaction(self._conn) as conn:
            for spec in specs:
                if spec.partitions < 1:
                    raise LogError(f"topic {spec.name}: partitions must be at least 1")
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO topics VALUES (?, ?, ?, ?, ?)",
                    (spec.name, spec.partitions, int(spec.compacted), spec.retention_ms, spec.max_message_bytes),
                ).rowcount
                if inserted:
                    conn.executemany(
                        "INSERT INTO partitions VALUES (?, ?, 0)", [(spec.name, p) for p in range(spec.partitions)]
                    )

    def topics(self) -> set[str]:
        return {name for (name,) in self._conn.execute("SELECT name FROM topics")}

    def spec(self, topic: str) -> TopicSpec:
        row = self._conn.execute("SELECT * FROM topics WHERE name = ?", (topic,)).fetchone()
        if row is None:
            raise LogError(f"no topic {topic!r} in {self.path}; create it first (newsflow topics create)")
        return TopicSpec(row[0], row[1], bool(row[2]), row[3], row[4])

    def partitions(self, topic: str) -> int:
        return self.spec(topic).partitions

    # -- offsets -------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        self.spec(topic)
        rows = self._conn.execute("SELECT partition, next_offset FROM partitions WHERE topic = ?", (topic,))
        return dict(rows.fetchall())

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        ends = self.end_offsets(topic)
        first = self._conn.execute(
            "SELECT partition, MIN(offset) FROM records WHERE topic = ? GROUP BY partition", (topic,)
        ).fetchall()
        return {**ends, **dict(first)}

    def offsets_for_time(self, topic: str, timestamp_ms: int) -> dict[int, int]:
        found = dict(
            self._conn.execute(
                "SELECT partition, MIN(offset) FROM records WHERE topic = ? AND timestamp >= ? GROUP BY partition",
                (topic, timestamp_ms),
            ).fetchall()
        )
        return {p: found.get(p, end) for p, end in self.end_offsets(topic).items()}

    def committed(self, group: str, topic: str) -> dict[int, int]:
        rows = self._conn.execute(
            "SELECT partition, next_offset FROM group_offsets WHERE grp = ? AND topic = ?", (group, topic)
        )
        return dict(rows.fetchall())

    def groups(self, topic: str) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT grp FROM group_offsets WHERE topic = ? ORDER BY grp", (topic,))
        return [str(row[0]) for row in rows.fetchall()]

    # -- retention and compaction --------------------------------------------------------
    def maintain(self, now: int | None = None) -> dict[str, int]:
        """Apply each topic's retention and compaction; returns records removed per topic.

        Retention drops records older than ``retention_ms``. Compaction keeps the latest
        record per key and partition and drops a tombstone once it is older than
        ``TOMBSTONE_RETENTION_MS`` (readers had that long to see the retraction). Offsets
        never change; the beginning offset moves up to the first record left. When
        anything was removed, the file and its WAL shrink (incremental vacuum).
        """
        now = now_ms() if now is None else now
        removed: dict[str, int] = {}
        conn = self.connection()  # its own: maintenance runs on a timer thread of its own
        try:
            for row in conn.execute("SELECT * FROM topics ORDER BY name").fetchall():
                spec = TopicSpec(row[0], row[1], bool(row[2]), row[3], row[4])
                name = spec.name
                try:
                    count = self._maintain(conn, spec, now)
                except sqlite3.Error as error:
                    raise LogError(f"retention and compaction of {name} in {self.path} failed: {error}") from error
                if count:
                    removed[name] = count
            if removed:
                try:
                    reclaim(conn)
                except sqlite3.Error as error:
                    raise LogError(f"reclaiming the space of removed records in {self.path} failed: {error}") from error
        finally:
            conn.close()
        return removed

    def _maintain(self, conn: sqlite3.Connection, spec: TopicSpec, now: int) -> int:
        name = spec.name
        with transaction(conn):
            count = 0
            if spec.retention_ms is not None:
                count += conn.execute(
                    "DELETE FROM records WHERE topic = ? AND timestamp < ?", (name, now - spec.retention_ms)
                ).rowcount
            if spec.compacted:
                count += conn.execute(
                    "DELETE FROM records WHERE topic = ? AND key IS NOT NULL AND EXISTS (SELECT 1 FROM records"
                    " AS later WHERE later.topic = records.topic AND later.partition = records.partition"
                    " AND later.key = records.key AND later.offset > records.offset)",
                    (name,),
                ).rowcount
                count += conn.execute(
                    "DELETE FROM records WHERE topic = ? AND value IS NULL AND timestamp < ?",
                    (name, now - TOMBSTONE_RETENTION_MS),
                ).rowcount
        return count

    # -- clients -------------------------------------------------------------------------
    def producer(self) -> SqliteProducer:
        return SqliteProducer(self)

    def consumer(self, topics: Sequence[str], *, group: str | None = None, start: Start = COMMITTED) -> SqliteConsumer:
        return SqliteConsumer(self, topics, group=group, start=start)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteProducer(ProducerBase):
    """Buffers records; ``flush`` appends them in one transaction (the acknowledgement).

    Other rows in the same file (the crawler's state) can commit in that same
    transaction (:meth:`flush_with`): both happen or neither does.
    """

    #: records buffered before a flush of its own
    BATCH = 1000

    def __init__(self, log: SqliteLog) -> None:
        self.log = log
        self.atomic_file = log.path
        self._conn = log.connection()
        self._pending: list[Record] = []
        self._specs: dict[str, TopicSpec] = {}

    def _spec(self, topic: str) -> TopicSpec:
        if topic not in self._specs:
            self._specs[topic] = self.log.spec(topic)
        return self._specs[topic]

    def limit_for(self, topic: str) -> int:
        return min(filter(None, (self._spec(topic).max_message_bytes, self.log.max_message_bytes)))

    def append(self, record: Record) -> None:
        self._pending.append(record)
        if len(self._pending) >= self.BATCH:
            self.flush()

    def flush(self, timeout: float | None = None) -> None:
        """Append what was sent in one transaction."""
        if self._pending:
            self._flush(None)

    def flush_with(self, write: Callable[[sqlite3.Connection], None]) -> None:
        self._flush(write)

    def _flush(self, write: Callable[[sqlite3.Connection], None] | None) -> None:
        pending, self._pending = self._pending, []
        try:
            with transaction(self._conn) as conn:
                self._append(conn, pending)
                if write is not None:
                    write(conn)
        except sqlite3.Error as error:
            raise DeliveryError(f"append to {self.log.path} failed: {error}", pending) from error

    def _append(self, conn: sqlite3.Connection, records: list[Record]) -> None:
        stamp = now_ms()
        rows = []
        nexts: dict[TopicPartition, int] = {}
        for record in records:
            tp = (record.topic, partition_for(record.key, self._spec(record.topic).partitions))
            if tp not in nexts:
                (nexts[tp],) = conn.execute(
                    "SELECT next_offset FROM partitions WHERE topic = ? AND partition = ?", tp
                ).fetchone()
            ts = stamp if record.timestamp_ms is None else record.timestamp_ms
            rows.append((*tp, nexts[tp], ts, record.key, record.value, pack_headers(record.headers)))
            nexts[tp] += 1
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "UPDATE partitions SET next_offset = ? WHERE topic = ? AND partition = ?",
            [(n, t, p) for (t, p), n in nexts.items()],
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._conn.close()


class SqliteConsumer(ConsumerBase):
    """Reads assigned partitions from a position; in a group, holds partitions by lease.

    A group member heartbeats from a thread of its own while it is open, so a batch that
    takes longer than the session timeout to process keeps its partitions (as a Kafka
    client's heartbeat thread does); a member that has not polled for
    ``max_poll_interval_ms`` stops heartbeating, and the group moves on without it.
    """

    #: seconds between heartbeats (each one a write transaction); a tenth of the session timeout at most
    HEARTBEAT_INTERVAL = 1.0

    def __init__(self, log: SqliteLog, topics: Sequence[str], *, group: str | None, start: Start) -> None:
        self.log = log
        self.group = group
        self._heartbeat_every = min(self.HEARTBEAT_INTERVAL, log.session_timeout_ms / 10_000)
        self._last_rebalance = float("-inf")
        self._last_poll = time.monotonic()
        self._closing = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.start = start
        self.member = f"{uuid.uuid4().hex}"
        self._conn = log.connection()
        self._all = [(t, p) for t in topics for p in range(log.partitions(t))]
        self._positions: dict[TopicPartition, int] = {}
        self._reads = 0
        if group is None:
            for tp in self._all:
                self._positions[tp] = self._start_position(tp)

    # -- positions -----------------------------------------------------------------------
    def _start_position(self, tp: TopicPartition) -> int:
        topic, partition = tp
        return resolved_start_offsets(self.log, topic, self.start, self.group)[partition]

    def position(self, tp: TopicPartition) -> int:
        return self._positions[tp]

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    # -- group membership ----------------------------------------------------------------
    def _rebalance(self) -> None:
        """Heartbeat, drop dead members, give up what is no longer ours, take our free share."""
        assert self.group is not None
        now = time.time()
        with transaction(self._conn) as conn:
            conn.execute("INSERT OR REPLACE INTO members VALUES (?, ?, ?)", (self.group, self.member, now))
            conn.execute(
                "DELETE FROM members WHERE grp = ? AND heartbeat < ?",
                (self.group, now - self.log.session_timeout_ms / 1000),
            )
            conn.execute(
                "DELETE FROM leases WHERE grp = ? AND member NOT IN (SELECT member FROM members WHERE grp = ?)",
                (self.group, self.group),
            )
            members = [
                m for (m,) in conn.execute("SELECT member FROM members WHERE grp = ? ORDER BY member", (self.group,))
            ]
            mine = {tp for i, tp in enumerate(self._all) if members[i % len(members)] == self.member}
            held = {
                (t, p): m
                for t, p, m in conn.execute("SELECT topic, partition, member FROM leases WHERE grp = ?", (self.group,))
            }
            for tp, owner in held.items():
                if owner == self.member and tp not in mine:
                    conn.execute("DELETE FROM leases WHERE grp = ? AND topic = ? AND partition = ?", (self.group, *tp))
            for tp in mine:
                if tp not in held:
                    conn.execute("INSERT INTO leases VALUES (?, ?, ?, ?)", (self.group, *tp, self.member))
            owned = {tp for tp in mine if held.get(tp, self.member) == self.member}
        for tp in list(self._positions):
            if tp not in owned:
                del self._positions[tp]
        for tp in owned - set(self._positions):
            self._positions[tp] = self._start_position(tp)

    def _beat(self) -> None:
        """The heartbeat thread: keeps this member alive between polls, on a connection of its own."""
        conn = self.log.connection()
        limit = self.log.max_poll_interval_ms / 1000
        try:
            while not self._closing.wait(self._heartbeat_every):
                if time.monotonic() - self._last_poll > limit:
                    continue  # stuck in one batch for too long: the group may move on
                try:
                    with transaction(conn):
                        conn.execute(
                            "UPDATE members SET heartbeat = ? WHERE grp = ? AND member = ?",
                            (time.time(), self.group, self.member),
                        )
                except sqlite3.Error as error:
                    log.warning("heartbeat of group %s in %s failed, will retry: %s", self.group, self.log.path, error)
        finally:
            conn.close()

    def _leave(self) -> None:
        assert self.group is not None
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM leases WHERE grp = ? AND member = ?", (self.group, self.member))
            conn.execute("DELETE FROM members WHERE grp = ? AND member = ?", (self.group, self.member))

    # -- reading and committing ----------------------------------------------------------
    def fetch(self, deadline: float, max_records: int) -> list[Message]:
        self._last_poll = time.monotonic()
        if self.group is not None and time.monotonic() - self._last_rebalance >= self._heartbeat_every:
            self._rebalance()  # an idle poll must not write (and fsync) every few milliseconds
            self._last_rebalance = time.monotonic()
            if self._heartbeat is None:
                self._heartbeat = threading.Thread(target=self._beat, name=f"heartbeat {self.group}", daemon=True)
                self._heartbeat.start()
        return self._read(max_records)

    def _read(self, max_records: int) -> list[Message]:
        messages: list[Message] = []
        assigned = sorted(self._positions)
        if assigned:  # each read starts one partition further: none starves, and a rerun reads in the same order
            turn = self._reads % len(assigned)
            assigned = assigned[turn:] + assigned[:turn]
        self._reads += 1
        for tp in assigned:
            room = max_records - len(messages)
            if room <= 0:
                break
            rows = self._conn.execute(
                "SELECT offset, timestamp, key, value, headers FROM records"
                " WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (*tp, self._positions[tp], room),
            ).fetchall()
            for offset, ts, key, value, headers in rows:
                messages.append(Message(tp[0], tp[1], offset, key, value, unpack_headers(headers), ts))
            if rows:
                self._positions[tp] = rows[-1][0] + 1
        return messages

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self._positions:
            raise LogError(f"{tp[0]}/{tp[1]} is not assigned to this consumer")
        self._positions[tp] = offset

    def commit_group(self, offsets: Offsets) -> None:
        with transaction(self._conn) as conn:
            owned = {
                (t, p)
                for t, p in conn.execute(
                    "SELECT topic, partition FROM leases WHERE grp = ? AND member = ?", (self.group, self.member)
                )
            }
            lost = sorted(set(offsets) - owned)
            if lost:
                raise CommitFailed(
                    f"group {self.group}: {', '.join(f'{t}/{p}' for t, p in lost)} moved to another member; "
                    "those records will be read again"
                )
            conn.executemany(
                "INSERT OR REPLACE INTO group_offsets VALUES (?, ?, ?, ?)",
                [(self.group, t, p, o) for (t, p), o in offsets.items()],
            )
            conn.execute(
                "UPDATE members SET heartbeat = ? WHERE grp = ? AND member = ?", (time.time(), self.group, self.member)
            )

    def close(self) -> None:
        self._closing.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        try:
            if self.group is not None:
                self._leave()
        finally:
            self._conn.close()
