"""Repair text damage, line by line, in a fixed order.

codec inverses → GBK-run re-decode (anchored on ``?!``) → pinyin strip.
Each step counts what it changed (``repairs`` on the article); a line with
nothing to repair comes back unchanged. Width is never folded here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cleaner.charlm import CharModel, load_char_model
from cleaner.mojibake import invert_codec, redecode_gbk_runs
from cleaner.pinyin import strip_pinyin
from cleaner.script import convert_script


def script_blind_score(model: CharModel) -> Callable[[str], float]:
    """Score a line as it would read in simplified script (the model is simplified)."""

    def score(text: str) -> float:
        plain = model.score(text)
        simplified = convert_script(text, "zh-Hans")
        return plain if simplified == text else max(plain, model.score(simplified))

    return score


def repair_line(line: str, *, margin: float, repairs: Counter[str]) -> str:
    model = load_char_model()
    line, kind = invert_codec(line, model, script_blind_score(model), margin)
    if kind:
        repairs[f"mojibake/{kind}"] += 1
    line, runs = redecode_gbk_runs(line, model)
    if runs:
        repairs["mojibake/gbk_misaligned"] += runs
    line, glosses = strip_pinyin(line)
    if glosses:
        repairs["pinyin"] += glosses
    return line
