"""Extraction quality of the newsflow cleaner next to its peers, on the same page bytes, in this process.

PATH is either a corpus manifest (``manifest.jsonl``) or a folder of ``<id>.html`` + ``<id>.json``.

* manifest: each extractor's predictions are scored by the corpus's own scorer
  (``<manifest folder>/../score_extraction.py``); prints one table of measures × extractors,
  then body/title/date per encoding and per page_kind. ``--diff`` lists the pages where
  newsflow's body bag-F1 trails the best peer's by more than 0.02 or a field is wrong.
* folder: the internal metrics (body char-F1, title match, date) with the extractors as columns.

Extractors (``--extractors``): newsflow (``clean_page``), trafilatura (``bare_extraction`` on a
charset-normalizer str, with metadata), trafilatura-bytes (the same on the bytes), readability
(readability-lxml ``Document`` on the bytes) and gne (on a charset-normalizer str). One that is
not installed gets a "not installed" column; one that raises on a page gives an empty prediction
for it (counted below the table).

    python bench/eval_extraction.py PATH [--extractors newsflow,trafilatura,readability,gne]
                                    [--diff] [--diff-limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Page, char_f1, is_manifest, load_pages, reproduce_command
from bench.peers import DEFAULT_NAMES, NAMES, Extractor, Prediction, extractors
from cleaner import CleanerSettings
from cleaner.script import convert_script

Row = dict[str, Any]  # one page's scores, or one subset's aggregate, as the scorer writes them


@dataclass(frozen=True, slots=True)
class Measure:
    label: str
    key: str  # the scorer's key
    needs: str | None = None  # the prediction field it scores ("—" for an extractor without it)
    count: bool = False  # a number of pages, not a rate


MEASURES = (
    Measure("body bag-F1", "bag_f1"),
    Measure("body lcs-F1", "lcs_f1"),
    Measure("empty pages", "empty", count=True),
    Measure("title exact", "title_exact"),
    Measure("title norm", "title_norm"),
    Measure("date (day)", "date_ok", needs="publish_time"),
    Measure("author", "author_ok", needs="author"),
    Measure("source", "source_ok", needs="source"),
    Measure("editor", "editor_ok", needs="editor"),
    Measure("mojibake", "mojibake_rate"),
)
SUBSET_MEASURES = (MEASURES[0], MEASURES[3], MEASURES[5])
ENCODING_SUBSETS = (("utf-8", "enc=utf-8"), ("GB-family", "enc=GB-family/bad"))
OVERALL = "ALL (primary)"


@dataclass(frozen=True, slots=True)
class Scored:
    """One extractor's predictions on a manifest and the scorer's verdict on them."""

    extractor: Extractor
    predictions: dict[str, Prediction]
    groups: dict[str, Row]  # subset name (the scorer's, plus kind=…) -> aggregate
    pages: dict[str, Row]  # page id -> per-page scores


# ----------------------------------------------------------------------------- running


def predict_all(extractor: Extractor, pages: list[Page]) -> dict[str, Prediction]:
    start = time.perf_counter()
    predictions = {page.id: extractor.run(page) for page in pages}
    print(f"{extractor.name}: {len(pages)} pages in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return predictions


def failures(predictions: dict[str, Prediction]) -> dict[str, str]:
    """Page id -> what was raised, for the pages where the extractor raised."""
    return {pid: p.note for pid, p in predictions.items() if p.note.startswith("error:")}


# ----------------------------------------------------------------------------- scoring a manifest


def load_scorer(manifest: Path) -> ModuleType:
    path = manifest.resolve().parent.parent / "score_extraction.py"
    if not path.exists():
        sys.exit(f"no scorer beside the corpus: {path} does not exist")
    spec = importlib.util.spec_from_file_location("score_extraction", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(scorer: ModuleType, manifest: Path, extractor: Extractor, predictions: dict[str, Prediction]) -> Scored:
    """Runs the scorer on the predictions (its own table silenced) and reads back its JSON and per-page files."""
    with tempfile.TemporaryDirectory(prefix="eval-extraction-") as name:
        tmp = Path(name)
        pred_path, per_page_path, json_path = tmp / "pred.jsonl", tmp / "per_page.jsonl", tmp / "scores.json"
        lines = (json.dumps(p.to_row(pid), ensure_ascii=False) for pid, p in predictions.items())
        pred_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        argv = [str(pred_path), "--manifest", str(manifest), "--per-page", str(per_page_path)]
        with contextlib.redirect_stdout(io.StringIO()):
            scorer.main([*argv, "--json", str(json_path), "--label", extractor.name])
        totals = json.loads(json_path.read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in per_page_path.read_text(encoding="utf-8").splitlines() if line]
    groups = {name: agg for name, agg in totals.items() if not name.startswith("kind=")}  # its kinds are a few
    groups.update(kind_groups(scorer, rows))
    return Scored(extractor, predictions, groups, {row["id"]: row for row in rows})


def kind_groups(scorer: ModuleType, rows: list[Row]) -> dict[str, Row]:
    """The scorer's aggregate per page_kind (its own table covers only a few kinds)."""
    kinds: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.get("gt_quality") == "human":
            kinds[row.get("page_kind") or "?"].append(row)
    ordered = sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return {f"kind={kind}": scorer.aggregate(members) for kind, members in ordered}


