"""Cleaner settings: one frozen object, resolved once and passed down.

These dataclass defaults are the cleaner's defaults; the application layer
overrides them from ``config/`` files, the environment and flags, and hands
the result to :func:`cleaner.clean_page`. Vary a setting with
``dataclasses.replace``; never mutate a shared one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

TargetScript = Literal["zh-Hans", "zh-Hant", "keep"]
TARGET_SCRIPTS: tuple[str, ...] = ("zh-Hans", "zh-Hant", "keep")


@dataclass(frozen=True, slots=True)
class CleanerSettings:
    #: output script of text and fields: simplified, traditional, or as found
    target_script: TargetScript = "zh-Hans"
    #: under ``zh-Hans``, a page written in traditional script (declared zh-Hant/zh-TW/zh-HK/zh-MO, a Big5
    #: codec, or 「」 quoting) keeps its script; mixed text and converted pages are converted all the same
    keep_native_traditional: bool = True
    #: pages larger than this are rejected before parsing (bytes)
    max_body_bytes: int = 5_000_000
    #: fewer CJK characters than this in the cleaned text is ``quality.too_short``
    min_text_chars: int = 80
    #: share of CJK among letters below which a page is ``quality.not_chinese``
    min_cjk_ratio: float = 0.3
    #: share of U+FFFD after decoding above which decoding is hopeless
    max_replacement_ratio: float = 0.02
    #: residual mojibake share of CJK characters above which a page is rejected
    max_mojibake_ratio: float = 0.05
    #: share of spam lines above which a page is ``quality.spam``
    max_spam_ratio: float = 0.3
    #: a repair candidate must beat the original by this many nats per character
    repair_margin: float = 1.5
    #: a text span is tried for mojibake when this share of its CJK characters is rare
    repair_rare_share: float = 0.15
    #: what splitting a character of a misaligned GBK run in two (restoring a vanished pair) is worth,
    #: in nats of the word and context models (cleaner/mojibake.py restore_vanished_pairs): the split
    #: adds a character, which the models charge for; below zero, a split that reads a little worse is
    #: still made (gbk_shift exact match 0.700 at -1, 0.708 at -2, 0.692 at -3)
    repair_lost_pair_gain: float = -2.0
    #: log P (nats) a word scores at least, where a lost byte is chosen, when the text uses it elsewhere
    #: (cleaner/charlm.py Known: a name or a newer word the word lists lack, 雪龙, 一带一路)
    repair_known_word_logp: float = -5.0
    #: at most this many vanished pairs are restored per run (a run loses one in about seven characters,
    #: and a run goes on to the next ASCII byte: a whole paragraph may be one)
    repair_lost_pair_limit: int = 64
    #: keep ``text_original`` when script conversion changed the text
    keep_original: bool = True
    #: fall back to trafilatura when no candidate block reaches ``min_body_score``
    use_trafilatura: bool = True
    # --- choosing the body (cleaner/body.py): floors and weights of the one candidate score ---
    #: a block's own text counts as a paragraph from this many CJK characters outside links
    min_paragraph_cjk: int = 10
    #: a body candidate holds at least this many CJK characters outside links ...
    min_candidate_cjk: int = 40
    #: ... and at most this share of its CJK text inside links
    max_link_density: float = 0.5
    #: the best candidate must score at least this, or the page has no body block
    min_body_score: float = 8.0
    #: ... or this, for a block the site's selector or a container hint names (a short item in its <article>)
    min_named_body_score: float = 4.0
    #: how many of the page walk's best blocks join the named candidates
    walk_candidates: int = 6
    #: score raise for a block a CMS container hint names, and for the site's own selector
    container_hint_bonus: float = 0.25
    site_hint_bonus: float = 1.0
    #: score raise for a block that starts within ``headline_gap_cjk`` CJK characters after the headline
    headline_bonus: float = 0.25
    headline_gap_cjk: int = 200
    #: a sibling of the winner joins the body from this share of the winner's score (and this floor) ...
    sibling_share: float = 0.2
    min_sibling_score: float = 10.0
    #: ... or as a paragraph of this many CJK characters, when at most this much of it is links
    min_sibling_paragraph_cjk: int = 40
    max_sibling_link_density: float = 0.25
    #: inside the body, a sub-block with more of its text in links than this is a link list, left out
    max_inner_link_density: float = 0.5
    # --- reading the fields (cleaner/extract.py) ---
    #: info lines are looked for within this many lines under the headline ...
    head_zone_lines: int = 12
    #: ... editor and source lines within this many after the body ...
    tail_zone_lines: int = 30
    #: ... and a bare date, when nothing else gave one, within this many after the headline
    first_date_lines: int = 80

    def __post_init__(self) -> None:
        if self.target_script not in TARGET_SCRIPTS:
            raise ValueError(f"target_script must be one of {', '.join(TARGET_SCRIPTS)}, not {self.target_script!r}")
        for name in (
            "min_cjk_ratio",
            "max_replacement_ratio",
            "max_mojibake_ratio",
            "max_spam_ratio",
            "max_link_density",
            "sibling_share",
            "max_sibling_link_density",
            "max_inner_link_density",
            "repair_rare_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.max_body_bytes <= 0 or self.min_text_chars < 0:
            raise ValueError("max_body_bytes must be positive and min_text_chars not negative")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> CleanerSettings:
        """Build from a mapping (a config section); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown cleaner setting(s): {', '.join(unknown)}")
        return cls(**values)
