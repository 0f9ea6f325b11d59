"""Repair on real damage: quality per kind, throughput beside OpenCC, and ``clean_page``'s stages.

Runs ``repair_text`` (default settings) over ``../shared/corpus/repair/cases.jsonl`` and
prints, per kind, exact match and character error rate against ``clean_simp`` with
fullwidth folded on both sides (as ``score_repair.py --target clean_simp
--width-insensitive`` does), and for the controls the share changed (FP). Then the
throughput of ``repair_text`` in characters per second next to OpenCC's t2s conversion
of the same text (all cases, and the clean controls alone), the time to load the
character, word and context models, and ``clean_page``'s time per stage on the corpus pages
(``../shared/corpus/pages/manifest.jsonl`` + ``html/``), after a warm-up pass.

    python bench/bench_repair.py [--corpus ../shared/corpus] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import opencc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cleaner import CleanerSettings, clean_page, repair_text
from cleaner.charlm import load_char_model, load_word_model
from cleaner.contextlm import load_context_model

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def width_fold(text: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else (" " if c == "\u3000" else c) for c in text)


def levenshtein(a: str, b: str) -> int:
    if a == b:
        return 0
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def quality_table(cases: list[dict], outputs: list[str]) -> None:
    rows: dict[str, list[tuple[bool, float, bool]]] = defaultdict(list)
    for case, out in zip(cases, outputs, strict=True):
        got, want = width_fold(out), width_fold(case["clean_simp"])
        cer = levenshtein(got, want) / max(len(want), 1)
        rows[case["kind"]].append((got == want, cer, out != case["dirty"]))
    print("| kind | n | EM | CER | FP |")
    print("| --- | ---: | ---: | ---: | ---: |")
    totals: dict[str, list[tuple[bool, float, bool]]] = defaultdict(list)
    for kind in sorted(rows):
        results = rows[kind]
        control = kind.startswith("control")
        totals["ALL controls" if control else "ALL damaged"].extend(results)
        em = sum(ok for ok, _, _ in results) / len(results)
        cer = sum(c for _, c, _ in results) / len(results)
        fp = f"{1 - em:.3f}" if control else ""
        print(f"| {kind} | {len(results)} | {em:.3f} | {cer:.4f} | {fp} |")
    for name, results in sorted(totals.items()):
        em = sum(ok for ok, _, _ in results) / len(results)
        cer = sum(c for _, c, _ in results) / len(results)
        fp = f"{1 - em:.3f}" if name == "ALL controls" else ""
        print(f"| **{name}** | {len(results)} | {em:.3f} | {cer:.4f} | {fp} |")


def throughput(texts: list[str], settings: CleanerSettings, rounds: int) -> tuple[float, float]:
    chars = sum(len(t) for t in texts) * rounds
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            repair_text(text, settings=settings)
    repair_seconds = time.perf_counter() - start
    converter = opencc.OpenCC("t2s")
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            converter.convert(text)
    opencc_seconds = time.perf_counter() - start
    return chars / repair_seconds, chars / opencc_seconds


def page_stages(corpus: Path, settings: CleanerSettings, rounds: int) -> None:
    manifest = corpus / "pages" / "manifest.jsonl"
    if not manifest.exists():
        print(f"(no pages at {manifest})")
        return
    pages = []
    for line in manifest.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        entry = json.loads(line)
        body = (corpus / "pages" / entry["html_file"]).read_bytes()
        pages.append((body, entry.get("url") or f"https://example.invalid/{entry['id']}.html"))
    for body, url in pages:  # warm-up
        clean_page(body, url=url, settings=settings)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    for _ in range(rounds):
        for body, url in pages:
            clean_page(body, url=url, settings=settings, timings=timings)
    elapsed = time.perf_counter() - start
    n = len(pages) * rounds
    print(f"\n`clean_page` on {len(pages)} corpus pages × {rounds}: {1000 * elapsed / n:.2f} ms/page\n")
    print("| stage | ms/page | share |")
    print("| --- | ---: | ---: |")
    for stage, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"| {stage} | {1000 * seconds / n:.2f} | {seconds / elapsed:.0%} |")
    rest = elapsed - sum(timings.values())
    print(f"| (unaccounted) | {1000 * rest / n:.2f} | {rest / elapsed:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cases_path = args.corpus / "repair" / "cases.jsonl"
    with cases_path.open(encoding="utf-8") as lines:  # not splitlines(): the damage holds U+0085 and U+2028
        cases = [json.loads(line) for line in lines if line.strip()]
    settings = CleanerSettings()

    start = time.perf_counter()
    load_char_model.__wrapped__()  # type: ignore[attr-defined]
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    load_word_model.__wrapped__()  # type: ignore[attr-defined]
    word_load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    load_context_model.__wrapped__()  # type: ignore[attr-defined]
    context_load_seconds = time.perf_counter() - start
    outputs = [repair_text(case["dirty"], settings=settings) for case in cases]  # also the warm-up

    print(f"\n`repair_text` on {len(cases)} cases from {cases_path} (clean_simp, width-insensitive)\n")
    quality_table(cases, outputs)
    everything = [case["dirty"] for case in cases]
    controls = [case["dirty"] for case in cases if case["kind"].startswith("control")]
    print("\n| text | repair_text chars/s | OpenCC t2s chars/s |")
    print("| --- | ---: | ---: |")
    for name, texts in (("all cases", everything), ("clean controls", controls)):
        ours, theirs = throughput(texts, settings, args.rounds)
        print(f"| {name} | {ours:,.0f} | {theirs:,.0f} |")
    print(
        f"\ncharacter model load: {1000 * load_seconds:.0f} ms, word model load: {1000 * word_load_seconds:.0f} ms,"
        f" context model load: {1000 * context_load_seconds:.0f} ms"
    )
    page_stages(args.corpus, settings, args.rounds)
    print(f"\nreproduce: python bench/bench_repair.py --corpus {args.corpus} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
