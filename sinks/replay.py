"""Replay: run the current cleaner again over raw records from a point in (crawl) time.

Reads ``raw`` without a group from the first offset at or after ``since`` up to
the end offsets seen at the start (records appended meanwhile are left for the
worker), skips records at or after ``until`` and of other sites, and produces
through the same :class:`~sinks.cleaning.Cleaning` as the worker, so the keys
are the canonical URLs again: replaying twice gives the same keys, and a
compacted ``articles`` keeps one version per page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sinks.cleaning import Cleaning
from sinks.log import Log, Producer, RecordTooLarge, Start


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    since_ms: int
    until_ms: int | None = None
    site: str | None = None


def replay(
    log: Log,
    producer: Producer,
    cleaning: Cleaning,
    window: ReplayWindow,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 500,
) -> int:
    """Reclean the window; returns how many raw records were read.

    ``progress(done, total)`` is called once before reading (``done`` 0) and after every
    batch; ``total`` is the number of records between the start and the end offsets.
    """
    topic = cleaning.topics.raw
    starts = log.offsets_for_time(topic, window.since_ms)
    ends = log.end_offsets(topic)
    total = sum(max(0, ends[p] - starts[p]) for p in ends)
    remaining = {p: end for p, end in ends.items() if end > starts[p]}
    if progress is not None:
        progress(0, total)
    consumer = log.consumer([topic], start=Start("time", window.since_ms))
    done = 0
    try:
        while remaining:
            batch = consumer.poll(1.0, batch_size)
            for message in batch:
                if message.partition not in remaining or message.offset >= remaining[message.partition]:
                    continue
                done += 1
                if message.offset + 1 >= remaining[message.partition]:
                    del remaining[message.partition]
                if window.until_ms is not None and message.timestamp_ms >= window.until_ms:
                    continue
                if window.site is not None and message.header("ce_site") != window.site:
                    continue
                record = cleaning.process(message)
                try:
                    producer.send(record)
                except RecordTooLarge:
                    producer.send(cleaning.too_large(record, message))
            producer.flush()
            if progress is not None:
                progress(done, total)
    finally:
        consumer.close()
    return done
