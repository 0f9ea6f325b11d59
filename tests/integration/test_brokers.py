"""Smoke tests of the broker harness itself, with kafka-python talking to the real brokers."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord

from tests.integration.brokers import (
    Broker,
    BrokerError,
    NoidaBroker,
    TansuBroker,
    api_versions,
    free_port,
    port_is_free,
    wait_port_free,
)

pytestmark = pytest.mark.timeout(60)

PARTITIONS = 3
COUNT = 30
BASE_TS = 1_700_000_000_000  # explicit CreateTime stamps: record i is BASE_TS + i seconds


def create_topic(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, count: int = COUNT) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=5,
        request_timeout_ms=10_000,
        delivery_timeout_ms=20_000,
        max_block_ms=10_000,
    )
    try:
        futures = [
            producer.send(
                topic,
                key=f"k{i}".encode(),
                value=f"value {i} 值".encode(),
                headers=[("n", str(i).encode()), ("empty", b"")],
                timestamp_ms=BASE_TS + 1000 * i,
            )
            for i in range(count)
        ]
        producer.flush(timeout=20)
        assert {f.get(timeout=10).partition for f in futures} == set(range(PARTITIONS))
    finally:
        producer.close(timeout=5)


def consume_assigned(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[ConsumerRecord]:
    """Read ``count`` records of every partition with manual assignment: poll(0) plus a short nap,
    since noida answers an empty fetch at once (fetch_max_wait_ms is ignored) and a blocking poll
    would spin."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=0)
            for part in batch.values():
                records.extend(part)
            if not batch:
                time.sleep(0.05)
        return records
    finally:
        consumer.close()


def check_records(records: Iterable[ConsumerRecord], count: int = COUNT) -> None:
    by_key = {r.key: r for r in records}
    assert len(by_key) == count
    for i in range(count):
        record = by_key[f"k{i}".encode()]
        assert record.value == f"value {i} 值".encode()
        assert record.headers == [("n", str(i).encode()), ("empty", b"")]
        assert record.timestamp == BASE_TS + 1000 * i
    # per partition, offsets are dense and in order
    partitions: dict[int, list[int]] = {}
    for r in records:
        partitions.setdefault(r.partition, []).append(r.offset)
    for offsets in partitions.values():
        assert offsets == list(range(len(offsets)))


def roundtrip(broker: Broker, topic: str) -> list[ConsumerRecord]:
    create_topic(broker.bootstrap, topic)
    produce(broker.bootstrap, topic)
    records = consume_assigned(broker.bootstrap, topic, COUNT)
    check_records(records)
    return records


