"""The one offset computation of every consumer loop (pure logic: messages in, next offsets out)."""

from __future__ import annotations

from sinks.log import Message
from sinks.loop import Offsets


def message(partition: int, offset: int) -> Message:
    return Message("t", partition, offset, None, b"", (), 0)


def test_a_partition_commits_up_to_its_first_open_message() -> None:
    offsets = Offsets()
    batch = [message(0, o) for o in range(4)] + [message(1, 7)]
    assert offsets.read(batch) == batch
    offsets.finish([batch[0], batch[2], batch[3], batch[4]])  # offset 1 still runs (a crawl)
    assert offsets.next_offsets() == {("t", 0): 1, ("t", 1): 8}
    offsets.commit_done(offsets.next_offsets())
    assert offsets.next_offsets() == {}
    offsets.finish([batch[1]])
    assert offsets.next_offsets() == {("t", 0): 4}


def test_messages_delivered_again_are_not_new_unless_their_commit_failed() -> None:
    offsets = Offsets()
    first = [message(0, 0), message(0, 1)]
    offsets.read(first)
    offsets.finish(first[:1])
    assert offsets.read(first) == []  # a rebalance delivered them again: one still runs, one is done
    offsets.forget_done({("t", 0)})
    assert offsets.read(first) == first[:1]  # the done one was not committed: it is done again


def test_a_moved_partition_leaves_the_commit_set() -> None:
    """Defect 8: a partition the group moved stayed in every commit, so every commit failed."""
    offsets = Offsets()
    offsets.read([message(0, 0), message(1, 0)])
    offsets.finish([message(0, 0), message(1, 0)])
    assert offsets.keep({("t", 0)}) == {("t", 1)}
    assert offsets.next_offsets() == {("t", 0): 1}
