"""Strip pinyin glued after characters by a site's script converter: ``頁(yè)`` → ``頁``.

A ``(reading)`` is removed only when it is a valid reading of the character
before it (pypinyin's tables, tone marks compared exactly, toneless compared
loosely) *and* that character is one a simplified→traditional converter
produces (a traditional-only character, or 著 for the particle 着). A gloss after a simplified or rare
character (``犇(bēn)``) and ordinary brackets (``(指挥部)``) stay.

The readings are pypinyin's table of single characters, read from its data file when first
needed (:func:`load_readings`): importing pypinyin would also load its phrase dictionary
and copy both tables, some 50 MB in every process that imports the cleaner, the cleaning
worker's own included, which leaves the cleaning to a child process.
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from cleaner.script import load_tables

PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿê"
PARTICLE_ZHE = "著"  # a converter's form of 着 too (隨著): a reading of 着 after it (zhe, not zhù) is its gloss
GLOSS_RE = re.compile(rf"([\u3400-\u9fff])[(（]([{PINYIN_LETTERS}]{{1,7}})[)）]")


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


@lru_cache(maxsize=1)
def load_readings() -> dict[int, str]:
    """pypinyin's readings of single characters, code point → readings comma-separated, once per process
    (the ``pypinyin.pinyin_dict`` table, without importing the package)."""
    spec = importlib.util.find_spec("pypinyin")  # a top-level name: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin is not installed", name="pypinyin")
    folder = Path(next(iter(spec.submodule_search_locations)))
    table = json.loads((folder / "pinyin_dict.json").read_text("utf-8"))
    return {int(code): value for code, value in table.items()}


@lru_cache(maxsize=4096)
def readings(char: str) -> frozenset[str]:
    """Readings of ``char`` and of its simplified form, with and without tones."""
    tables = load_tables()
    pinyin_dict = load_readings()
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
        if (char == PARTICLE_ZHE and gloss in readings("着")) or (char in traditional and gloss in readings(char)):
            count += 1
            return char
        return match.group(0)

    return GLOSS_RE.sub(replace, line), count