def group_read_and_commit(bootstrap: str, topic: str, group: str, count: int) -> dict[int, int]:
    """Join ``group``, read ``count`` records, commit, return the committed offsets.

    The polls block (timeout_ms > 0) on purpose: kafka-python 3.0.12 drops a JoinGroup/SyncGroup
    result that completes between two polls and starts the join over, so poll(0) with naps in
    between never gets an assignment.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    try:
        consumer.subscribe([topic])
        seen = 0
        deadline = time.monotonic() + 20
        while seen < count and time.monotonic() < deadline:
            seen += sum(len(part) for part in consumer.poll(timeout_ms=200).values())
        assert seen == count
        consumer.commit()
        committed = {p: consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
        return {p: o for p, o in committed.items() if o is not None}
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        committed = {p: consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
        return {p: o for p, o in committed.items() if o is not None}
    finally:
        consumer.close()


# --------------------------------------------------------------------------------------------
# the harness, without Kafka clients


def test_free_port_and_wait_port_free() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    assert port_is_free(port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not port_is_free(port)
        with pytest.raises(BrokerError, match="still in use"):
            wait_port_free(port, timeout=0.2)
    wait_port_free(port, timeout=2)


class _Script(Broker):
    """A fake broker: any command, for the failure paths."""

    name = "script"

    def __init__(self, script: str, log_dir: Path, port: int | None = None) -> None:
        super().__init__(port, log_path=log_dir / "script.log")
        self.script = script

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.script]


def test_early_exit_raises_with_the_log_tail(tmp_path: Path) -> None:
    broker = _Script("print('boom: no such flag', flush=True); raise SystemExit(3)", tmp_path, port=free_port())
    with pytest.raises(BrokerError, match="exited with code 3") as info:
        broker.start(timeout=10)
    assert "boom: no such flag" in str(info.value)
    assert not broker.is_running()


def test_silent_broker_times_out_and_is_killed(tmp_path: Path) -> None:
    broker = _Script("import time; print('waiting', flush=True); time.sleep(60)", tmp_path)
    started = time.monotonic()
    with pytest.raises(BrokerError, match="not ready before the start timeout") as info:
        broker.start(timeout=1.0)
    assert time.monotonic() - started < 10
    assert "waiting" in str(info.value)
    assert not broker.is_running()


def test_port_taken_by_someone_else(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        broker = TansuBroker(port=taken, log_dir=tmp_path)
        with pytest.raises(BrokerError, match="in use"):
            broker.start(timeout=6)
        assert not broker.is_running()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux only)")
def test_brokers_listen_on_loopback_only(noida: NoidaBroker, fresh_noida: NoidaBroker, tansu: TansuBroker) -> None:
    # two noida brokers at once (the session one and a fresh one) plus tansu, no clash
    for broker in (noida, fresh_noida, tansu):
        assert broker.is_running()
        assert 18 in api_versions(broker.host, broker.port)  # ApiVersions itself
        listening = listening_sockets(broker.pid or -1)
        assert (broker.host, broker.port) in listening
        assert {host for host, _ in listening} == {"127.0.0.1"}, listening


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process ``pid`` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: set[tuple[str, int]] = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            addr_hex, port_hex = local.split(":")
            raw = bytes.fromhex(addr_hex)
            if len(raw) == 4:
                host = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                host = socket.inet_ntop(socket.AF_INET6, words)
            found.add((host, int(port_hex, 16)))
    return found


# --------------------------------------------------------------------------------------------
# noida-db


def test_noida_roundtrip_offsets_and_times(noida: NoidaBroker, topic_prefix: str) -> None:
    topic = f"{topic_prefix}smoke"
    records = roundtrip(noida, topic)

    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer = KafkaConsumer(bootstrap_servers=noida.bootstrap)
    try:
        ends = consumer.end_offsets(tps)
        assert ends == {tp: sum(1 for r in records if r.partition == tp.partition) for tp in tps}
        assert consumer.beginning_offsets(tps) == dict.fromkeys(tps, 0)

        # offsets_for_times: the first record stamped at or after the time, None past the last
        stamps = {tp: sorted((r.timestamp, r.offset) for r in records if r.partition == tp.partition) for tp in tps}
        middle = BASE_TS + 1000 * (COUNT // 2) - 1
        found = consumer.offsets_for_times(dict.fromkeys(tps, middle))
        for tp in tps:
            expected = next(((ts, off) for ts, off in stamps[tp] if ts >= middle), None)
            got = found[tp]
            assert (None if got is None else (got.timestamp, got.offset)) == expected
        after_all = consumer.offsets_for_times(dict.fromkeys(tps, BASE_TS + 1000 * COUNT))
        assert after_all == dict.fromkeys(tps)
        earliest = consumer.offsets_for_times(dict.fromkeys(tps, 0))
        assert {tp: v.offset for tp, v in earliest.items() if v is not None} == dict.fromkeys(tps, 0)
    finally:
        consumer.close()


def test_noida_restart_keeps_records_and_group_offsets(fresh_noida: NoidaBroker, topic_prefix: str) -> None:
    topic, group = f"{topic_prefix}durable", f"{topic_prefix}group"
    roundtrip(fresh_noida, topic)
    committed = group_read_and_commit(fresh_noida.bootstrap, topic, group, COUNT)
    assert sum(committed.values()) == COUNT

    port, pid = fresh_noida.port, fresh_noida.pid
    fresh_noida.restart()
    assert fresh_noida.is_running()
    assert (fresh_noida.port, fresh_noida.bootstrap) == (port, f"127.0.0.1:{port}")
    assert fresh_noida.pid != pid

    check_records(consume_assigned(fresh_noida.bootstrap, topic, COUNT))
    assert committed_offsets(fresh_noida.bootstrap, topic, group) == committed


def test_stop_kill_and_start_again(fresh_noida: NoidaBroker) -> None:
    port = fresh_noida.port
    fresh_noida.stop()
    fresh_noida.stop()  # idempotent
    assert not fresh_noida.is_running()
    with pytest.raises(OSError):
        api_versions(fresh_noida.host, port, timeout=0.5)

    fresh_noida.start()
    assert fresh_noida.is_running()
    fresh_noida.kill()  # a crash: noida leaves a stale control file behind, start copes
    fresh_noida.kill()
    assert not fresh_noida.is_running()

    with fresh_noida:  # context manager: start ... stop
        assert fresh_noida.port == port
        assert 0 in api_versions(fresh_noida.host, port)  # Produce
    assert not fresh_noida.is_running()


# --------------------------------------------------------------------------------------------
# tansu


def test_tansu_roundtrip(tansu: TansuBroker, topic_prefix: str) -> None:
    roundtrip(tansu, f"{topic_prefix}smoke")


def test_tansu_restart_is_empty_but_same_port(tansu: TansuBroker, topic_prefix: str) -> None:
    topic = f"{topic_prefix}gone"
    create_topic(tansu.bootstrap, topic)
    port = tansu.port
    tansu.restart()
    assert tansu.port == port
    admin = KafkaAdminClient(bootstrap_servers=tansu.bootstrap, request_timeout_ms=10_000)
    try:
        assert topic not in admin.list_topics()  # memory storage
    finally:
        admin.close()
