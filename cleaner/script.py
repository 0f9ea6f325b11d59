"""Script detection and conversion (OpenCC), non-destructive.

``detect_script`` counts characters that exist only in traditional or only in
simplified writing. ``convert_script`` converts only text that needs it and
protects place names OpenCC gets wrong (``cleaner/data/protected_terms.tsv``,
e.g. 乾安县 must not become 干安县).

The official OpenCC bindings (``opencc`` on PyPI) are used: on the seeds they
convert at about 28 MB/s against 0.6 MB/s for ``opencc-python-reimplemented``
(both install a module named ``opencc``; see bench/bench_cleaner.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import opencc

from cleaner.charclass import CJK_RE

PLACEHOLDER_BASE = 0xE000  # private use area: OpenCC passes it through untouched
# Traditional 著 is both zhù (著作) and the aspect particle zhe/zhuó, which simplified
# writes 着; OpenCC leaves 著 alone. After converting traditional text, 著 becomes 着
# except inside these zhù words.
ZHU_WORDS = (
    "著作",
    "著名",
    "显著",
    "著称",
    "卓著",
    "昭著",
    "名著",
    "专著",
    "原著",
    "巨著",
    "论著",
    "编著",
    "译著",
    "遗著",
    "新著",
    "著述",
    "著录",
    "著书",
    "土著",
    "著者",
    "合著",
    "拙著",
    "大著",
    "撰著",
    "著文",
    "著有",
    "所著",
    "著说",
    "著译",
    "彰著",
    "较著",
    "著明",
    "著录",
)
ZHU_RE = re.compile("|".join(sorted(set(ZHU_WORDS), key=len, reverse=True)) + "|著")
PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff]")
MIXED_LOW, MIXED_HIGH = 0.2, 0.8  # traditional share bounds of "mixed"


@dataclass(frozen=True, slots=True)
class ScriptTables:
    t2s: opencc.OpenCC
    s2t: opencc.OpenCC
    traditional_only: frozenset[str]  # characters t2s changes
    simplified_only: frozenset[str]  # characters s2t changes
    protected: tuple[tuple[str, str], ...]  # (simplified, traditional)
    protected_re: re.Pattern[str]
    written_forms: dict[str, str]  # simplified character -> a regex class of it and its traditional forms


def _changed_chars(converter: opencc.OpenCC, chars: list[str]) -> frozenset[str]:
    # newline-separated so that phrase rules never span two characters
    converted = converter.convert("\n".join(chars)).split("\n")
    return frozenset(c for c, out in zip(chars, converted, strict=True) if c != out)


@lru_cache(maxsize=1)
def load_tables() -> ScriptTables:
    # hk2s is t2s after OpenCC's Hong Kong variants: seven characters more (衞 衹 粧 枱 become 卫 只 妆 台)
    t2s, s2t = opencc.OpenCC("hk2s"), opencc.OpenCC("s2t")
    chars = [chr(cp) for cp in range(0x4E00, 0xA000)] + [chr(cp) for cp in range(0x3400, 0x4DC0)]
    text = resources.files("cleaner").joinpath("data/protected_terms.tsv").read_text("utf-8")
    pairs = tuple(tuple(line.split("\t")) for line in text.splitlines() if line and not line.startswith("#"))
    forms = sorted({form for pair in pairs for form in pair}, key=len, reverse=True)
    traditional_only = _changed_chars(t2s, chars)
    simplified = t2s.convert("\n".join(sorted(traditional_only))).split("\n")
    variants: dict[str, set[str]] = {}
    for trad, simp in zip(sorted(traditional_only), simplified, strict=True):
        if len(simp) == 1:
            variants.setdefault(simp, {simp}).add(trad)
    return ScriptTables(
        t2s=t2s,
        s2t=s2t,
        traditional_only=traditional_only,
        simplified_only=_changed_chars(s2t, chars),
        protected=pairs,  # type: ignore[arg-type]
        protected_re=re.compile("|".join(map(re.escape, forms))),
        written_forms={simp: "[" + "".join(sorted(forms)) + "]" for simp, forms in variants.items()},
    )


def as_written(value: str, text: str) -> str | None:
    """``value``, read from a simplified view, as ``text`` (the page in its own script) writes it:
    the first span whose characters are the value's or their traditional forms, or None."""
    forms = load_tables().written_forms
    pattern = "".join(forms.get(char) or re.escape(char) for char in value)
    found = re.search(pattern, text)
    return found.group() if found else None


