"""Pick and open the backend the settings describe: Kafka when servers are given, else the SQLite file."""

from __future__ import annotations

import dataclasses

from sinks.kafka import KafkaLog
from sinks.log import Log, Producer
from sinks.settings import StreamSettings
from sinks.spool import Spool, SpoolingProducer
from sinks.sqlite import SqliteLog
from sinks.topics import Topics


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
