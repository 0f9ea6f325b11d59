"""Memory of a cleaning worker: its RSS as it cleans real pages on the embedded log.

The pages of PATH go on the raw topic again and again (each copy under its own URL) until
there are ``--pages`` records; then a fresh process (spawned, so it holds nothing of this
one) runs the cleaning worker on them until the group has caught up, and notes its
resident set (VmRSS in /proc/self/status) after every ``--every`` pages cleaned, and its
peak (``ru_maxrss``), and the same of the processes below it (the cleaner runs pages in a
child under a time limit, forked from a forkserver). Flat after the first hundred pages means nothing accumulates per
page: not the character model, not the OpenCC tables, not the near-duplicate index. The RSS
moves with the batch in hand, so the summary compares the high-water marks of the two halves.

    python bench/bench_worker_memory.py [PATH] [--pages N] [--every K]

PATH is a corpus manifest (``manifest.jsonl``) or a folder of ``<id>.html`` (+ ``<id>.json``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_pages, reproduce_command
from cleaner import CleanerSettings
from sinks.backends import cleaning_worker, create_topics, open_log
from sinks.log import Record
from sinks.settings import StreamSettings
from sinks.topics import RawPage

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cms"
FETCHED_AT = "2026-11-20T08:00:00+08:00"


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set now, in MB (VmRSS); 0.0 for one that has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status (this benchmark needs Linux)")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: the cleaner's forkserver and the child that cleans under the time limit."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pss_mb(pid: int) -> float:
    """A process's proportional set (its private pages, and its share of those it shares), in MB."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in rollup.splitlines() if line.startswith("Pss:")), 0.0)


def tree_rss_mb() -> tuple[float, float]:
    """(this process's VmRSS, the processes' below it PSS) in MB: the worker and the cleaner it runs pages
    in; PSS, because a forked child shares most of its pages with the forkserver it came from."""
    return rss_mb(), sum(pss_mb(child) for child in descendants(os.getpid()))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def put_raw(settings: StreamSettings, path: Path, n: int) -> None:
    """``n`` raw records cycling through the pages of ``path``, flushed every hundred."""
    pages = load_pages(path)
    log = open_log(settings)
    names = create_topics(log, settings)
    producer = log.producer()
    for i in range(n):
        page = pages[i % len(pages)]
        url = f"http://bench.gov.cn/{i // len(pages)}/{page.id}.html"
        ctype = page.headers.get("content-type")
        producer.send(RawPage(url, url, 200, page.body, FETCHED_AT, "bench", "b", ctype).to_record(names.raw))
        if i % 100 == 99:
            producer.flush()
    producer.flush()
    producer.close()
    log.close()


Sample = tuple[int, float, float]  # pages cleaned, worker MB, cleaner processes MB


def measure_worker(settings: StreamSettings, every: int, samples: multiprocessing.Queue[Sample]) -> None:
    """Run the worker until caught up; put (pages cleaned, MB, MB) after each ``every`` pages, then the peak."""
    samples.put((0, *tree_rss_mb()))
    cleaned = 0

    def note(outputs: Sequence[Record]) -> None:
        nonlocal cleaned
        before, cleaned = cleaned, cleaned + len(outputs)
        if cleaned // every > before // every:
            samples.put((cleaned, *tree_rss_mb()))

    log = open_log(settings)
    try:
        with cleaning_worker(log, settings, CleanerSettings(), threading.Event(), on_delivered=note) as worker:
            worker.run(exit_when_idle=True)
    finally:
        log.close()
    samples.put((-1, peak_rss_mb(), 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, nargs="?", default=DEFAULT_PATH, help="a manifest.jsonl or a folder")
    parser.add_argument("--pages", type=int, default=1000, help="raw records the worker cleans")
    parser.add_argument("--every", type=int, default=100, help="note the RSS after this many pages (the batch size)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = StreamSettings(
            db_path=f"{tmp}/log.db",
            spool_path=f"{tmp}/spool.db",
            index_path=f"{tmp}/index.db",
            topic_prefix="bench.",
            batch_size=args.every,
        )
        put_raw(settings, args.path, args.pages)
        spawn = multiprocessing.get_context("spawn")
        samples: multiprocessing.Queue[Sample] = spawn.Queue()
        child = spawn.Process(target=measure_worker, args=(settings, args.every, samples))
        child.start()
        rows: list[Sample] = []
        while True:
            sample = samples.get()
            if sample[0] < 0:
                peak = sample[1]
                break
            rows.append(sample)
        child.join()

    print(f"\ncleaning worker on the embedded log, {args.pages} raw pages cycling through {args.path}\n")
    print("| pages cleaned | worker VmRSS MB | cleaner processes PSS MB | total | since 100 pages |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    totals = [(cleaned, worker + cleaner) for cleaned, worker, cleaner in rows]
    base = next((mb for cleaned, mb in totals if cleaned >= 100), totals[0][1])
    for (cleaned, worker, cleaner), (_, total) in zip(rows, totals, strict=True):
        growth = f"{total - base:+.1f}" if cleaned >= 100 else ""
        print(f"| {cleaned} | {worker:.1f} | {cleaner:.1f} | {total:.1f} | {growth} |")
    print(f"| worker peak (ru_maxrss) | {peak:.1f} | | | |")
    # RSS moves with the batch in hand (a batch of 900 kB pages weighs more than one of 20 kB pages):
    # what accumulates shows as a higher high-water mark in the second half than in the first
    after = [(cleaned, mb) for cleaned, mb in totals if cleaned >= 100]
    middle = after[len(after) // 2][0] if after else 0
    first = max((mb for cleaned, mb in after if cleaned < middle), default=base)
    second = max((mb for cleaned, mb in after if cleaned >= middle), default=base)
    print(
        f"\nhighest total, pages 100–{middle}: {first:.1f} MB; pages {middle}–{after[-1][0] if after else 0}: "
        f"{second:.1f} MB ({second - first:+.1f} MB)"
    )
    print(f"\nreproduce: {reproduce_command()}")


if __name__ == "__main__":
    main()