def count_script_chars(text: str) -> tuple[int, int]:
    """(traditional-only, simplified-only) character counts."""
    tables = load_tables()
    trad = simp = 0
    for char in CJK_RE.findall(text):
        if char in tables.traditional_only:
            trad += 1
        elif char in tables.simplified_only:
            simp += 1
    return trad, simp


def detect_script(text: str) -> str:
    """``zh-Hans``, ``zh-Hant`` or ``mixed`` (``zh-Hans`` when nothing tells)."""
    trad, simp = count_script_chars(text)
    if trad + simp == 0:
        return "zh-Hans"
    share = trad / (trad + simp)
    if share >= MIXED_HIGH:
        return "zh-Hant"
    if share <= MIXED_LOW:
        return "zh-Hans" if trad == 0 or simp >= 3 * trad else "mixed"
    return "mixed"


TRADITIONAL_LANG_RE = re.compile(r"zh[-_](hant|tw|hk|mo)\b", re.IGNORECASE)
TRADITIONAL_TLDS = (".tw", ".hk", ".mo")
CORNER_QUOTES = "「」『』"
CURLY_QUOTES = "“”‘’"


def written_in_traditional(text: str, *, language: str | None, host: str | None) -> bool:
    """Whether traditional text was written so (Taiwan, Hong Kong, Macau) rather than converted to it.

    Evidence in order of trust: the declared language (``zh-Hant``, ``zh-TW``, ``zh-HK``, ``zh-MO``
    against any other declared ``zh``), the page's host under .tw/.hk/.mo, then the quotation
    marks — writing in traditional script quotes with 「」, a character converter leaves the simplified
    page's “”. A Big5 codec is no evidence: mainland sites serve their converted pages in Big5.
    """
    language = (language or "").strip()
    if language.lower().startswith("zh"):  # a template's stray lang="en" says nothing
        return bool(TRADITIONAL_LANG_RE.match(language))
    if host and host.lower().rstrip(".").endswith(TRADITIONAL_TLDS):
        return True
    corner = sum(text.count(mark) for mark in CORNER_QUOTES)
    return corner > 0 and corner > 2 * sum(text.count(mark) for mark in CURLY_QUOTES)


def output_script(target: str, written: str, *, native: bool, keep_native: bool) -> str:
    """The script text is put into: ``target``, except that under ``zh-Hans`` a page written in
    traditional script keeps it when ``keep_native`` (converting it is translation, not repair);
    mixed text and a converter's traditional rendering of a simplified page are still converted."""
    if target == "zh-Hans" and keep_native and native and written == "zh-Hant":
        return "keep"
    return target


def needs_conversion(text: str, target: str) -> bool:
    if target == "keep":
        return False
    tables = load_tables()
    foreign = tables.traditional_only if target == "zh-Hans" else tables.simplified_only
    return any(char in foreign for char in text)


def convert_script(text: str, target: str) -> str:
    """Convert ``text`` to ``target`` (``zh-Hans``/``zh-Hant``/``keep``), protecting place names."""
    if not needs_conversion(text, target):
        return text
    tables = load_tables()
    lookup = {form: i for i, pair in enumerate(tables.protected) for form in pair}
    found: list[int] = []

    def hide(match: re.Match[str]) -> str:
        found.append(lookup[match.group()])
        return chr(PLACEHOLDER_BASE + len(found) - 1)

    # protection needs free placeholders: skip it if the text already uses the private area
    protect = bool(tables.protected) and not PRIVATE_USE_RE.search(text)
    hidden = tables.protected_re.sub(hide, text) if protect else text
    converter = tables.t2s if target == "zh-Hans" else tables.s2t
    out = converter.convert(hidden)
    if target == "zh-Hans" and "著" in out:
        out = ZHU_RE.sub(lambda m: "着" if m.group() == "著" else m.group(), out)
    if not found:
        return out
    form = 0 if target == "zh-Hans" else 1
    return PRIVATE_USE_RE.sub(lambda m: tables.protected[found[ord(m.group()) - PLACEHOLDER_BASE]][form], out)
