"""The cleaning worker: consume ``raw`` in a group, produce one output per record, then commit.

It is :class:`~sinks.loop.ConsumerLoop` with a handler that cleans::

    poll a batch ─► clean each record ─► send every output ─► flush: all acknowledged
        (or spooled, then drained) ─► commit offset + 1 per partition ─► poll again

Input offsets are committed only after every output of the batch is
acknowledged by the log, so a crash anywhere repeats work and never loses it
(at-least-once; outputs are keyed, so consumers deduplicate by key). A record
whose cleaning fails becomes a rejection (:meth:`~sinks.cleaning.Cleaning.process`
never raises), so no record stops its partition. A stop request (SIGTERM/SIGINT
set ``stop``) is honoured between batches: the current batch is finished,
flushed and committed first; if the spool cannot drain, the worker stops
without committing and the batch is cleaned again on the next start.
Retention and compaction run on a timer of their own (:class:`~sinks.maintenance.Maintenance`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sinks.cleaning import Cleaning
from sinks.log import Log, LogError, Message, Producer, Record, RecordTooLarge
from sinks.loop import BatchHandler, ConsumerLoop, Handled
from sinks.settings import StreamSettings

log = logging.getLogger(__name__)


class CleaningHandler(BatchHandler):
    """One output per raw message; an output the log finds too large is replaced by a rejection."""

    def __init__(self, cleaning: Cleaning, on_delivered: Callable[[Sequence[Record]], None] | None) -> None:
        self.cleaning = cleaning
        self.on_delivered = on_delivered

    def handle(self, batch: Sequence[Message]) -> Handled:
        outputs = []
        for at, message in enumerate(batch):  # each page is cleaned while the one before it is published
            upcoming = batch[at + 1] if at + 1 < len(batch) else None
            outputs.append((self.cleaning.process(message, upcoming), message))
        return Handled(outputs, batch)

    def too_large(self, record: Record, source: Message | None, error: RecordTooLarge) -> Record:
        if source is None:
            raise error
        return self.cleaning.too_large(record, source)

    def delivered(self, outputs: Sequence[Record]) -> None:
        if self.on_delivered is not None:
            self.on_delivered(outputs)


class Worker:
    """The cleaning worker of group ``settings.group``, polling and committing as ``settings`` say."""

    def __init__(
        self,
        log_: Log,
        producer: Producer,
        cleaning: Cleaning,
        *,
        settings: StreamSettings,
        stop: threading.Event,
        on_delivered: Callable[[Sequence[Record]], None] | None,
    ) -> None:
        self.log = log_
        self.producer = producer
        self.cleaning = cleaning
        self.settings = settings
        self.group = settings.group
        self.stop = stop
        #: told about each batch's outputs once the log has acknowledged them (the service's counters)
        self.handler = CleaningHandler(cleaning, on_delivered)
        self.loop: ConsumerLoop | None = None

    @property
    def raw_topic(self) -> str:
        return self.cleaning.topics.raw

    @property
    def committed_batches(self) -> int:
        return self.loop.committed_batches if self.loop is not None else 0

    def run(self, *, exit_when_idle: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``exit_when_idle``, until the group has nothing left)."""
        if self.stop.is_set():
            return
        consumer = self.log.consumer([self.raw_topic], group=self.group)
        try:
            s = self.settings
            self.loop = ConsumerLoop(
                consumer,
                self.handler,
                producer=self.producer,
                stop=self.stop,
                batch_size=s.batch_size,
                poll_timeout=s.poll_timeout,
                retry_backoff=s.retry_backoff,
            )
            self.loop.run(until=self.caught_up if exit_when_idle else None)
        finally:
            consumer.close()

    def caught_up(self) -> bool:
        """The group's committed offsets have reached the end of every raw partition (False if the log cannot say)."""
        try:
            committed = self.log.committed(self.group, self.raw_topic)
            ends = self.log.end_offsets(self.raw_topic)
        except LogError as error:
            log.warning("cannot tell whether the group has caught up: %s", error)
            return False
        return all(committed.get(p, 0) >= end for p, end in ends.items())
