"""Furniture in a body-text fragment: which lines of a fragment are page furniture.

The page walk (:func:`cleaner.layout.walk_lines`) knows where a page's head and tail
are; a fragment (``repair_text``) has neither, so every line is judged on its own,
with the same patterns (:mod:`cleaner.patterns`): SEO spam, keyword, editor and
summary lines, info lines (a date or a ``来源:`` label), the furniture kinds. A
related-links header also takes the list under it: list items and headlines (lines
that end no sentence) up to the next line that does.
"""

from __future__ import annotations

from cleaner import patterns as p
from cleaner.layout import INFO_MAX, furniture_kind, is_spam

LIST_KINDS = frozenset({"related links", "more links"})


def fragment_line_kind(view: str) -> str | None:
    """The kind of furniture a (simplified, stripped) line of a fragment is, or None for text."""
    if is_spam(view):
        return "seo spam line"
    if p.KEYWORDS_RE.match(view):
        return "keywords line"
    if p.EDITOR_LINE_RE.match(view):
        return "editor line"
    if p.SUMMARY_RE.match(view):
        return "summary box"
    if len(view) <= INFO_MAX and p.INFO_LABEL_RE.search(view) and not p.SENTENCE_END_RE.search(view):
        return "info line"
    return furniture_kind(view)


def drop_furniture(lines: list[str], views: list[str]) -> list[str]:
    """The lines of a fragment that are text (stripped), furniture and blank lines left out."""
    kept: list[str] = []
    in_list = False
    for line, view in zip(lines, views, strict=True):
        view = view.strip()
        if not view:
            continue
        kind = fragment_line_kind(view)
        if kind is not None:
            in_list = kind in LIST_KINDS
            continue
        if in_list and (p.LIST_ITEM_RE.match(view) or not p.SENTENCE_END_RE.search(view)):
            continue
        in_list = False
        kept.append(line.strip())
    return kept
