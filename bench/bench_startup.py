"""Start-up and ``--jobs`` scaling of the command line, each timed in fresh processes.

1. ``newsflow --help`` and ``newsflow clean --help``: wall time of the whole process (median of
   ``--runs``), i.e. the interpreter, the imports and the help.
2. The first ``clean_page`` in a fresh process: the time of ``import cleaner``, then of the
   first call on a real page (the character model and OpenCC tables load on first use).
3. ``newsflow clean --jobs 1`` and ``--jobs 2`` (and ``--jobs`` ``--max-jobs``) on a temporary
   folder holding every page ``--copies`` times (the pages are copied into a temporary
   folder, never into the repository); pages/s of the whole command, output to /dev/null.

    python bench/bench_startup.py [PATH] [--copies K] [--runs N] [--max-jobs J]

PATH is a corpus manifest (``manifest.jsonl``) or a folder of ``<id>.html`` (+ ``<id>.json``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Page, load_pages, reproduce_command

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cms"
FIRST_CALL = """
import sys, time
start = time.perf_counter()
from cleaner import CleanerSettings, clean_page
imported = time.perf_counter()
body = open(sys.argv[1], "rb").read()
clean_page(body, url="http://bench.gov.cn/first.html", settings=CleanerSettings())
print(imported - start, time.perf_counter() - imported)
"""


def newsflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsflow.cli", *args]


def wall(command: list[str], runs: int) -> float:
    """Median wall seconds of ``command`` (stdout to /dev/null)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_call(page: Path, runs: int) -> tuple[float, float]:
    """Median (import seconds, first clean_page seconds) over ``runs`` fresh processes."""
    pairs = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", FIRST_CALL, str(page)], capture_output=True, text=True, check=True)
        imported, call = map(float, out.stdout.split())
        pairs.append((imported, call))
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def write_copies(pages: list[Page], copies: int, folder: Path) -> int:
    for copy in range(copies):
        for page in pages:
            (folder / f"{page.id}-{copy}.html").write_bytes(page.body)
    return len(pages) * copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, nargs="?", default=DEFAULT_PATH, help="a manifest.jsonl or a folder")
    parser.add_argument("--copies", type=int, default=4, help="copies of every page in the --jobs folder")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per start-up time (median)")
    parser.add_argument("--max-jobs", type=int, default=2, help="time --jobs 1 up to this")
    args = parser.parse_args()

    pages = load_pages(args.path)
    rows: list[tuple[str, str]] = [
        ("`newsflow --help`", f"{wall(newsflow('--help'), args.runs):.2f} s"),
        ("`newsflow clean --help`", f"{wall(newsflow('clean', '--help'), args.runs):.2f} s"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = folder / "first.html"
        first.write_bytes(pages[0].body)
        imported, call = first_call(first, args.runs)
        rows.append(("`import cleaner` in a fresh process", f"{imported:.2f} s"))
        rows.append((f"first `clean_page` after it ({pages[0].id})", f"{call:.2f} s"))
        first.unlink()
        n = write_copies(pages, args.copies, folder)
        rates = {}
        for jobs in range(1, args.max_jobs + 1):
            seconds = wall(newsflow("clean", "--jobs", str(jobs), str(folder)), 1)
            rates[jobs] = n / seconds
            rate = f"{rates[jobs]:.1f} pages/s ({seconds:.1f} s)"
            rows.append((f"`newsflow clean --jobs {jobs}` on {n} pages", rate))
        for jobs in range(2, args.max_jobs + 1):
            rows.append((f"`--jobs {jobs}` / `--jobs 1`", f"{rates[jobs] / rates[1]:.2f}×"))

    print(f"\n{len(pages)} pages from {args.path}; {os.cpu_count()} CPUs; start-up times are medians of {args.runs}\n")
    print("| measure | value |")
    print("| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nreproduce: {reproduce_command()}")


if __name__ == "__main__":
    main()
