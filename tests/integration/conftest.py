"""Fixtures for the integration tests: real Kafka-protocol brokers on 127.0.0.1 (see brokers.py).

* ``noida``       — one noida-db broker for the whole session; use ``topic_prefix`` for fresh names.
* ``fresh_noida`` — a noida-db broker of the test's own, with its own data dir: for tests that
                    stop, kill or restart the broker.
* ``tansu``       — a tansu broker (memory storage) of the test's own: evicts a SIGKILLed member.
* ``topic_prefix``— a unique ``t{8 hex}.`` per test.
* ``stream_settings`` — parametrised over both backends: the embedded SQLite log in ``tmp_path``
                    and Kafka on the session's noida, with small group and delivery timeouts.

A broker that does not start makes the test error with the ``BrokerError`` (log tail included);
nothing is skipped.  When a test fails, the tail of each broker's log it used is added to the report.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from sinks.settings import StreamSettings
from tests.integration.brokers import Broker, NoidaBroker, TansuBroker

#: small timeouts so tests are quick; production keeps the defaults in StreamSettings
KAFKA_TEST_TIMEOUTS = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 500,
    "request_timeout_ms": 10_000,
    "delivery_timeout_ms": 12_000,
    "max_block_ms": 3000,
}


@pytest.fixture(scope="session")
def noida(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoidaBroker]:
    broker = NoidaBroker(tmp_path_factory.mktemp("noida"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def fresh_noida(tmp_path: Path) -> Iterator[NoidaBroker]:
    broker = NoidaBroker(tmp_path / "noida")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[TansuBroker]:
    broker = TansuBroker(log_dir=tmp_path / "tansu")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


def backend_settings(
    request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str, broker: str, **overrides: object
) -> StreamSettings:
    """Settings for ``request.param`` ("sqlite" or a broker's name), every file in ``tmp_path``."""
    common: dict = {
        "db_path": str(tmp_path / "log.db"),
        "spool_path": str(tmp_path / "spool-{host}.db"),
        "index_path": str(tmp_path / "index.db"),
        "topic_prefix": topic_prefix,
        "partitions": 3,
        "retry_backoff": 0.2,
        **overrides,
    }
    if request.param == "sqlite":
        return StreamSettings(**common, session_timeout_ms=3000)
    running = request.getfixturevalue(broker)
    return StreamSettings(**common, bootstrap_servers=running.bootstrap, **KAFKA_TEST_TIMEOUTS)


@pytest.fixture(params=["sqlite", "kafka"])
def stream_settings(request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str) -> StreamSettings:
    """Both backends: the embedded log and Kafka on the session's noida, under a fresh topic prefix."""
    return backend_settings(request, tmp_path, topic_prefix, "noida")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for name, value in funcargs.items():
        if isinstance(value, Broker):
            report.sections.append((f"{name} log ({value.log_path})", value.log_tail()))
