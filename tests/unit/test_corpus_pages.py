"""Golden tests on real pages: the shared corpus beside the repository (``../shared/corpus/pages``).

The corpus is third-party data and is never copied here: without ``../shared`` these tests skip.
They hold the cleaner to floors a little under what it measures on the corpus (see
``bench/eval_extraction.py`` for the full table beside the peers), scored with the corpus's own
scorer functions, with the default settings: the ground truth is written in each page's own script,
and a page written in traditional script keeps it by default (``keep_native_traditional``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import replace
from functools import cache
from types import ModuleType

import pytest

from cleaner import Article, CleanerSettings, Reason, Rejection, clean_page
from tests.conftest import ROOT, char_f1

CORPUS = ROOT.parent / "shared" / "corpus"
MANIFEST = CORPUS / "pages" / "manifest.jsonl"
pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason="no ../shared/corpus beside the repository")
DEFAULT = CleanerSettings()


@cache
def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_extraction", CORPUS / "score_extraction.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def rows() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in MANIFEST.read_text(encoding="utf-8").splitlines() if line.strip())


def page_bytes(row: dict) -> bytes:
    return (MANIFEST.parent / row["html_file"]).read_bytes()


@cache
def results() -> tuple[Article | Rejection, ...]:
    return tuple(
        clean_page(page_bytes(r), url=r["url"] or "http://example.invalid/a.html", settings=DEFAULT) for r in rows()
    )


def body_f1(got: str, gold: str) -> float:
    s = scorer()
    pred, truth = s.tokens(got), s.tokens(gold)
    return s.prf(s.bag_overlap(pred, truth), len(pred), len(truth))[2]


def same(got: str | None, row: dict, name: str) -> bool:
    s = scorer()
    wanted = [row[name], *(row.get(f"{name}_alternatives") or [])]
    return bool(got) and any(s.squash(got) == s.squash(w) for w in wanted if w)


def share(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


def test_no_page_raises_or_is_rejected() -> None:
    rejected = [r for r in results() if isinstance(r, Rejection)]
    assert not [r for r in rejected if r.reason is Reason.INTERNAL_ERROR], rejected
    assert not rejected, [(r.reason.value, r.detail) for r in rejected]


def test_body_beats_the_peers_floor() -> None:
    scores = [
        body_f1(a.text if isinstance(a, Article) else "", r["body"]) for a, r in zip(results(), rows(), strict=True)
    ]
    assert sum(scores) / len(scores) >= 0.975
    gb = [f for f, r in zip(scores, rows(), strict=True) if r["encoding_hint"] != "utf-8"]
    assert sum(gb) / len(gb) >= 0.95


def test_titles_and_dates() -> None:
    pairs = list(zip(results(), rows(), strict=True))
    titles = [isinstance(a, Article) and same(a.title, r, "title") for a, r in pairs]
    assert share(titles) >= 0.97
    day = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
    dated = [(a, r) for a, r in pairs if day.match(r["publish_time"] or "")]
    dates = [isinstance(a, Article) and (a.published_at or "")[:10] == r["publish_time"][:10] for a, r in dated]
    assert share(dates) >= 0.97


def test_authors_sources_and_editors() -> None:
    pairs = list(zip(results(), rows(), strict=True))
    s = scorer()
    authored = [(a, r) for a, r in pairs if r["author"]]
    authors = [
        isinstance(a, Article) and all(s.squash(name) in s.squash(" ".join(a.authors)) for name in r["author"].split())
        for a, r in authored
    ]
    assert share(authors) >= 0.84
    sourced = [(a, r) for a, r in pairs if r["source"]]
    assert share([isinstance(a, Article) and same(a.source, r, "source") for a, r in sourced]) >= 0.9
    edited = [(a, r) for a, r in pairs if r["editor"]]
    assert share([isinstance(a, Article) and same(a.editor, r, "editor") for a, r in edited]) >= 0.93


def test_pages_written_in_traditional_keep_their_script_and_say_so() -> None:
    pairs = [(a, r) for a, r in zip(results(), rows(), strict=True) if r["page_kind"] == "news_taiwan"]
    assert pairs
    for article, _ in pairs:
        assert isinstance(article, Article)
        assert (article.script, article.text_script) == ("zh-Hant", "zh-Hant")
    converted = replace(DEFAULT, keep_native_traditional=False)
    article, row = pairs[0]
    again = clean_page(page_bytes(row), url="http://example.invalid/a.html", settings=converted)
    assert isinstance(again, Article)
    assert (again.script, again.text_script) == ("zh-Hant", "zh-Hans")
    assert again.title != article.title and again.text_original


def test_every_article_says_how_its_body_was_chosen() -> None:
    for article in results():
        if isinstance(article, Article) and article.field_sources["body"] not in ("trafilatura", "body"):
            assert article.field_sources["body_choice"].startswith(article.field_sources["body"])
            assert "score=" in article.field_sources["body_choice"]


@pytest.mark.parametrize(
    ("label", "codec"), [("big5", "cp950"), (None, "cp950"), ("gbk", "cp950"), ("gb2312", "gb18030")]
)
def test_traditional_pages_read_the_same_in_big5_and_gb(label: str | None, codec: str) -> None:
    """A real traditional page re-encoded (declared Big5, undeclared, declared wrongly as GBK; or as GB)
    comes out as the same article as the UTF-8 original."""
    traditional = [r for r in rows() if r["page_kind"] == "news_taiwan"][:3]
    assert traditional
    for row in traditional:
        original = clean_page(page_bytes(row), url="http://example.invalid/a.html", settings=DEFAULT)
        text = page_bytes(row).decode("utf-8")
        text = re.sub(r"charset=[\"']?utf-8[\"']?", f"charset={label}" if label else "", text, flags=re.IGNORECASE)
        again = clean_page(
            text.encode(codec, errors="xmlcharrefreplace"), url="http://example.invalid/a.html", settings=DEFAULT
        )
        assert isinstance(original, Article) and isinstance(again, Article), again
        assert again.title == original.title
        assert char_f1(again.text, original.text) > 0.99
