"""Strip pinyin glued after characters by a site's script converter: ``頁(yè)`` → ``頁``.

A ``(reading)`` is removed only when it is a valid reading of the character
before it (pypinyin's tables, tone marks compared exactly, toneless compared
loosely) *and* that character is one a simplified→traditional converter
produces (a traditional-only character). A gloss after a simplified or rare
character (``犇(bēn)``) and ordinary brackets (``(指挥部)``) stay.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin.pinyin_dict import pinyin_dict

from cleaner.script import load_tables

PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿê"
GLOSS_RE = re.compile(rf"([\u3400-\u9fff])[(（]([{PINYIN_LETTERS}]{{1,7}})[)）]")


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


@lru_cache(maxsize=4096)
def readings(char: str) -> frozenset[str]:
    """Readings of ``char`` and of its simplified form, with and without tones."""
    tables = load_tables()
    forms = {char, tables.t2s.convert(char)}
    out: set[str] = set()
    for form in forms:
        for reading in pinyin_dict.get(ord(form), "").split(","):
            if reading:
                out.add(reading)
                out.add(_toneless(reading))
    return frozenset(out)


def strip_pinyin(line: str) -> tuple[str, int]:
    """Return the line without converter glosses and how many were stripped."""
    if "(" not in line and "（" not in line:
        return line, 0
    traditional = load_tables().traditional_only
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        char, gloss = match.group(1), match.group(2)
        if char in traditional and gloss in readings(char):
            count += 1
            return char
        return match.group(0)

    return GLOSS_RE.sub(replace, line), count
