"""The Kafka backend (kafka-python 3.x) behind :class:`~sinks.log.Log`.

Producer: idempotent, ``acks="all"``, compressed, bounded retries; ``flush``
checks every send's future and raises :class:`~sinks.log.DeliveryError` with
the records that were not acknowledged, so nothing is committed past them.
Records larger than ``max_message_bytes`` raise
:class:`~sinks.log.RecordTooLarge` before they are sent; topics are created
with ``max.message.bytes`` to match, so the broker accepts what the client does.

Consumer: auto-commit off; ``commit`` takes the next offsets to read. While a
group member is joining or rejoining it polls for the whole timeout, because
kafka-python 3.0.12 drops a join that completes between two short polls.
Otherwise it polls in 10 ms slices and sleeps 50 ms when a slice is empty,
because some Kafka-protocol brokers answer fetches at once instead of waiting
``fetch_max_wait_ms`` and a long poll would spin. With Apache Kafka this adds at
most 50 ms of latency.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (
    CommitFailedError,
    CorruptRecordError,
    InvalidRecordError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    for_code,
)
from kafka.structs import OffsetAndMetadata

from sinks.log import (
    COMMITTED,
    CommitFailed,
    DeliveryError,
    LogError,
    Message,
    Offsets,
    Record,
    Start,
    TopicPartition,
    TopicSpec,
)
from sinks.logbase import ConsumerBase, ProducerBase, start_offsets
from sinks.settings import StreamSettings

#: the broker refused the record itself: sending it again would fail again
REFUSED = (
    MessageSizeTooLargeError,
    CorruptRecordError,
    InvalidRecordError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
)
POLL_SLICE_MS = 10
PROBE_TIMEOUT = 3.0  # seconds a bootstrap server has to accept a TCP connection
RECORD_OVERHEAD = 512  # batch and record headers a broker counts on top of key, value and headers


def topic_configs(spec: TopicSpec) -> dict[str, str]:
    configs = {"cleanup.policy": "compact" if spec.compacted else "delete"}
    configs["retention.ms"] = str(spec.retention_ms if spec.retention_ms is not None else -1)
    if spec.max_message_bytes:
        configs["max.message.bytes"] = str(spec.max_message_bytes + RECORD_OVERHEAD)
    return configs


class KafkaLog:
    """A :class:`~sinks.log.Log` on a Kafka cluster."""

    def __init__(self, settings: StreamSettings) -> None:
        if not settings.bootstrap_servers:
            raise LogError("the Kafka backend needs bootstrap_servers")
        self.settings = settings
        self.bootstrap = settings.bootstrap_servers.split(",")
        self._admin: KafkaAdminClient | None = None
        self._meta: KafkaConsumer | None = None

    def _common(self) -> dict[str, Any]:
        s = self.settings
        return {
            "bootstrap_servers": self.bootstrap,
            "client_id": s.client_id,
            "request_timeout_ms": s.request_timeout_ms,
            "bootstrap_timeout_ms": s.request_timeout_ms,
        }

    def probe(self) -> None:
        """Raise a :class:`LogError` naming the cause at once when no bootstrap server accepts a connection.

        kafka-python would retry for ``request_timeout_ms`` and then say only
        ``NoBrokersAvailable``; a refused connection or an unknown host is known in milliseconds.
        """
        timeout = min(PROBE_TIMEOUT, self.settings.request_timeout_ms / 1000)
        causes = []
        for server in self.bootstrap:
            host, _, port = server.strip().rpartition(":")
            try:
                socket.create_connection((host.strip("[]") or server, int(port or 9092)), timeout=timeout).close()
                return
            except ValueError:
                causes.append(f"{server} is not host:port")
            except socket.gaierror:
                causes.append(f"the host of {server} does not resolve")
            except ConnectionRefusedError:
                causes.append(f"nothing listens on {server} (connection refused)")
            except TimeoutError:
                causes.append(f"{server} did not answer within {timeout:g} s")
            except OSError as error:
                causes.append(f"{server}: {error.strerror or error}")
        raise LogError(f"cannot reach Kafka at {self.settings.bootstrap_servers}: {'; '.join(causes)}")

    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self.probe()
            try:
                self._admin = KafkaAdminClient(**self._common())
            except KafkaError as error:
                raise LogError(f"cannot reach Kafka at {self.settings.bootstrap_servers}: {error}") from error
        return self._admin

    def _metadata_consumer(self) -> KafkaConsumer:
        if self._meta is None:
            self.probe()
            self._meta = KafkaConsumer(**self._common(), enable_auto_commit=False)
        return self._meta

    # -- topics --------------------------------------------------------------------------
    def create_topics(self, specs: Sequence[TopicSpec]) -> None:
        existing = self.topics()
        wanted = {
            spec.name: {
                "num_partitions": spec.partitions,
                "replication_factor": self.settings.replication_factor,
                "configs": topic_configs(spec),
            }
            for spec in specs
            if spec.name not in existing
        }
        if not wanted:
            return
        try:
            result = self.admin().create_topics(wanted, raise_errors=False, wait_for_metadata=True)
        except KafkaError as error:
            raise LogError(f"creating topics {', '.join(wanted)} failed: {error}") from error
        for topic in result["topics"]:
            error = for_code(topic["error_code"])
            if topic["error_code"] and error is not TopicAlreadyExistsError:
                raise LogError(f"creating topic {topic['name']} failed: {error.__name__} {topic.get('error_message')}")

    def topics(self) -> set[str]:
        try:
            return set(self.admin().list_topics())
        except KafkaError as error:
            raise LogError(f"cannot list topics at {self.settings.bootstrap_servers}: {error}") from error

    @contextmanager
    def _asking(self, what: str) -> Iterator[None]:
        """Turn a client error into a :class:`LogError` that says what was being asked, and where."""
        try:
            yield
        except KafkaError as error:
            raise LogError(
                f"{what} at {self.settings.bootstrap_servers} failed: {type(error).__name__}: {error}"
            ) from error

    def partitions(self, topic: str) -> int:
        with self._asking(f"partitions of {topic}"):
            found = self._metadata_consumer().partitions_for_topic(topic)
        if not found:
            raise LogError(f"no topic {topic!r} at {self.settings.bootstrap_servers}; create it first")
        return len(found)

    def _tps(self, topic: str) -> list[KafkaTopicPartition]:
        return [KafkaTopicPartition(topic, p) for p in range(self.partitions(topic))]

    # -- offsets -------------------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        with self._asking(f"end offsets of {topic}"):
            found = self._metadata_consumer().end_offsets(self._tps(topic))
        return {tp.partition: o for tp, o in found.items()}

    def beginning_offsets(self, topic: str) -> dict[int, int]:
        with self._asking(f"beginning offsets of {topic}"):
            found = self._metadata_consumer().beginning_offsets(self._tps(topic))
        return {tp.partition: o for tp, o in found.items()}

    def offsets_for_time(self, topic: str, timestamp_ms: int) -> dict[int, int]:
        tps = self._tps(topic)
        with self._asking(f"offsets by time of {topic}"):
            found = self._metadata_consumer().offsets_for_times(dict.fromkeys(tps, timestamp_ms))
        ends = self.end_offsets(topic)
        return {tp.partition: (found[tp].offset if found.get(tp) else ends[tp.partition]) for tp in tps}

    def committed(self, group: str, topic: str) -> dict[int, int]:
        with self._asking(f"offsets of group {group}"):
            offsets = self.admin().list_group_offsets({group: None}).get(group, {})
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}

    def groups(self, topic: str) -> list[str]:
        with self._asking("the consumer groups"):
            names = sorted({str(group["group_id"]) for group in self.admin().list_groups()})
        return [name for name in names if self.committed(name, topic)]

    def maintain(self) -> dict[str, int]:
        """Kafka applies retention and compaction itself, from the topic configs."""
        return {}

    # -- clients -------------------------------------------------------------------------
    def producer(self) -> KafkaLogProducer:
        return KafkaLogProducer(self.settings)

    def consumer(
        self, topics: Sequence[str], *, group: str | None = None, start: Start = COMMITTED
    ) -> KafkaLogConsumer:
        return KafkaLogConsumer(self, topics, group=group, start=start)

    def close(self) -> None:
        for client in (self._admin, self._meta):
            if client is not None:
                client.close()
        self._admin = self._meta = None

    def __enter__(self) -> KafkaLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KafkaLogProducer(ProducerBase):
    """Sends with futures; ``flush`` raises :class:`DeliveryError` listing what was not acknowledged."""

    def __init__(self, settings: StreamSettings) -> None:
        self.limit = settings.max_message_bytes
        self.flush_timeout = (settings.delivery_timeout_ms + settings.request_timeout_ms) / 1000
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=settings.bootstrap_servers.split(",") if settings.bootstrap_servers else [],
                client_id=settings.client_id,
                acks="all",
                enable_idempotence=True,
                compression_type=None if settings.compression == "none" else settings.compression,
                retries=settings.retries,
                request_timeout_ms=settings.request_timeout_ms,
                delivery_timeout_ms=settings.delivery_timeout_ms,
                max_block_ms=settings.max_block_ms,
                bootstrap_timeout_ms=settings.max_block_ms,
                max_request_size=settings.max_message_bytes + RECORD_OVERHEAD,
                linger_ms=5,
            )
        except KafkaError as error:
            raise DeliveryError(f"cannot reach Kafka at {settings.bootstrap_servers}: {error}", ()) from error
        self._sent: list[tuple[Record, Any]] = []
        self._failed: list[tuple[Record, BaseException]] = []

    def limit_for(self, topic: str) -> int:
        return self.limit

    def append(self, record: Record) -> None:
        try:
            future = self._producer.send(
                record.topic,
                key=record.key,
                value=record.value,
                headers=list(record.headers),
                timestamp_ms=record.timestamp_ms,
            )
        except KafkaError as error:  # no metadata within max_block_ms, buffer full, …
            self._failed.append((record, error))
            return
        self._sent.append((record, future))

    def flush(self, timeout: float | None = None) -> None:
        try:
            self._producer.flush(timeout=self.flush_timeout if timeout is None else timeout)
        except KafkaError as error:
            self._failed.extend((record, error) for record, future in self._sent if not future.succeeded())
            self._sent = [(record, future) for record, future in self._sent if future.succeeded()]
        failed = self._failed + [(r, f.exception) for r, f in self._sent if f.failed()]
        self._sent, self._failed = [], []
        if failed:
            refused = [(record, error) for record, error in failed if isinstance(error, REFUSED)]
            first = (refused or failed)[0][1]
            hint = " (is the topic's max.message.bytes below newsflow's max_message_bytes?)" if refused else ""
            raise DeliveryError(
                f"{len(failed)} record(s) not acknowledged by Kafka: {type(first).__name__}: {first}{hint}",
                [record for record, _ in failed],
                permanent=bool(refused),
            )

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._producer.close(timeout=timeout)
        except KafkaError:
            # kafka-python's close flushes first and gives up on records it cannot deliver (a flush
            # already reported them as undelivered); stop its sender without them, then close
            sender = getattr(self._producer, "_sender", None)
            if sender is not None:
                sender.force_close()
                sender.join(timeout)
            self._producer.close(timeout=0)


class _SeekOnAssign(ConsumerRebalanceListener):
    """Applies an explicit start position to each partition the group hands over."""

    def __init__(self, consumer: KafkaLogConsumer) -> None:
        self.consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.consumer.apply_start(list(assigned))


class KafkaLogConsumer(ConsumerBase):
    def __init__(self, log: KafkaLog, topics: Sequence[str], *, group: str | None, start: Start) -> None:
        s = log.settings
        self.log = log
        self.group = group
        self.start = start
        reset = "latest" if start.kind == "latest" else "earliest"
        self._consumer = KafkaConsumer(
            **log._common(),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset=reset,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            max_poll_interval_ms=s.max_poll_interval_ms,
            max_partition_fetch_bytes=s.max_message_bytes + RECORD_OVERHEAD,
            fetch_max_bytes=max(s.max_message_bytes * 2, 50 * 1024 * 1024),
            receive_message_max_bytes=max(s.max_message_bytes * 4, 256 * 1024 * 1024),
        )
        if group is None:
            tps = [tp for topic in topics for tp in log._tps(topic)]
            self._consumer.assign(tps)
            self.apply_start(tps)
        else:
            listener = _SeekOnAssign(self) if start.kind != "committed" else None
            self._consumer.subscribe(topics=list(topics), listener=listener)

    def apply_start(self, tps: list[KafkaTopicPartition]) -> None:
        """Seek each partition to where :func:`~sinks.logbase.start_offsets` says (unless the group's offset wins)."""
        found: dict[str, dict[int, int] | None] = {}
        for tp in tps:
            if tp.topic not in found:
                found[tp.topic] = start_offsets(self.log, tp.topic, self.start, self.group)
            offsets = found[tp.topic]
            if offsets is not None:
                self._consumer.seek(tp, offsets[tp.partition])

    def _joining(self) -> bool:
        if self.group is None:
            return False
        coordinator = getattr(self._consumer, "_coordinator", None)  # kafka-python internals, read only
        return not self._consumer.assignment() or coordinator is None or bool(coordinator.need_rejoin())

    def fetch(self, deadline: float, max_records: int) -> list[Message]:
        remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
        slice_ms = remaining_ms if self._joining() else POLL_SLICE_MS
        batches = self._consumer.poll(timeout_ms=slice_ms, max_records=max_records)
        return [
            Message(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()), r.timestamp)
            for records in batches.values()
            for r in records
        ]

    def commit_group(self, offsets: Offsets) -> None:
        try:
            self._consumer.commit(
                {KafkaTopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}
            )
        except CommitFailedError as error:
            raise CommitFailed(f"group {self.group}: {error}; those records will be read again") from error
        except KafkaError as error:
            raise CommitFailed(f"group {self.group}: commit failed ({type(error).__name__}: {error})") from error

    def assignment(self) -> set[TopicPartition]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def close(self) -> None:
        self._consumer.close(autocommit=False)
