"""What both log backends share: where a consumer starts, the poll loop, the size check, the commit guard.

A backend's consumer implements :meth:`ConsumerBase.fetch` (one short read) and
its producer :meth:`ProducerBase.append`; the rest is here, once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sinks.log import Log, LogError, Message, Offsets, Record, RecordTooLarge, Start


def start_offsets(log: Log, topic: str, start: Start, group: str | None) -> dict[int, int] | None:
    """Per partition of ``topic``, where a consumer with ``start`` begins; ``None``: at the group's committed offsets.

    A group's committed offset wins only for ``committed``; a partition without one
    (or a consumer without a group) starts at the earliest record.
    """
    kind, value = start.kind, start.value
    if kind == "latest":
        return log.end_offsets(topic)
    if kind == "time":
        return log.offsets_for_time(topic, value)
    first = log.beginning_offsets(topic)
    if kind == "offset":
        ends = log.end_offsets(topic)
        return {p: min(max(value, first[p]), ends[p]) for p in first}
    if kind == "committed" and group is not None:
        return None
    return first


def resolved_start_offsets(log: Log, topic: str, start: Start, group: str | None) -> dict[int, int]:
    """:func:`start_offsets` with the group's committed offsets filled in (the earliest record where a
    partition has none, or where retention removed what the group had reached)."""
    offsets = start_offsets(log, topic, start, group)
    if offsets is not None:
        return offsets
    first, committed = log.beginning_offsets(topic), log.committed(group or "", topic)
    return {p: max(begin, committed.get(p, begin)) for p, begin in first.items()}


class ConsumerBase:
    """The poll template (short fetches until a message arrives or the timeout passes) and the commit guard."""

    #: seconds to wait between empty fetches
    IDLE_SLEEP = 0.05

    group: str | None

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.fetch(deadline, max_records)
            if messages or time.monotonic() >= deadline:
                return messages
            time.sleep(min(self.IDLE_SLEEP, max(0.0, deadline - time.monotonic())))

    def fetch(self, deadline: float, max_records: int) -> list[Message]:
        """One read of what is there now (a backend may wait up to ``deadline``)."""
        raise NotImplementedError

    def commit(self, offsets: Offsets) -> None:
        if self.group is None:
            raise LogError("commit needs a consumer group")
        if offsets:
            self.commit_group(offsets)

    def commit_group(self, offsets: Offsets) -> None:
        raise NotImplementedError


class ProducerBase:
    """The size check before a record is queued; a producer without a spool has no backlog."""

    backlog = 0
    #: the SQLite file records are appended to, when a caller's rows can commit with them (:meth:`flush_with`)
    atomic_file: Path | None = None

    def send(self, record: Record) -> None:
        limit = self.limit_for(record.topic)
        if record.size > limit:
            raise RecordTooLarge(record.size, limit)
        self.append(record)

    def limit_for(self, topic: str) -> int:
        """The largest record ``topic`` takes (bytes)."""
        raise NotImplementedError

    def append(self, record: Record) -> None:
        raise NotImplementedError

    def flush_with(self, write: Callable[[sqlite3.Connection], None]) -> None:
        """Flush, and run ``write`` in the same transaction: only where :attr:`atomic_file` says so."""
        raise LogError(f"{type(self).__name__} cannot commit other rows with its records; flush, then write")
