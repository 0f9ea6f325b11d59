"""Wire the streams from settings: the backend (Kafka when servers are given, else the SQLite file),
its producer, the topics, a cleaning worker, and reading a topic from the start."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from cleaner import CleanerSettings
from sinks.cleaning import Cleaning
from sinks.kafka import KafkaLog
from sinks.log import Log, Message, Producer, Record, Start
from sinks.neardup import NearDupIndex
from sinks.settings import StreamSettings
from sinks.spool import Spool, SpoolingProducer
from sinks.sqlite import SqliteLog
from sinks.topics import Topics
from sinks.worker import Worker


def open_log(settings: StreamSettings) -> Log:
    if settings.embedded:
        return SqliteLog(
            settings.path("db_path"),
            max_message_bytes=settings.max_message_bytes,
            session_timeout_ms=settings.session_timeout_ms,
        )
    return KafkaLog(settings)


def open_producer(log: Log, settings: StreamSettings) -> Producer:
    """The embedded log writes to a local file and needs no spool; Kafka's producer spools."""
    if isinstance(log, KafkaLog):
        return SpoolingProducer(log.producer, Spool(settings.path("spool_path")))
    return log.producer()


def topics_for(settings: StreamSettings) -> Topics:
    return Topics(settings.topic_prefix)


def create_topics(log: Log, settings: StreamSettings, *, articles_copy: str | None = None) -> Topics:
    """Declare the four topics (existing ones are left alone); returns their names.

    ``articles_copy`` also declares a second articles topic, configured like the first
    (a replay ``--into`` target).
    """
    topics = topics_for(settings)
    specs = topics.specs(
        settings.partitions,
        raw_retention_days=settings.raw_retention_days or None,
        max_message_bytes=settings.max_message_bytes,
    )
    if articles_copy:
        specs += [dataclasses.replace(spec, name=articles_copy) for spec in specs if spec.name == topics.articles]
    log.create_topics(specs)
    return topics


@contextmanager
def cleaning_worker(
    log: Log,
    settings: StreamSettings,
    cleaner: CleanerSettings,
    stop: threading.Event,
    on_delivered: Callable[[Sequence[Record]], None] | None = None,
) -> Iterator[Worker]:
    """A cleaning worker wired from the settings; its producer and near-duplicate index close on exit."""
    topics = create_topics(log, settings)
    index = NearDupIndex(settings.path("index_path"), max_distance=settings.near_dup_distance)
    producer = open_producer(log, settings)
    try:
        yield Worker(
            log,
            producer,
            Cleaning(topics, cleaner, index),
            group=settings.group,
            stop=stop,
            batch_size=settings.batch_size,
            retry_backoff=settings.retry_backoff,
            max_message_bytes=settings.max_message_bytes,
            on_delivered=on_delivered,
        )
    finally:
        try:
            producer.close()
        finally:
            index.close()


def read_messages(log: Log, topics: Sequence[str], *, want: int, timeout: float = 30.0) -> list[Message]:
    """From the beginning of ``topics`` until ``want`` messages arrived or ``timeout`` seconds passed."""
    consumer = log.consumer(topics, start=Start("earliest"))
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < want and time.monotonic() < deadline:
            got.extend(consumer.poll(0.2, 1000))
    finally:
        consumer.close()
    return got
