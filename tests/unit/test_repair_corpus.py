"""Repair on the shared corpus of real damage (``../shared/corpus/repair``), when it is there.

Aggregate rates per kind of damage, never outputs keyed to cases: clean controls come
back unchanged, and the kinds repair undoes from the bytes alone come back exact.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache

import pytest

from cleaner import CleanerSettings, repair_text
from tests.conftest import ROOT

CASES = ROOT.parent / "shared" / "corpus" / "repair" / "cases.jsonl"
pytestmark = pytest.mark.skipif(not CASES.is_file(), reason=f"no repair corpus at {CASES}")
# kinds undone from the bytes or the text alone (the lossy ones are scored by bench/bench_repair.py)
EXACT_KINDS = {"boilerplate": 0.97, "whitespace": 0.97, "utf8_as_latin1": 0.97, "pinyin": 0.97, "punct_width": 0.97}
# kinds where a lost byte leaves characters to infer from context: floors a little under what
# bench/bench_repair.py measures, so a change to the models that loses ground shows
LOSSY_KINDS = {"utf8_as_gbk": 0.90, "gbk_as_big5": 0.84, "big5_as_gbk": 0.78, "gbk_shift": 0.70, "combo": 0.90}


def width_fold(text: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else (" " if c == "\u3000" else c) for c in text)


@lru_cache(maxsize=1)
def exact_by_kind() -> dict[str, list[bool]]:
    settings = CleanerSettings()
    out: dict[str, list[bool]] = defaultdict(list)
    with CASES.open(encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            kind = case["kind"]
            if kind.startswith("control") or kind in EXACT_KINDS or kind in LOSSY_KINDS:
                got = repair_text(case["dirty"], settings=settings)
                out[kind].append(width_fold(got) == width_fold(case["clean_simp"]))
    return dict(out)


def test_clean_controls_come_back_unchanged() -> None:
    controls = {kind: rows for kind, rows in exact_by_kind().items() if kind.startswith("control")}
    assert controls
    changed = sum(rows.count(False) for rows in controls.values())
    total = sum(len(rows) for rows in controls.values())
    assert changed / total <= 0.002, {kind: rows.count(False) for kind, rows in controls.items()}


@pytest.mark.parametrize("kind", sorted(EXACT_KINDS))
def test_kinds_repaired_from_the_text_alone_are_exact(kind: str) -> None:
    rows = exact_by_kind()[kind]
    assert sum(rows) / len(rows) >= EXACT_KINDS[kind]


@pytest.mark.parametrize("kind", sorted(LOSSY_KINDS))
def test_lossy_kinds_keep_their_floor(kind: str) -> None:
    rows = exact_by_kind()[kind]
    assert sum(rows) / len(rows) >= LOSSY_KINDS[kind]
