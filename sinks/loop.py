"""The one consumer loop: poll → process → send → flush and check the spool → commit the next offsets.

Every reader of a topic in a group runs it: the cleaning worker, the crawler role,
the site monitor and ``consume --group``. What differs is the :class:`BatchHandler`::

    poll a batch ─► handler.handle(new messages) ─► send its outputs ─► flush: every output
        acknowledged, the spool empty ─► commit, per partition still assigned, the offset after
        the last message done below the first one still open ─► poll again

An offset is committed only after the outputs of every message below it are
acknowledged (at-least-once). :class:`Offsets` is the one place that computes
the next offsets: a handler may finish a message later than it read it (a crawl
request runs for minutes), so a partition is committed up to its first message
still open. A partition the group moved elsewhere is dropped from the
bookkeeping at once (its handler is told), so a commit never names it.

While the broker is away, outputs wait in the spool and the loop retries the
drain every ``retry_backoff`` seconds without committing. A stop request is
honoured between batches: :meth:`ConsumerLoop.run` asks the handler to finish,
flushes, commits and returns; if the spool cannot drain, nothing more is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sinks.log import CommitFailed, Consumer, Message, Producer, Record, RecordTooLarge, TopicPartition

log = logging.getLogger(__name__)

#: an output and the message it answers (``None``: the output answers no single message)
Output = tuple[Record, Message | None]


@dataclass(frozen=True, slots=True)
class Handled:
    """What a handler made of a batch: outputs to send, and the messages finished once they are acknowledged."""

    outputs: Sequence[Output] = ()
    done: Sequence[Message] = ()


class BatchHandler:
    """What a loop does with its messages; subclasses override :meth:`handle` and what else they need."""

    def handle(self, batch: Sequence[Message]) -> Handled:
        """Process newly read messages (``batch`` may be empty: a handler may have work of its own)."""
        raise NotImplementedError

    def too_large(self, record: Record, source: Message | None, error: RecordTooLarge) -> Record:
        """The record to send instead of one the log refused as too large; by default the error stands."""
        raise error

    def delivered(self, outputs: Sequence[Record]) -> None:
        """Told each batch's outputs once the log has acknowledged them."""

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """The partitions this member reads changed; these are the ones it reads now."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """The group moved these partitions to another member; their open messages are not ours any more."""

    def finish(self) -> Handled:
        """On stop: the last outputs (a crawl ended early reports itself)."""
        return Handled()


@dataclass
class Offsets:
    """Per partition, the messages read and not committed yet, and the next offset to commit."""

    open: dict[TopicPartition, set[int]] = field(default_factory=dict)
    done: dict[TopicPartition, set[int]] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)

    def read(self, batch: Iterable[Message]) -> list[Message]:
        """Register messages as open; returns the ones not seen before (a rebalance may deliver some again)."""
        new = []
        for message in batch:
            tp = (message.topic, message.partition)
            known = self.open.setdefault(tp, set()) | self.done.setdefault(tp, set())
            if message.offset in known or message.offset < self.committed.get(tp, 0):
                continue
            self.open[tp].add(message.offset)
            new.append(message)
        return new

    def finish(self, messages: Iterable[Message]) -> None:
        for message in messages:
            tp = (message.topic, message.partition)
            if message.offset in self.open.get(tp, ()):
                self.open[tp].discard(message.offset)
                self.done[tp].add(message.offset)

    def keep(self, assignment: set[TopicPartition]) -> set[TopicPartition]:
        """Forget partitions outside ``assignment``; returns the ones forgotten."""
        lost = {tp for tp in {*self.open, *self.done, *self.committed} if tp not in assignment}
        for tp in lost:
            self.open.pop(tp, None)
            self.done.pop(tp, None)
            self.committed.pop(tp, None)
        return lost

    def forget_done(self, partitions: set[TopicPartition]) -> None:
        """Their done messages were not committed: delivered again, they are new again (open ones stay)."""
        for tp in partitions:
            self.done[tp] = set()

    def next_offsets(self) -> dict[TopicPartition, int]:
        """Per partition, one past the last done message below the first open one, where that moved."""
        offsets: dict[TopicPartition, int] = {}
        for tp, done in self.done.items():
            first_open = min(self.open.get(tp) or {float("inf")})
            below = [o for o in done if o < first_open]
            if below and max(below) + 1 > self.committed.get(tp, 0):
                offsets[tp] = max(below) + 1
        return offsets

    def commit_done(self, offsets: dict[TopicPartition, int]) -> None:
        for tp, upto in offsets.items():
            self.committed[tp] = upto
            self.done[tp] = {o for o in self.done[tp] if o >= upto}


class ConsumerLoop:
    """Runs a :class:`BatchHandler` over a consumer (and a producer for its outputs) until ``stop``."""

    def __init__(
        self,
        consumer: Consumer,
        handler: BatchHandler,
        *,
        producer: Producer | None,
        stop: threading.Event,
        batch_size: int,
        poll_timeout: float,
        retry_backoff: float,
    ) -> None:
        self.consumer = consumer
        self.handler = handler
        self.producer = producer
        self.stop = stop
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.retry_backoff = retry_backoff
        self.offsets = Offsets()
        self.committed_batches = 0
        self._sent: list[Record] = []  # sent, and not known to be acknowledged yet
        self._done: list[Message] = []  # done once those are
        self._assignment: set[TopicPartition] = set()
        self._stalled = False  # the last settle stopped with outputs in the spool

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Step until ``stop`` is set (or ``until()`` says the work is done); then finish, flush and commit."""
        while not self.stop.is_set():
            self.step()
            if until is not None and until():
                break
        finished = self.handler.finish()
        if finished.outputs or finished.done or not self._stalled:
            self.settle(finished)

    def step(self, *, timeout: float | None = None, max_records: int | None = None) -> int:
        """One pass of the loop (polling ``timeout`` seconds, else the loop's); returns how many messages were read."""
        batch = self.consumer.poll(self.poll_timeout if timeout is None else timeout, max_records or self.batch_size)
        assignment = self.consumer.assignment()
        if assignment != self._assignment:
            self._assignment = assignment
            self.handler.assigned(assignment)
        lost = self.offsets.keep(assignment)
        if lost:
            self.handler.revoked(lost)
        handled = self.handler.handle(self.offsets.read(batch))
        self.settle(handled)
        return len(batch)

    def settle(self, handled: Handled) -> bool:
        """Send the outputs, wait until they are acknowledged, commit what is done; False if the spool holds them."""
        self._sent += [self.send(record, source) for record, source in handled.outputs]
        self._done += handled.done
        self._stalled = not self.deliver()
        if self._stalled:
            log.warning("stopping with %d output(s) spooled; their input is not committed", self.backlog())
            return False  # kept for the next settle: a loop that goes on commits them once they drain
        sent, done, self._sent, self._done = self._sent, self._done, [], []
        if sent:
            self.handler.delivered(sent)
        self.offsets.finish(done)
        self.commit()
        return True

    def send(self, record: Record, source: Message | None) -> Record:
        assert self.producer is not None, "a handler with outputs needs a producer"
        try:
            self.producer.send(record)
        except RecordTooLarge as error:
            record = self.handler.too_large(record, source, error)
            self.producer.send(record)
        return record

    def backlog(self) -> int:
        return self.producer.backlog if self.producer is not None else 0

    def deliver(self) -> bool:
        """Flush; while outputs wait in the spool, retry until they drain or a stop is asked for."""
        if self.producer is None:
            return True
        self.producer.flush()
        while self.producer.backlog:
            if self.stop.wait(self.retry_backoff):
                return False
            self.producer.flush()
        return True

    def commit(self) -> None:
        assignment = self.consumer.assignment()
        offsets = {tp: o for tp, o in self.offsets.next_offsets().items() if tp in assignment}
        if not offsets:
            return
        if self.consumer.group is None:  # a reader from a position: nothing to commit, only to forget
            self.offsets.commit_done(offsets)
            return
        try:
            self.consumer.commit(offsets)
        except CommitFailed as error:
            log.warning("%s", error)  # the group moved on: what it hands back is read and done again
            self.offsets.forget_done(set(offsets))
            return
        self.offsets.commit_done(offsets)
        self.committed_batches += 1
