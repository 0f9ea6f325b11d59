"""The one log interface both backends implement, and the records that cross it.

A *log* is a set of partitioned, append-only topics, as in Kafka: a producer
appends :class:`Record` s, a consumer reads :class:`Message` s from a position
and, in a group, commits the next offset to read (``offset + 1``). Positions are
per partition: :data:`Offsets` maps ``(topic, partition)`` to an offset.

:class:`~sinks.kafka.KafkaLog` and :class:`~sinks.sqlite.SqliteLog` implement
it on one base (:mod:`sinks.logbase`: where a consumer starts, the poll loop, the
size check, the commit guard); ``tests/integration/test_log_contract.py`` runs one
suite over both. Every group reader runs the one loop of :mod:`sinks.loop`. A
producer says whether other rows can commit in the same transaction as its records
(``atomic_file``: the embedded log's file; ``None`` for Kafka).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Headers = tuple[tuple[str, bytes], ...]
TopicPartition = tuple[str, int]
Offsets = Mapping[TopicPartition, int]


class LogError(RuntimeError):
    """The log could not do what was asked; the message says what and where."""


class DeliveryError(LogError):
    """Records were not acknowledged; ``records`` lists them, in send order.

    ``permanent`` means the log refused them and would refuse them again (a topic's
    size limit below the service's, a topic the client may not write): retrying or
    spooling cannot help, so the caller must stop without committing.
    """

    def __init__(self, message: str, records: Sequence[Record], *, permanent: bool = False) -> None:
        super().__init__(message)
        self.records = tuple(records)
        self.permanent = permanent


class RecordTooLarge(LogError):
    """A record is larger than the log accepts; nothing was sent."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"record of {size} bytes is over the {limit}-byte limit")
        self.size = size
        self.limit = limit


class CommitFailed(LogError):
    """The group moved the partitions elsewhere before the commit; nothing was committed."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as the service declares it, once."""

    name: str
    partitions: int
    compacted: bool = False
    retention_ms: int | None = None  # None: keep forever
    max_message_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """What a producer appends. ``value=None`` is a tombstone."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp_ms: int | None = None  # None: the time of the append

    @property
    def size(self) -> int:
        return len(self.key or b"") + len(self.value or b"") + sum(len(k) + len(v) for k, v in self.headers)

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class Message:
    """What a consumer reads: a record with its place in the log."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int

    @property
    def ref(self) -> str:
        """``topic/partition/offset``: how other records point at this one."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


def header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", errors="replace")
    return None


@dataclass(frozen=True, slots=True)
class Start:
    """Where a consumer starts when its group has no committed offset (or it has no group).

    ``kind`` is ``committed`` (the group's offset, else ``earliest``), ``earliest``,
    ``latest``, ``offset`` (``value`` on every partition) or ``time`` (``value`` in ms:
    the first record at or after it). Anything but ``committed`` overrides the group.
    """

    kind: str = "committed"
    value: int = 0

    KINDS = ("committed", "earliest", "latest", "offset", "time")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"start must be one of {', '.join(self.KINDS)}, not {self.kind!r}")


COMMITTED = Start()


class Producer(Protocol):
    #: records waiting in a spool for the broker (0 for a producer without one); commit only at 0
    backlog: int

    def send(self, record: Record) -> None:
        """Queue a record; raises :class:`RecordTooLarge` before sending anything too big."""

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued record is acknowledged; raise :class:`DeliveryError` if any was not."""

    #: the SQLite file the records are appended to when a caller's own rows in that file can commit
    #: in the same transaction (the embedded log); ``None`` when they cannot
    atomic_file: Path | None

    def flush_with(self, write: Callable[[sqlite3.Connection], None]) -> None:
        """Flush and run ``write`` in the same transaction (only where :attr:`atomic_file` is set)."""

    def close(self) -> None: ...


class Consumer(Protocol):
    #: the consumer group (``None``: all partitions, nothing to commit)
    group: str | None

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Message]:
        """Up to ``max_records`` messages in offset order per partition; ``[]`` after ``timeout`` seconds."""

    def commit(self, offsets: Offsets) -> None:
        """Commit the next offsets to read for the group; raise :class:`CommitFailed` if not owned."""

    def assignment(self) -> set[TopicPartition]: ...

    def close(self) -> None: ...


class Log(Protocol):
    """A partitioned append-only log: Kafka, or the embedded SQLite file."""

    def create_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create the topics that do not exist yet; existing ones are left as they are."""

    def topics(self) -> set[str]: ...

    def partitions(self, topic: str) -> int: ...

    def producer(self) -> Producer: ...

    def consumer(self, topics: Sequence[str], *, group: str | None = None, start: Start = COMMITTED) -> Consumer:
        """A consumer of ``topics``: a group member (partitions shared) or, without a group, all partitions."""

    def beginning_offsets(self, topic: str) -> dict[int, int]: ...

    def end_offsets(self, topic: str) -> dict[int, int]: ...

    def offsets_for_time(self, topic: str, timestamp_ms: int) -> dict[int, int]:
        """Per partition, the first offset with a timestamp at or after ``timestamp_ms`` (else the end)."""

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed offsets (next to read) for ``topic``; partitions without one are absent."""

    def groups(self, topic: str) -> list[str]:
        """The consumer groups that have committed offsets on ``topic``, sorted."""

    def maintain(self) -> dict[str, int]:
        """Apply retention and compaction where the log does not do it itself; records removed per topic."""

    def close(self) -> None: ...
