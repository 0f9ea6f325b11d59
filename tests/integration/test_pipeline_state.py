"""The crawl state keeps step with what Kafka acknowledged (issue 14, defect 16).

The raw page pipeline on a real broker (the session's noida; nothing here depends on
durability across a restart): after each page the state must already say it was emitted,
because a SIGKILL may come next.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from crawler.pipelines import Emitter, RawPagePipeline
from crawler.spider import Fetched
from crawler.state import CrawlState
from newsflow.demo import demo_site
from sinks.backends import create_topics, open_log, open_producer
from sinks.settings import StreamSettings
from tests.contracts import read_all
from tests.integration.brokers import NoidaBroker
from tests.integration.conftest import KAFKA_TEST_TIMEOUTS

pytestmark = pytest.mark.timeout(120)


def test_crawl_state_is_written_as_each_page_is_acknowledged_on_kafka(
    noida: NoidaBroker, tmp_path: Path, topic_prefix: str
) -> None:
    """Defect 16: on Kafka the state was written once per 50 pages or second, long after the pages were
    acknowledged, so a SIGKILLed crawl emitted up to 44 of them again."""
    settings = StreamSettings(
        bootstrap_servers=noida.bootstrap,
        topic_prefix=topic_prefix,
        partitions=1,
        spool_path=str(tmp_path / "spool.db"),
        **KAFKA_TEST_TIMEOUTS,
    )
    log = open_log(settings)
    topics = create_topics(log, settings)
    producer = open_producer(log, settings)
    state = CrawlState(tmp_path / "state.db", "qinghe")
    emitter = Emitter(producer, topics, state, demo_site(8000), "crawl-1")
    pipeline = RawPagePipeline(emitter, SimpleNamespace(stats=None))  # type: ignore[arg-type]
    try:
        for n in range(3):
            url = f"http://127.0.0.1:8000/news/{n}.html"
            pipeline.process_item(Fetched(url, url, 200, f"<p>{n}</p>".encode(), "article", "text/html", None, None))
            assert len(state) == n + 1, "the page is in the state as soon as it is acknowledged"
        assert len(read_all(log, topics.raw)) == 3
    finally:
        pipeline.close_spider()
        producer.close()
        state.close()
        log.close()