# ----------------------------------------------------------------------------- the manifest tables


def cell(scored: Scored | None, extractor: Extractor, measure: Measure, subset: str) -> str:
    if extractor.missing:
        return extractor.missing
    if measure.needs and measure.needs not in extractor.fields:
        return "—"
    assert scored is not None
    agg = scored.groups.get(subset) or {}
    value = agg.get(measure.key)
    if value is None:
        return "—"
    if measure.count:
        return str(value)
    if measure.key == "mojibake_rate":
        return f"{100 * value:.1f} ({agg['mojibake_n']})"
    return f"{100 * value:.1f}"


def measures_table(columns: list[Extractor], scored: dict[str, Scored]) -> list[str]:
    lines = [
        "| measure | " + " | ".join(e.name for e in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for measure in MEASURES:
        cells = (cell(scored.get(e.name), e, measure, OVERALL) for e in columns)
        lines.append(f"| {measure.label} | " + " | ".join(cells) + " |")
    errors = (e.missing or str(len(failures(scored[e.name].predictions))) for e in columns)
    lines.append("| pages that raised | " + " | ".join(errors) + " |")
    return lines


def subset_names(scored: dict[str, Scored]) -> list[tuple[str, str, int]]:
    """(label, scorer subset name, pages) for the encodings and the page kinds, from any scored extractor."""
    if not scored:
        return []
    groups = next(iter(scored.values())).groups
    named = [*ENCODING_SUBSETS, *((name.removeprefix("kind="), name) for name in groups if name.startswith("kind="))]
    return [(label, name, groups[name]["n"]) for label, name in named if groups.get(name)]


def subsets_table(columns: list[Extractor], scored: dict[str, Scored]) -> list[str]:
    lines = [
        "| subset | n | measure | " + " | ".join(e.name for e in columns) + " |",
        "| --- | ---: | --- |" + " ---: |" * len(columns),
    ]
    for label, name, n in subset_names(scored):
        for measure in SUBSET_MEASURES:
            cells = (cell(scored.get(e.name), e, measure, name) for e in columns)
            lines.append(f"| {label} | {n} | {measure.label} | " + " | ".join(cells) + " |")
    return lines


def legend(columns: list[Extractor], predictions: dict[str, dict[str, Prediction]]) -> list[str]:
    lines = []
    for e in columns:
        what = e.missing if e.missing else f"{e.version}: {e.call}"
        lines.append(f"- {e.name} ({what})")
        for pid, note in sorted(failures(predictions.get(e.name, {})).items()):
            lines.append(f"  - {pid} raised: {shorten(note, 100)}")
    return lines


# ----------------------------------------------------------------------------- --diff


def shorten(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def wrong_fields(ours: Row, peers: dict[str, Row]) -> list[str]:
    """Why a page is worth a look: body behind the best peer by more than 0.02, or a field wrong."""
    why = []
    if peers:
        best_name, best = max(peers.items(), key=lambda kv: kv[1]["bag_f1"])
        if ours["bag_f1"] < best["bag_f1"] - 0.02:
            why.append(f"body {100 * ours['bag_f1']:.1f} < {best_name} {100 * best['bag_f1']:.1f}")
    for field, key in (("title", "title_exact"), ("date", "date_ok"), ("author", "author_ok"), ("source", "source_ok")):
        if key in ours and not ours[key]:
            why.append(field)
    return why


FIELD_KEYS = (("title", "title_exact"), ("publish_time", "date_ok"), ("author", "author_ok"), ("source", "source_ok"))


def mark(row: Row, key: str) -> str:
    return "—" if key not in row else ("✓" if row[key] else "✗")


def scores_table(page_id: str, scored: dict[str, Scored]) -> list[str]:
    lines = ["| extractor | bag-F1 | lcs-F1 | title | date | author | source |", "| --- |" + " ---: |" * 6]
    for name, s in scored.items():
        row = s.pages[page_id]
        marks = " | ".join(mark(row, key) if f in s.extractor.fields else "—" for f, key in FIELD_KEYS)
        lines.append(f"| {name} | {100 * row['bag_f1']:.1f} | {100 * row['lcs_f1']:.1f} | {marks} |")
    return lines


def fields_vs_gold(prediction: Prediction, gold: Row, row: Row) -> list[str]:
    alternatives = gold.get("title_alternatives") or []
    also = f" (+{len(alternatives)} alternatives)" if alternatives else ""
    pairs = (
        ("title", "title_exact", prediction.title, f"{gold.get('title')}{also}"),
        ("date", "date_ok", prediction.publish_time, gold.get("publish_time")),
        ("author", "author_ok", prediction.author, gold.get("author")),
        ("source", "source_ok", prediction.source, gold.get("source")),
    )
    return [f"- {name} {mark(row, key)}: got {got!r}, gold {want!r}" for name, key, got, want in pairs]


def line_diff(got: str, gold: str, squash: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """(gold lines not found in the text, text lines not found in the gold), compared as the scorer normalises."""
    got_all, gold_all = squash(got), squash(gold)
    missing = [line for line in gold.splitlines() if squash(line) and squash(line) not in got_all]
    extra = [line for line in got.splitlines() if squash(line) and squash(line) not in gold_all]
    return missing, extra


def listed(title: str, lines: list[str], sign: str, limit: int) -> list[str]:
    if not lines:
        return []
    out = [f"{title} ({min(limit, len(lines))} of {len(lines)}):"]
    return out + [f"    {sign} {shorten(line)}" for line in lines[:limit]]


def page_report(
    page: Page, why: list[str], scored: dict[str, Scored], ours: Scored, squash: Callable[[str], str], limit: int
) -> list[str]:
    prediction, row = ours.predictions[page.id], ours.pages[page.id]
    lines = [f"### {page.id} · {page.kind} · {page.encoding} — {', '.join(why)}", ""]
    lines += [*scores_table(page.id, scored), ""]
    if prediction.note:
        lines.append(f"newsflow: {shorten(prediction.note, 200)}")
    sources = ", ".join(f"{k}={v}" for k, v in sorted(prediction.field_sources.items()))
    lines.append(f"field_sources: {sources or '—'}")
    lines += fields_vs_gold(prediction, page.expected, row)
    missing, extra = line_diff(prediction.body, page.expected.get("body") or "", squash)
    lines += listed("gold lines missing from newsflow", missing, "-", limit)
    lines += listed("newsflow lines not in gold", extra, "+", limit)
    return [*lines, ""]


def diff_report(pages: list[Page], scored: dict[str, Scored], scorer: ModuleType, limit: int) -> list[str]:
    # the first newsflow column (the default) against the peers
    name = next((n for n in scored if n.startswith("newsflow")), None)
    if name is None:
        return ["--diff compares newsflow with the peers: newsflow is not among the scored extractors"]
    reports = []
    for page in pages:
        peers = {n: s.pages[page.id] for n, s in scored.items() if not n.startswith("newsflow")}
        why = wrong_fields(scored[name].pages[page.id], peers)
        if why:
            reports.append(page_report(page, why, scored, scored[name], scorer.squash, limit))
    header = (
        f"## Pages to look at: {len(reports)} of {len(pages)} (body behind the best peer by > 0.02, or a field wrong)"
    )
    return [header, "", *(line for report in reports for line in report)]


def evaluate_manifest(args: argparse.Namespace, pages: list[Page], columns: list[Extractor]) -> None:
    scorer = load_scorer(args.path)
    runnable = [e for e in columns if not e.missing]
    predictions = {e.name: predict_all(e, pages) for e in runnable}
    scored = {e.name: score(scorer, args.path, e, predictions[e.name]) for e in runnable}
    print(f"\n{len(pages)} pages from {args.path}; every extractor in this process on the same bytes\n")
    print("Scored by the corpus scorer (%, macro over pages; date: day-level; mojibake: % (pages))\n")
    print("\n".join(measures_table(columns, scored)))
    print("\nPer encoding and page_kind\n")
    print("\n".join(subsets_table(columns, scored)))
    print()
    print("\n".join(legend(columns, predictions)))
    if args.diff:
        print()
        print("\n".join(diff_report(pages, scored, scorer, args.diff_limit)))
    if args.json:
        write_json(args.json, {name: manifest_summary(s) for name, s in scored.items()}, columns)


def manifest_summary(scored: Scored) -> dict[str, Any]:
    errors = failures(scored.predictions)
    return {"version": scored.extractor.version, "call": scored.extractor.call, "errors": errors, **scored.groups}


# ----------------------------------------------------------------------------- a folder of html + json


def same_date(got: str | None, expected: str | None) -> bool:
    """Same calendar day (some extractors report days only, so times are not compared)."""
    if not got or not expected:
        return got == expected
    return got[:10] == expected[:10]


def simplified(text: str) -> str:
    """The expected files are in simplified script; the peers keep the page's."""
    return convert_script(text, "zh-Hans") if text else text


def folder_metrics(predictions: dict[str, Prediction], pages: list[Page]) -> dict[str, Any]:
    f1s, titles, dates = [], [], []
    for page in pages:
        p, exp = predictions[page.id], page.expected
        f1s.append(char_f1(simplified(p.body), exp["body"]))
        titles.append(simplified(p.title) == exp.get("title"))
        dates.append(same_date(p.publish_time or None, exp.get("published_at")))
    return {
        "n": len(pages),
        "char_f1": mean(f1s) if f1s else 0.0,
        "f1_95": sum(f >= 0.95 for f in f1s),
        "title": sum(titles),
        "date": sum(dates),
        "errors": failures(predictions),
    }


def folder_table(columns: list[Extractor], metrics: dict[str, dict[str, Any]]) -> list[str]:
    rows: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (  # label, field scored, value
        ("body char-F1 (mean)", "body", lambda m: f"{m['char_f1']:.3f}"),
        ("body F1 ≥ 0.95", "body", lambda m: f"{m['f1_95']}/{m['n']}"),
        ("title match", "title", lambda m: f"{m['title']}/{m['n']}"),
        ("date accuracy (day)", "publish_time", lambda m: f"{m['date']}/{m['n']}"),
        ("pages that raised", "body", lambda m: str(len(m["errors"]))),
    )
    lines = ["| measure | " + " | ".join(e.name for e in columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for label, needs, show in rows:
        cells = (e.missing or (show(metrics[e.name]) if needs in e.fields else "—") for e in columns)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def evaluate_folder(args: argparse.Namespace, pages: list[Page], columns: list[Extractor]) -> None:
    pages = [p for p in pages if p.expected.get("body")]
    predictions = {e.name: predict_all(e, pages) for e in columns if not e.missing}
    metrics = {name: folder_metrics(p, pages) for name, p in predictions.items()}
    print(f"\n{len(pages)} pages from {args.path}; every extractor in this process on the same bytes\n")
    print("\n".join(folder_table(columns, metrics)))
    print()
    print("\n".join(legend(columns, predictions)))
    if args.diff:
        print("\n--diff needs a corpus manifest (the folder format has no scorer)")
    if args.json:
        write_json(args.json, metrics, columns)


# ----------------------------------------------------------------------------- main


def write_json(path: Path, results: dict[str, Any], columns: list[Extractor]) -> None:
    missing = {e.name: e.missing for e in columns if e.missing}
    path.write_text(json.dumps({"results": results, "missing": missing}, ensure_ascii=False, indent=1), "utf-8")


def extractor_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown extractor {', '.join(unknown)} (known: {', '.join(NAMES)})")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="a corpus manifest.jsonl or a folder of <id>.html + <id>.json")
    parser.add_argument("--extractors", type=extractor_names, default=list(DEFAULT_NAMES), help="comma-separated")
    parser.add_argument("--diff", action="store_true", help="list the pages where newsflow trails or errs")
    parser.add_argument("--diff-limit", type=int, default=5, help="body lines shown per page and side")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args()
    pages = load_pages(args.path)
    columns = extractors(args.extractors, CleanerSettings())
    if is_manifest(args.path):
        evaluate_manifest(args, pages, columns)
    else:
        evaluate_folder(args, pages, columns)
    print(f"\nreproduce: {reproduce_command()}")


if __name__ == "__main__":
    main()
