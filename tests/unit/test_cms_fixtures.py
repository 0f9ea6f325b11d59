"""Acceptance 2: government CMS template pages in four encodings → title, date, body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner import Article, CleanerSettings, clean_page
from tests.conftest import CMS_FIXTURES, char_f1

PAGES = sorted(CMS_FIXTURES.glob("*.html"))


def load(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def test_fixture_set_covers_templates_and_encodings() -> None:
    meta = [load(p) for p in PAGES]
    assert len(meta) >= 30
    assert {m["encoding"] for m in meta} >= {"utf-8", "gbk", "gb18030", "big5"}
    assert {m["declaration"] for m in meta} >= {"correct", "missing", "wrong"}
    assert len({m["template"] for m in meta}) >= 8


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_recovers_title_date_body(path: Path, settings: CleanerSettings) -> None:
    expected = load(path)
    where = f"template {expected['template']}, {expected['encoding']} ({expected['declaration']} declaration)"
    result = clean_page(
        path.read_bytes(), url=expected["url"], headers=expected.get("headers") or {}, settings=settings
    )
    assert isinstance(result, Article), f"{where}: {result}"
    assert result.title == expected["title"], where
    assert result.published_at == expected["published_at"], where
    assert result.source == expected.get("source"), where  # in the target script, nothing glued on
    f1 = char_f1(result.text, expected["body"])
    assert f1 >= 0.95, f"{where}: body char-F1 {f1:.3f}"
    assert result.encoding is not None
    assert result.encoding.declared_wrong == (expected["declaration"] == "wrong"), where
