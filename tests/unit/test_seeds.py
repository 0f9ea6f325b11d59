"""Acceptance 1: the five real dirty seed pages become their expected articles."""

from __future__ import annotations

import json
import re

import pytest

from cleaner import Article, CleanerSettings, clean_text
from cleaner.patterns import FURNITURE
from tests.conftest import SEEDS, char_f1

SEED_FILES = sorted(SEEDS.glob("*.txt"))
FIELDS = ("title", "subtitle", "published_at", "authors", "source", "editor", "keywords")
PINYIN_GLOSS = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
MOJIBAKE = re.compile(r"\?[!！]|锟斤拷|銆|鈥|\ufffd")


def test_seeds_are_present() -> None:
    assert len(SEED_FILES) == 5


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_seed_matches_expected(path, settings: CleanerSettings) -> None:
    expected = json.loads((SEEDS / "expected" / f"{path.stem}.json").read_text(encoding="utf-8"))
    result = clean_text(path.read_text(encoding="utf-8"), settings=settings)
    assert isinstance(result, Article), result
    got = result.to_dict()
    for name in FIELDS:
        assert got[name] == expected[name], name
    if "summary" in expected:
        assert got["summary"] == expected["summary"]
    assert char_f1(result.text, expected["text"]) >= 0.98
    assert not PINYIN_GLOSS.search(result.text)
    assert not MOJIBAKE.search(result.text)
    for line in result.text.split("\n"):
        kinds = [kind for kind, pattern in FURNITURE if pattern.search(line)]
        assert not kinds, (kinds, line)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_seed_flags(path, settings: CleanerSettings) -> None:
    expected = json.loads((SEEDS / "expected" / f"{path.stem}.json").read_text(encoding="utf-8"))
    result = clean_text(path.read_text(encoding="utf-8"), settings=settings)
    assert isinstance(result, Article)
    assert set(expected["flags"]) <= set(result.quality.flags)


def test_seed_traditional_output_keeps_metadata_in_target_script() -> None:
    path = SEED_FILES[0]
    result = clean_text(path.read_text(encoding="utf-8"), settings=CleanerSettings(target_script="zh-Hant"))
    assert isinstance(result, Article)
    assert result.editor == "楊嵐"
    assert "鐵東區" in result.text
    assert result.script == "zh-Hant"
