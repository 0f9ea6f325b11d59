"""Throughput on one core: ``clean_page`` next to its peers and to parsing alone, on the same page bytes.

Everything runs in this process, pinned to one CPU where the platform allows, on the same pages,
after a warm-up pass of every call (models, dictionaries and lazy imports loaded before any timing);
the timed rounds interleave the calls, so background load hits them alike. A peer that reads a
``str`` is given the bytes and decodes them with charset-normalizer inside its timed call, as the
cleaner decodes inside ``clean_page``.

Rows: ``clean_page``; ``trafilatura.bare_extraction`` on the bytes (default settings, as
this benchmark always ran it), on the bytes with metadata and on a charset-normalizer str
with metadata (the call ``eval_extraction.py`` scores); readability-lxml
``Document(str).summary()``; GNE ``extract(str)``; ``lxml.html.fromstring(bytes)`` as the
parse limit. Then clean_page's ratios to each, against the targets (at least
readability-lxml's pages/s, at least 1.5× trafilatura's), and the cleaner's per-stage times.

    python bench/bench_cleaner.py [PATH] [--rounds N]

PATH is a corpus manifest (``manifest.jsonl``) or a folder of ``<id>.html`` (+ ``<id>.json``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers
from bench.common import Page, load_pages, reproduce_command
from cleaner import CleanerSettings
from cleaner.pipeline import Timings

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cms"
CLEAN = "newsflow clean_page(bytes)"
PARSE = "lxml.html.fromstring(bytes)"
READABILITY = "readability-lxml Document(str).summary()"
TRAFILATURA = (
    "trafilatura bare_extraction(bytes)",
    "trafilatura bare_extraction(bytes, with_metadata=True)",
    "trafilatura bare_extraction(str, with_metadata=True)",
)
GNE = "GNE extract(str)"
TARGETS = {READABILITY: 1.0, TRAFILATURA[0]: 1.5, TRAFILATURA[1]: 1.5, TRAFILATURA[2]: 1.5}


@dataclass(frozen=True, slots=True)
class Call:
    label: str
    run: Callable[[Page], object]
    package: tuple[str, str] | None = None  # (distribution, module) of a peer, to see whether it is installed


@dataclass(frozen=True, slots=True)
class Timing:
    seconds: float
    calls: int
    errors: int
    failed: dict[str, str]  # page id -> what the call raised on it


def calls(settings: CleanerSettings, timings: Timings) -> list[Call]:
    """Every call measured; clean_page adds its per-stage times to ``timings``."""
    traf = ("trafilatura", "trafilatura")
    return [
        Call(CLEAN, lambda p: peers.clean(p, settings, timings)),
        Call(TRAFILATURA[0], lambda p: peers.trafilatura_document(p.body, p.url, with_metadata=False), traf),
        Call(TRAFILATURA[1], lambda p: peers.trafilatura_document(p.body, p.url), traf),
        Call(TRAFILATURA[2], lambda p: peers.trafilatura_document(peers.decode(p.body), p.url), traf),
        Call(
            READABILITY,
            lambda p: peers.readability_document(peers.decode(p.body)).summary(),
            ("readability-lxml", "readability"),
        ),
        Call(GNE, lambda p: peers.gne_result(peers.decode(p.body)), ("gne", "gne")),
        Call(PARSE, lambda p: peers.lxml_parse(p.body)),
    ]


def installed(call: Call) -> bool:
    return call.package is None or peers.installed_version(*call.package) is not None


def pin_to_one_cpu() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def run_once(call: Call, page: Page) -> str | None:
    """One call on one page; what it raised, if it did (timed like any other call)."""
    try:
        call.run(page)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def measure(runnable: list[Call], pages: list[Page], rounds: int) -> dict[str, Timing]:
    """Every call over every page, round after round, the calls interleaved so that load on the machine
    while this runs slows them alike rather than whichever happened to run at the time."""
    seconds = dict.fromkeys((c.label for c in runnable), 0.0)
    errors = dict.fromkeys(seconds, 0)
    failed: dict[str, dict[str, str]] = {label: {} for label in seconds}
    for _ in range(rounds):
        for call in runnable:
            start = time.perf_counter()
            outcomes = [(page.id, run_once(call, page)) for page in pages]
            seconds[call.label] += time.perf_counter() - start
            for page_id, error in outcomes:
                if error is not None:
                    errors[call.label] += 1
                    failed[call.label].setdefault(page_id, error)
    calls = rounds * len(pages)
    return {label: Timing(seconds[label], calls, errors[label], failed[label]) for label in seconds}


def throughput_table(all_calls: list[Call], measured: dict[str, Timing], megabytes: float) -> list[str]:
    lines = ["| call | pages/s | MB/s | ms/page | raised |", "| --- | ---: | ---: | ---: | ---: |"]
    for call in all_calls:
        t = measured.get(call.label)
        if t is None:
            lines.append(f"| {call.label} | not installed | | | |")
            continue
        mb = megabytes * t.calls
        lines.append(
            f"| {call.label} | {t.calls / t.seconds:.1f} | {mb / t.seconds:.2f} | {1000 * t.seconds / t.calls:.2f} "
            f"| {t.errors} |"
        )
    return lines


def failures(measured: dict[str, Timing]) -> list[str]:
    return [
        f"- {label} raised on {page_id}: {error[:100]}"
        for label, t in measured.items()
        for page_id, error in sorted(t.failed.items())
    ]


def ratios_table(all_calls: list[Call], measured: dict[str, Timing]) -> list[str]:
    """clean_page's pages/s over each peer's (≥ target is met) and its time over one parse."""
    clean = measured[CLEAN]
    lines = ["| clean_page vs | speed ratio (pages/s ÷ pages/s) | target | met |", "| --- | ---: | ---: | --- |"]
    for call in all_calls:
        if call.label in (CLEAN, PARSE):
            continue
        target = TARGETS.get(call.label)
        wanted = f"≥ {target:g}×" if target else "—"
        t = measured.get(call.label)
        if t is None:
            lines.append(f"| {call.label} | not installed | {wanted} | — |")
            continue
        ratio = t.seconds / clean.seconds  # same pages and rounds: the pages/s ratio is the inverse time ratio
        met = "—" if target is None else ("yes" if ratio >= target else "no")
        lines.append(f"| {call.label} | {ratio:.2f}× | {wanted} | {met} |")
    if PARSE in measured:
        cost = clean.seconds / measured[PARSE].seconds
        lines.append(f"\nclean_page costs {cost:.1f} lxml parses of the same page (clean_page time ÷ parse time)")
    return lines


def stages_table(timings: Timings, clean: Timing) -> list[str]:
    lines = ["| cleaner stage | ms/page | share |", "| --- | ---: | ---: |"]
    for stage, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {stage} | {1000 * seconds / clean.calls:.2f} | {seconds / clean.seconds:.0%} |")
    rest = clean.seconds - sum(timings.values())
    lines.append(f"| (unaccounted) | {1000 * rest / clean.calls:.2f} | {rest / clean.seconds:.0%} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, nargs="?", default=DEFAULT_PATH, help="a manifest.jsonl or a folder")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pinned = pin_to_one_cpu()
    pages = load_pages(args.path)
    timings: Timings = {}
    all_calls = calls(CleanerSettings(), timings)
    runnable = [c for c in all_calls if installed(c)]
    for call in runnable:  # warm-up: character model, OpenCC tables, peers' lazy loading
        for page in pages:
            run_once(call, page)
    timings.clear()
    measured = measure(runnable, pages, args.rounds)
    megabytes = sum(len(p.body) for p in pages) / 1e6 / len(pages)

    print(f"\n{len(pages)} pages × {args.rounds} rounds from {args.path}, one process, {pinned}")
    print(f"average page size {1000 * megabytes:.1f} kB\n")
    print("\n".join(throughput_table(all_calls, measured, megabytes)))
    if raised := failures(measured):
        print("\n" + "\n".join(raised))
    print()
    print("\n".join(ratios_table(all_calls, measured)))
    print()
    print("\n".join(stages_table(timings, measured[CLEAN])))
    print(f"\nreproduce: {reproduce_command()}")


if __name__ == "__main__":
    main()
