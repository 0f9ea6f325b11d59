"""Character classes used by every text stage (pure functions, no tables)."""

from __future__ import annotations

import re

# CJK unified ideographs (BMP blocks, extension A, compatibility) and extension B+
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_RE = re.compile(f"[{CJK_RANGES}]")
# fullwidth / CJK punctuation that counts as "Chinese context" for punctuation rules
CJK_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】「」『』〔〕…—·～"
CJK_OR_PUNCT = f"{CJK_RANGES}{CJK_PUNCT}"
CJK_OR_PUNCT_RE = re.compile(f"[{CJK_OR_PUNCT}]")
LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")


def is_cjk(char: str) -> bool:
    return bool(CJK_RE.match(char))


def count_cjk(text: str) -> int:
    return len(CJK_RE.findall(text))


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among CJK + Latin letters (0 when there are none)."""
    cjk = count_cjk(text)
    latin = len(LATIN_RE.findall(text))
    total = cjk + latin
    return cjk / total if total else 0.0
