"""Repair text damage, line by line, in a fixed order: detect, then repair.

UTF-8 read as Latin-1 (ftfy) → codec inverses of flagged spans → GBK-run re-decode
(anchored on ``?!``) → pinyin strip. Every step has a cheap detector (a byte pattern
or a character-class signature), so a clean line never reaches the character model.
Each step counts what it changed (``repairs`` on the article); a line with nothing
to repair comes back unchanged. Width is never folded here.
"""

from __future__ import annotations

from collections import Counter

from cleaner.charlm import Known, load_char_model
from cleaner.mojibake import fix_utf8_as_latin1, invert_codecs, redecode_gbk_runs
from cleaner.pinyin import strip_pinyin
from cleaner.settings import CleanerSettings


def repair_line(line: str, settings: CleanerSettings, repairs: Counter[str], known: Known | None = None) -> str:
    """One line repaired; ``known`` holds the words of the whole text, for choosing what lost bytes held."""
    if line.isascii():
        return line
    fixed = fix_utf8_as_latin1(line)
    if fixed != line:
        repairs["mojibake/utf8_as_latin1"] += 1
        line = fixed
    model = load_char_model()
    line, kinds = invert_codecs(
        line, model, margin=settings.repair_margin, rare_share=settings.repair_rare_share, known=known
    )
    for kind in kinds:
        repairs[f"mojibake/{kind}"] += 1
    line, runs = redecode_gbk_runs(
        line,
        model,
        pair_gain=settings.repair_lost_pair_gain,
        pair_limit=settings.repair_lost_pair_limit,
        known=known,
    )
    if runs:
        repairs["mojibake/gbk_misaligned"] += runs
    line, glosses = strip_pinyin(line)
    if glosses:
        repairs["pinyin"] += glosses
    return line
