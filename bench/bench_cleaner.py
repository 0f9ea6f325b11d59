"""Throughput on one core: ``clean_page`` vs ``trafilatura.bare_extraction`` on the same pages.

Both run in this process on the same page bytes, after a warm-up pass (model
and dictionary loading excluded from both). Prints pages/s, the cost ratio
(cleaner time / trafilatura time; ≤ 1.0 means the cleaner is at least as fast)
and the cleaner's per-stage breakdown.

    python bench/bench_cleaner.py [FOLDER] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_pages
from cleaner import CleanerSettings, clean_page

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = load_pages(args.folder)
    settings = CleanerSettings()
    for page in pages:  # warm-up: character model, OpenCC tables, lazy imports
        clean_page(page.body, url=page.url, headers=page.headers, settings=settings)
        trafilatura.bare_extraction(page.body, url=page.url)

    timings: dict[str, float] = {}
    start = time.perf_counter()
    for _ in range(args.rounds):
        for page in pages:
            clean_page(page.body, url=page.url, headers=page.headers, settings=settings, timings=timings)
    cleaner_time = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(args.rounds):
        for page in pages:
            trafilatura.bare_extraction(page.body, url=page.url)
    traf_time = time.perf_counter() - start

    n = len(pages) * args.rounds
    mb = sum(len(p.body) for p in pages) * args.rounds / 1e6
    print(f"\n{len(pages)} pages × {args.rounds} rounds from {args.folder}, one core\n")
    print("| extractor | pages/s | MB/s | ms/page |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in (("newsflow clean_page", cleaner_time), ("trafilatura.bare_extraction", traf_time)):
        print(f"| {name} | {n / seconds:.1f} | {mb / seconds:.2f} | {1000 * seconds / n:.2f} |")
    print(f"\ncost ratio (clean_page / trafilatura): {cleaner_time / traf_time:.2f}\n")
    print("| cleaner stage | ms/page | share |")
    print("| --- | ---: | ---: |")
    total = sum(timings.values())
    for stage, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"| {stage} | {1000 * seconds / n:.2f} | {seconds / cleaner_time:.0%} |")
    print(f"| (unaccounted) | {1000 * (cleaner_time - total) / n:.2f} | {(cleaner_time - total) / cleaner_time:.0%} |")
    print(f"\nreproduce: python bench/bench_cleaner.py {args.folder} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
