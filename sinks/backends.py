"""Wire the streams from settings: the backend (Kafka when servers are given, else the SQLite file),
its producer, the topics, a cleaning worker, and reading a topic from the start."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from cleaner import CleanerSettings, clean_page
from sinks.cleaning import Cleaning
from sinks.heap import return_large_buffers
from sinks.kafka import PROBE_TIMEOUT, KafkaLog
from sinks.log import Log, LogError, Message, Producer, Record, Start
from sinks.maintenance import Maintenance
from sinks.neardup import NearDupIndex
from sinks.settings import StreamSettings
from sinks.spool import Spool, SpoolingProducer
from sinks.sqlite import SqliteLog
from sinks.timelimit import TimedCleaner
from sinks.topics import Topics
from sinks.worker import Worker

logger = logging.getLogger(__name__)

MAX_BACKOFF = 60.0  # seconds between two tries to reach the log, at most


def open_log(settings: StreamSettings) -> Log:
    if settings.embedded:
        return SqliteLog(
            settings.path("db_path"),
            max_message_bytes=settings.max_message_bytes,
            session_timeout_ms=settings.session_timeout_ms,
            max_poll_interval_ms=settings.max_poll_interval_ms,
        )
    return KafkaLog(settings)


def open_producer(log: Log, settings: StreamSettings) -> Producer:
    """The embedded log writes to a local file and needs no spool; Kafka's producer spools."""
    if settings.embedded:
        return log.producer()
    return SpoolingProducer(log.producer, Spool(settings.path("spool_path")))


def open_index(settings: StreamSettings) -> NearDupIndex:
    return NearDupIndex(settings.path("index_path"), max_distance=settings.near_dup_distance)


def build_cleaning(
    settings: StreamSettings, cleaner: CleanerSettings, topics: Topics, *, articles_topic: str | None = None
) -> Cleaning:
    """The cleaning of the worker and of replay, with its near-duplicate index and, when the settings
    give a time limit, its cleaner process (the caller closes it)."""
    limit = settings.clean_time_limit
    timed = TimedCleaner(cleaner, time_limit=limit, clean=clean_page) if limit > 0 else None
    return Cleaning(
        topics,
        cleaner,
        open_index(settings),
        attempts=settings.clean_attempts,
        timed=timed,
        articles_topic=articles_topic,
    )


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


def await_topics(log: Log, settings: StreamSettings, stop: threading.Event) -> Topics | None:
    """Declare the topics, waiting while Kafka is unreachable (back-off up to a minute); ``None`` if stopped first.

    A long-running role started before its broker waits for it instead of failing; the
    embedded log's errors (a file that cannot be opened) do not pass by waiting and are raised.
    """
    delay = settings.retry_backoff
    while True:
        try:
            return create_topics(log, settings)
        except LogError as error:
            if settings.embedded:
                raise
            logger.warning("%s; trying again in %.1f s (stop with Ctrl-C or SIGTERM)", error, delay)
        if stop.wait(delay):
            return None
        delay = min(delay * 2, MAX_BACKOFF)


@contextmanager
def cleaning_worker(
    log: Log,
    settings: StreamSettings,
    cleaner: CleanerSettings,
    stop: threading.Event,
    on_delivered: Callable[[Sequence[Record]], None] | None = None,
) -> Iterator[Worker]:
    """A cleaning worker wired from the settings, with retention and compaction on their own timer;
    its producer and near-duplicate index close on exit. From here on the process hands its large
    buffers (the batch's pages and outputs) back to the system when they are freed."""
    return_large_buffers()
    if not settings.embedded:
        logger.info("connecting to Kafka at %s (each try up to %.0f s)", settings.bootstrap_servers, PROBE_TIMEOUT)
    await_topics(log, settings, stop)  # a stop while waiting: the worker's run returns at once
    cleaning = build_cleaning(settings, cleaner, topics_for(settings))
    producer = open_producer(log, settings)
    try:
        with Maintenance(log, interval=settings.maintenance_interval, stop=stop):
            yield Worker(
                log,
                producer,
                cleaning,
                settings=settings,
                stop=stop,
                on_delivered=on_delivered,
            )
    finally:
        try:
            producer.close()
        finally:
            cleaning.close()


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
