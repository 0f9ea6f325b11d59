"""Quality: a score and flags for every article, or a typed rejection.

Rejections (reason values are a contract, see :mod:`cleaner.reasons`): empty
text, too short, not Chinese, residual mojibake above the threshold, spam.
"""

from __future__ import annotations

import re

from cleaner.charclass import cjk_ratio, count_cjk
from cleaner.charlm import load_char_model
from cleaner.reasons import Reason, Reject
from cleaner.script import convert_script
from cleaner.settings import CleanerSettings

MOJIBAKE_MARKS_RE = re.compile("锟斤拷|[\ufffd銆鈥锛€ÃÂ]|â€|ï¼")
RARE_RUN = 3  # this many rare CJK characters in a row look like mojibake


def residual_mojibake(text: str) -> int:
    """Characters that still look like mojibake: marks plus runs of rare characters."""
    model = load_char_model()
    marks = sum(len(m) for m in MOJIBAKE_MARKS_RE.findall(text))
    run = rare = 0
    for char in text:
        if "\u4e00" <= char <= "\u9fff" and not model.is_common(char, threshold=-16.0):
            run += 1
            continue
        if run >= RARE_RUN:
            rare += run
        run = 0
    if run >= RARE_RUN:
        rare += run
    return marks + rare


def assess(
    text: str,
    *,
    title: str | None,
    published_at: str | None,
    spam_lines: int,
    total_lines: int,
    repairs: dict[str, int],
    settings: CleanerSettings,
) -> tuple[float, tuple[str, ...]]:
    """Return (score, flags) or raise :class:`Reject` with a quality reason."""
    if not text.strip():
        raise Reject(Reason.EMPTY, "no body text left after extraction and cleaning")
    cjk = count_cjk(text)
    ratio = cjk_ratio(text)
    if ratio < settings.min_cjk_ratio:
        raise Reject(Reason.NOT_CHINESE, f"CJK share of letters is {ratio:.2f} (< {settings.min_cjk_ratio})")
    if cjk < settings.min_text_chars:
        raise Reject(Reason.TOO_SHORT, f"{cjk} CJK characters (< {settings.min_text_chars})")
    if total_lines and spam_lines / total_lines > settings.max_spam_ratio:
        raise Reject(Reason.SPAM, f"{spam_lines} of {total_lines} lines are injected spam")
    # the character model knows simplified text: judge a traditional text by its simplified view
    view = text if settings.target_script == "zh-Hans" else convert_script(text, "zh-Hans")
    residue = residual_mojibake(view) / max(cjk, 1)
    if residue > settings.max_mojibake_ratio:
        raise Reject(
            Reason.RESIDUAL_MOJIBAKE,
            f"{residue:.1%} of the text still looks like mojibake (> {settings.max_mojibake_ratio:.0%})",
        )
    flags: list[str] = []
    score = 1.0
    if any(kind.startswith("mojibake/") for kind in repairs):
        flags.append("mojibake")
    if repairs.get("pinyin"):
        flags.append("pinyin_annotations")
    if spam_lines:
        flags.append("seo_spam")
        score -= 0.1
    if residue:
        flags.append("residual_mojibake")
        score -= min(0.5, residue * 10)
    if not title:
        flags.append("no_title")
        score -= 0.2
    if not published_at:
        flags.append("no_date")
        score -= 0.1
    if cjk < 300:
        flags.append("short_text")
        score -= 0.2
    return round(max(score, 0.0), 3), tuple(flags)
