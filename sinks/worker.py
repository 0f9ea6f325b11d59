"""The cleaning worker: consume ``raw`` in a group, produce one output per record, then commit.

The loop, with its commit point::

    poll a batch ─► clean each record ─► send every output ─► flush: all acknowledged
        (or spooled, then drained) ─► commit offset + 1 per partition ─► poll again

Input offsets are committed only after every output of the batch is
acknowledged by the log, so a crash anywhere repeats work and never loses it
(at-least-once; outputs are keyed, so consumers deduplicate by key). While the
broker is away, outputs wait in the spool and the worker retries the drain every
``retry_backoff`` seconds without committing. A stop request (SIGTERM/SIGINT
set ``stop``) is honoured between batches: the current batch is finished,
flushed and committed first; if the spool cannot drain, the worker stops
without committing and the batch is cleaned again on the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sinks.cleaning import Cleaning
from sinks.log import (
    CommitFailed,
    Consumer,
    Log,
    LogError,
    Message,
    Producer,
    Record,
    RecordTooLarge,
    TopicPartition,
)

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        log_: Log,
        producer: Producer,
        cleaning: Cleaning,
        *,
        group: str,
        stop: threading.Event,
        batch_size: int = 100,
        poll_timeout: float = 1.0,
        retry_backoff: float = 1.0,
        max_message_bytes: int,
        maintenance_interval: float = 600.0,
        on_delivered: Callable[[Sequence[Record]], None] | None = None,
    ) -> None:
        self.log = log_
        self.producer = producer
        self.cleaning = cleaning
        self.group = group
        self.stop = stop
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.retry_backoff = retry_backoff
        self.max_message_bytes = max_message_bytes
        self.committed_batches = 0
        self.maintenance_interval = maintenance_interval
        #: told about each batch's outputs once the log has acknowledged them (the service's counters)
        self.on_delivered = on_delivered
        self._maintained = time.monotonic()

    @property
    def raw_topic(self) -> str:
        return self.cleaning.topics.raw

    def run(self, *, exit_when_idle: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``exit_when_idle``, until the group has nothing left)."""
        consumer = self.log.consumer([self.raw_topic], group=self.group)
        try:
            while not self.stop.is_set():
                self.maintain()
                batch = consumer.poll(self.poll_timeout, self.batch_size)
                if not batch:
                    if exit_when_idle and self.caught_up():
                        return
                    continue
                outputs = self.send_outputs(batch)
                if not self.deliver():
                    log.warning("stopping with %d output(s) spooled; the batch is not committed", self.backlog())
                    return
                if self.on_delivered is not None:
                    self.on_delivered(outputs)
                self.commit(consumer, batch)
                del batch, outputs  # the page bodies go before the next poll brings the next batch's
                if exit_when_idle and self.caught_up():
                    return
        finally:
            consumer.close()

    def send_outputs(self, batch: Sequence[Message]) -> list[Record]:
        sent = []
        for message in batch:
            record = self.cleaning.process(message)
            try:
                self.producer.send(record)
            except RecordTooLarge:
                record = self.cleaning.too_large(record, message, self.max_message_bytes)
                self.producer.send(record)
            sent.append(record)
        return sent

    def backlog(self) -> int:
        return int(getattr(self.producer, "backlog", 0))

    def deliver(self) -> bool:
        """Flush; while outputs wait in the spool, retry until they drain or a stop is asked for."""
        self.producer.flush()
        while self.backlog():
            if self.stop.wait(self.retry_backoff):
                return False
            self.producer.flush()
        return True

    def commit(self, consumer: Consumer, batch: Sequence[Message]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for message in batch:
            tp = (message.topic, message.partition)
            offsets[tp] = max(offsets.get(tp, 0), message.offset + 1)
        try:
            consumer.commit(offsets)
        except CommitFailed as error:
            log.warning("%s", error)
            return
        self.committed_batches += 1

    def maintain(self) -> None:
        """Every ``maintenance_interval`` seconds, retention and compaction (the embedded log needs it)."""
        if time.monotonic() - self._maintained < self.maintenance_interval:
            return
        self._maintained = time.monotonic()
        try:
            removed = self.log.maintain()
        except LogError as error:
            log.warning("retention and compaction failed, will retry: %s", error)
            return
        if removed:
            log.info("retention and compaction removed %s", removed)

    def caught_up(self) -> bool:
        """The group's committed offsets have reached the end of every raw partition (False if the log cannot say)."""
        try:
            committed = self.log.committed(self.group, self.raw_topic)
            ends = self.log.end_offsets(self.raw_topic)
        except LogError as error:
            log.warning("cannot tell whether the group has caught up: %s", error)
            return False
        return all(committed.get(p, 0) >= end for p, end in ends.items())
