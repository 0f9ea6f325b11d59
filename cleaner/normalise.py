"""Normalisation after repair: script, Chinese punctuation, dashes, spaces.

ASCII ``,:;!?()`` beside CJK text become fullwidth; ``11:31``, ``80.85``, URLs
and Latin text keep ASCII. Width is never folded (and never before repair).
"""

from __future__ import annotations

import re

from cleaner.charclass import CJK_OR_PUNCT, CJK_RANGES

FULLWIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
CJK_CONTEXT = f"[{CJK_OR_PUNCT}]"
# a punctuation mark with CJK (or CJK punctuation) on its left, ignoring spaces
PUNCT_AFTER_CJK_RE = re.compile(f"(?<={CJK_CONTEXT})([ \\t]*)([,:;!?])")
# ... or with CJK on its right and no ASCII letter or URL slash on its left
PUNCT_BEFORE_CJK_RE = re.compile(f"(?<![A-Za-z/])([,:;!?])(?=[ \\t]*[{CJK_RANGES}“‘《（])")
PAREN_RE = re.compile(r"\(([^()]*)\)")
CJK_IN_RE = re.compile(f"[{CJK_RANGES}]")
SPACED_DASH_RE = re.compile("—[ \\t\u3000]+—")
MULTISPACE_RE = re.compile("[ \\t\u3000\xa0]+")
# a no-break or ideographic space between a Han character and a digit is layout, not text: 4月\xa05日
WIDE_BLANK_DIGIT_RE = re.compile(f"(?<=[{CJK_RANGES}])[\u3000\xa0]+(?=[0-9])|(?<=[0-9])[\u3000\xa0]+(?=[{CJK_RANGES}])")


def _paren(match: re.Match[str], text: str) -> str:
    inner = match.group(1)
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    beside = bool(CJK_IN_RE.match(before) or CJK_IN_RE.match(after))
    if CJK_IN_RE.search(inner) or beside:
        return f"（{inner}）"
    return match.group(0)


def fullwidth_punctuation(text: str) -> str:
    if not any(mark in text for mark in FULLWIDTH):
        return text
    text = PUNCT_AFTER_CJK_RE.sub(lambda m: FULLWIDTH[m.group(2)], text)
    text = PUNCT_BEFORE_CJK_RE.sub(lambda m: FULLWIDTH[m.group(1)], text)
    if "(" in text:
        text = PAREN_RE.sub(lambda m: _paren(m, text), text)
    return text


def normalise_spacing(text: str) -> str:
    """Join spaced dashes (``— —`` → ``——``), drop wide blanks beside digits, collapse runs of blanks."""
    text = SPACED_DASH_RE.sub("——", text)
    text = WIDE_BLANK_DIGIT_RE.sub("", text)
    return MULTISPACE_RE.sub(" ", text).strip()
