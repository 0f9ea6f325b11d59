"""Score extraction on a folder of ``<id>.html`` + ``<id>.json`` (title, published_at, body).

Prints body char-F1, title match rate and date accuracy for the newsflow cleaner
and for trafilatura alone (``bare_extraction`` with metadata, default settings)
on the same pages, side by side.

    python bench/eval_extraction.py tests/fixtures/cms
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from statistics import mean

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Page, char_f1, load_pages
from cleaner import Article, CleanerSettings, clean_page
from cleaner.script import convert_script


def newsflow_result(page: Page, settings: CleanerSettings) -> tuple[str, str | None, str | None]:
    result = clean_page(page.body, url=page.url, headers=page.headers, settings=settings)
    if not isinstance(result, Article):
        return "", None, None
    return result.text, result.title, result.published_at


def trafilatura_result(page: Page) -> tuple[str, str | None, str | None]:
    document = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
    if document is None:
        return "", None, None
    # compare in simplified script, as the expected files are
    text = convert_script(document.text or "", "zh-Hans")
    title = convert_script(document.title, "zh-Hans") if document.title else None
    return text, title, document.date


def same_date(got: str | None, expected: str | None) -> bool:
    """Same calendar day (trafilatura reports days only, so times are not compared)."""
    if not got or not expected:
        return got == expected
    return got[:10] == expected[:10]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--per-page", action="store_true", help="also print one row per page")
    args = parser.parse_args()
    pages = [p for p in load_pages(args.folder) if p.expected.get("body")]
    settings = CleanerSettings()
    rows = {"newsflow": [], "trafilatura": []}
    for page in pages:
        exp = page.expected
        for name, (text, title, date) in (
            ("newsflow", newsflow_result(page, settings)),
            ("trafilatura", trafilatura_result(page)),
        ):
            row = (char_f1(text, exp["body"]), title == exp.get("title"), same_date(date, exp.get("published_at")))
            rows[name].append(row)
            if args.per_page:
                print(f"{page.id:<28}{name:<12} F1={row[0]:.3f} title={row[1]} date={row[2]}")
    print(f"\n{len(pages)} pages from {args.folder}\n")
    print("| extractor | body char-F1 (mean) | F1 ≥ 0.95 | title match | date accuracy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in rows.items():
        f1s = [v[0] for v in values]
        print(
            f"| {name} | {mean(f1s):.3f} | {sum(f >= 0.95 for f in f1s)}/{len(f1s)} | "
            f"{sum(v[1] for v in values)}/{len(values)} | {sum(v[2] for v in values)}/{len(values)} |"
        )
    print(f"\nreproduce: python bench/eval_extraction.py {args.folder}")


if __name__ == "__main__":
    main()
