"""Stream throughput on both backends, and what streaming costs on top of the cleaner.

1. produce: N article-like JSON records of about 5 KB (keys, CloudEvents headers), flushed
   (acknowledged) at the end; msgs/s and MB/s.
2. consume: the same N records read back from the beginning without a group.
3. worker: the pages of PATH (``--copies`` copies under distinct URLs) as raw records, cleaned
   by the cleaning worker (group, commits, near-duplicate index, outputs acknowledged before
   each commit) until the group has caught up; pages/s next to ``clean_page`` alone on the
   same pages in this process, the two interleaved copy by copy (each copy's pages cleaned by
   the worker, then here, or the other way round), after a warm-up, so model loading counts in
   neither and a machine whose speed drifts over the minutes hits both alike.

The Kafka backend runs against the test broker (noida-db on 127.0.0.1, started here) unless
``--bootstrap`` names a cluster. noida-db is a development broker: its numbers say what the
client path costs, not what an Apache Kafka cluster can take.

    python bench/bench_streams.py [PATH] [--records N] [--copies K] [--backend B] [--bootstrap HOST:PORT]

PATH is a corpus manifest (``manifest.jsonl``) or a folder of ``<id>.html`` (+ ``<id>.json``),
by default the CMS fixtures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_pages, reproduce_command
from cleaner import CleanerSettings, clean_page
from sinks.backends import cleaning_worker, create_topics, open_log, open_producer
from sinks.log import Log, Record, Start
from sinks.settings import StreamSettings
from sinks.topics import RawPage

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "cms"
WARM_UP_PAGES = 8  # cleaned before any timing, by the worker and here
TEXT = "市政协召开常委会议，围绕疫情防控和复工复产开展协商议政，委员们积极建言献策。"


def json_records(topic: str, n: int) -> list[Record]:
    body = {"schema": "newsflow.article/1", "title": "政协会议", "text": TEXT * 40, "site": "bench"}
    records = []
    for i in range(n):
        value = json.dumps({**body, "id": f"{i:020d}"}, ensure_ascii=False).encode("utf-8")
        headers = (("ce_id", str(i).encode()), ("ce_type", b"newsflow.article/1"), ("ce_site", b"bench"))
        records.append(Record(topic, f"http://bench.gov.cn/{i}.html".encode(), value, headers))
    return records


def produce(log: Log, settings: StreamSettings, records: list[Record]) -> float:
    producer = open_producer(log, settings)
    start = time.perf_counter()
    for record in records:
        producer.send(record)
    producer.flush()
    elapsed = time.perf_counter() - start
    producer.close()
    return elapsed


def consume(log: Log, topic: str, n: int) -> float:
    consumer = log.consumer([topic], start=Start("earliest"))
    got = 0
    start = time.perf_counter()
    while got < n:
        got += len(consumer.poll(1.0, 2000))
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


def raw_rounds(path: Path, copies: int) -> list[list[RawPage]]:
    """The pages of ``path``, ``copies`` times under distinct URLs, as the crawler would put them on raw
    (one list a copy)."""
    pages = load_pages(path)
    out = []
    for copy in range(copies):
        round_ = []
        for page in pages:
            url = f"http://bench.gov.cn/{copy}/{page.id}.html"
            ctype = page.headers.get("content-type")
            round_.append(RawPage(url, url, 200, page.body, "2026-11-20T08:00:00+08:00", "bench", "b", ctype))
        out.append(round_)
    return out


def run_worker(
    log: Log, settings: StreamSettings, cleaner: CleanerSettings, warm: list[RawPage], rounds: list[list[RawPage]]
) -> tuple[float, float]:
    """Seconds the worker took to catch up on the rounds, and ``clean_page`` alone on the same pages.

    Round by round, the round's pages go on the raw topic, then the worker runs until the group has
    caught up and ``clean_page`` cleans the same pages here (in turn first and second), so that a
    machine that speeds up or slows down over the minutes hits both alike. Each round's run joins
    the group again (on Kafka that join counts in every round). A first round of other URLs
    (``warm``), untimed, starts the cleaner's process and its models.
    """
    names = create_topics(log, settings)
    producer = log.producer()
    worker_s = alone_s = 0.0
    with cleaning_worker(log, settings, cleaner, threading.Event()) as worker:
        for number, pages in enumerate([warm, *rounds]):
            for page in pages:
                producer.send(page.to_record(names.raw))
            producer.flush()
            first_alone = number % 2 == 0
            alone = clean_alone(cleaner, pages) if first_alone else 0.0
            start = time.perf_counter()
            worker.run(exit_when_idle=True)
            took = time.perf_counter() - start
            if not first_alone:
                alone = clean_alone(cleaner, pages)
            if number:  # the first round only warms up
                worker_s, alone_s = worker_s + took, alone_s + alone
    producer.close()
    return worker_s, alone_s


def clean_alone(cleaner: CleanerSettings, pages: list[RawPage]) -> float:
    start = time.perf_counter()
    for page in pages:
        clean_page(page.body, url=page.url, headers=page.http_headers(), settings=cleaner)
    return time.perf_counter() - start


@contextmanager
def kafka_bootstrap(given: str | None, workdir: Path) -> Iterator[str]:
    if given:
        yield given
        return
    from tests.integration.brokers import NoidaBroker

    with NoidaBroker(workdir / "noida") as broker:
        yield broker.bootstrap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, nargs="?", default=FIXTURES, help="a manifest.jsonl or a folder")
    parser.add_argument("--records", type=int, default=20_000, help="JSON records to produce and consume")
    parser.add_argument("--copies", type=int, default=8, help="copies of every page for the worker")
    parser.add_argument("--backend", choices=("sqlite", "kafka", "both"), default="both", help="the logs to measure")
    parser.add_argument("--bootstrap", help="a Kafka cluster to use instead of a local noida-db")
    args = parser.parse_args()
    backends = ("sqlite", "kafka") if args.backend == "both" else (args.backend,)

    cleaner = CleanerSettings()
    warm, *rounds = raw_rounds(args.path, args.copies + 1)
    warm = warm[:WARM_UP_PAGES]
    pages = [page for pages in rounds for page in pages]
    clean_alone(cleaner, warm)  # warm-up: character model, OpenCC, lazy imports

    rows = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        bootstrap = stack.enter_context(kafka_bootstrap(args.bootstrap, Path(tmp))) if "kafka" in backends else None
        for backend in backends:
            work = Path(tmp) / backend
            settings = StreamSettings(
                bootstrap_servers=bootstrap if backend == "kafka" else None,
                db_path=str(work / "log.db"),
                spool_path=str(work / "spool.db"),
                index_path=str(work / "index.db"),
                topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
                partitions=6,
                session_timeout_ms=6000,
                heartbeat_interval_ms=500,
            )
            log = open_log(settings)
            names = create_topics(log, settings)
            records = json_records(names.articles, args.records)
            mb = sum(r.size for r in records) / 1e6
            produced = produce(log, settings, records)
            consumed = consume(log, names.articles, len(records))
            worker_settings = replace(settings, topic_prefix=settings.topic_prefix + "w.")
            worker_s, alone = run_worker(log, worker_settings, cleaner, warm, rounds)
            log.close()
            rows.append((backend, len(records), mb, produced, consumed, worker_s, alone))

    size = rows[0][2] * 1e6 / rows[0][1]
    print(
        f"\n{args.records} JSON records of {size / 1000:.1f} KB; worker on {len(pages)} pages "
        f"({args.copies} × {len(pages) // args.copies} pages of {args.path}); one process\n"
    )
    print("| backend | produce msgs/s | produce MB/s | consume msgs/s | consume MB/s | worker pages/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, n, mb, produced, consumed, worker_s, _ in rows:
        name = "embedded SQLite (WAL, synchronous=FULL)" if backend == "sqlite" else "Kafka (noida-db, gzip, acks=all)"
        print(
            f"| {name} | {n / produced:,.0f} | {mb / produced:.1f} | {n / consumed:,.0f} | {mb / consumed:.1f} "
            f"| {len(pages) / worker_s:.1f} |"
        )
    print()
    for backend, *_, worker_s, alone in rows:
        print(
            f"{backend}: clean_page alone {len(pages) / alone:.1f} pages/s; "
            f"worker time / clean_page time = {worker_s / alone:.2f}"
            f" (the worker cleans at {alone / worker_s:.0%} of clean_page's pages/s)"
        )
    print(f"\nreproduce: {reproduce_command()}")


if __name__ == "__main__":
    main()
