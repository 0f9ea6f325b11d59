"""Walk the lines of an article: title, subtitle, info lines, body, furniture.

One pass over normalised lines decides what each line is: furniture (removed,
its kind recorded), a line that carries metadata (read into :class:`Fields`,
then removed), or body text. Lines before the title and after the first
end-of-article marker (editor line, share or print widgets, related links,
copyright) never reach the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cleaner import patterns as p
from cleaner.charclass import CJK_OR_PUNCT, count_cjk
from cleaner.metadata import Fields, clean_summary, news_outlet, read_info_line, split_keywords, split_names

HEAD, META, BODY, TAIL = "head", "meta", "body", "tail"
PARAGRAPH_SPLIT_RE = re.compile(f"(?<=[{CJK_OR_PUNCT}.|｜])[ \\t\u3000]+(?=[{CJK_OR_PUNCT}|｜])")
OPENING, CLOSING = "（(【[", "）)】]"
SUBTITLE_RE = re.compile(r"^\s*(?:——|—|--)\s*(.+)$")
TITLE_MAX, INFO_MAX, CREDIT_MAX = 80, 120, 60


@dataclass(slots=True)
class Layout:
    body: list[str] = field(default_factory=list)
    fields: Fields = field(default_factory=Fields)
    removed: list[str] = field(default_factory=list)
    spam_lines: int = 0
    title_hint: str | None = None  # the known title the walk was given
    guesses: Fields = field(default_factory=Fields)  # inferred, not stated: used for what nothing else fills

    def remove(self, kind: str) -> None:
        if kind not in self.removed:
            self.removed.append(kind)


def is_spam(view: str) -> bool:
    hits = set(p.SPAM_RE.findall(view))
    return len(hits) >= 3 or (len(hits) >= 2 and "_" in view) or bool(p.SEO_KEYWORDS_RE.match(view))


def furniture_kind(view: str) -> str | None:
    if view.count("\ufffd") * 2 >= len(view.strip()):
        return "undecodable"  # characters already lost in the stored bytes
    running_text = len(view) >= p.SENTENCES_LEN and len(p.SENTENCE_MARK_RE.findall(view)) >= p.SENTENCES_MIN
    if running_text:
        return None
    short = len(view) <= p.WIDGET_MAX and not view.rstrip().endswith(("。", "！", "？"))  # widgets are no sentences
    for kind, pattern in p.FURNITURE:
        if (short or kind not in p.WIDGET_KINDS) and pattern.search(view):
            return kind
    return None


def is_info_line(view: str) -> bool:
    if len(view) > INFO_MAX:
        return False
    starts_with_date = p.DATE_RE.match(view.strip()) is not None
    return starts_with_date or bool(p.INFO_LABEL_RE.search(view))


def looks_like_title(view: str) -> bool:
    stripped = view.strip()
    return 4 <= len(stripped) <= TITLE_MAX and count_cjk(stripped) >= 4 and stripped[-1] not in "。；，：:;,"


def split_paragraphs(line: str) -> list[str]:
    """A flattened page joins paragraphs with a space between CJK text: split there, but never
    inside brackets (a byline ``（记者 石河芳 通讯员 赵敬）`` is one piece of its paragraph)."""
    parts: list[str] = []
    start = seen = depth = 0
    for gap in PARAGRAPH_SPLIT_RE.finditer(line):
        depth = max(0, depth + _bracket_depth(line[seen : gap.start()]))
        seen = gap.start()
        if depth > 0:
            continue
        parts.append(line[start : gap.start()])
        start = gap.end()
    parts.append(line[start:])
    return [part for part in (x.strip(" \t|｜\u3000") for x in parts) if part]


def _bracket_depth(text: str) -> int:
    """Brackets ``text`` opens and leaves open (negative when it closes more than it opens)."""
    return sum(map(text.count, OPENING)) - sum(map(text.count, CLOSING))


def body_line(line: str, view: str, layout: Layout) -> None:
    """A line of the body (``line``, in the target script); its metadata is read off ``view`` (simplified)."""
    trailing = p.TRAILING_BYLINE_RE.search(line)
    if trailing:
        names = p.TRAILING_BYLINE_RE.search(view) or trailing
        layout.fields.add_authors(split_names(names.group(1)), "text:byline")
        layout.remove("byline")
        line = line[: trailing.start()]
    for inline in p.INLINE_BYLINE_RE.finditer(view):
        layout.fields.add_authors(split_names(inline.group(2)), "text:byline")
        if outlet := news_outlet(inline.group(1)):
            layout.guesses.offer("source", outlet, "text:byline_outlet")
    if (editor := p.TRAILING_EDITOR_RE.search(view)) and (names := split_names(editor.group(1))):
        layout.fields.offer("editor", names[0], "text:编辑")
    if len(layout.body) < 3 and (dateline := p.DATELINE_RE.match(view)):  # "新华社北京5月1日电", "腾讯音乐讯"
        layout.guesses.offer("source", dateline.group(1), "text:dateline")
    layout.body.extend(split_paragraphs(line))


def walk_lines(
    lines: list[str],
    views: list[str],
    *,
    title: str | None = None,
    fields: Fields | None = None,
    page_breaks: frozenset[int] = frozenset(),
) -> Layout:
    """Label every line; ``title`` is the known title (from HTML), ``fields`` what is already known.

    ``page_breaks`` are the indices of lines that start a later page of a multi-page article:
    the walk starts again from a head there (each page repeats its title and info lines)."""
    layout = Layout(fields=fields if fields is not None else Fields(), title_hint=title)
    fields = layout.fields
    phase = HEAD
    title_view = title.strip() if title else None
    for index, (line, view) in enumerate(zip(lines, views, strict=True)):
        view = view.strip()
        if index in page_breaks:
            phase = HEAD
        if not view:
            continue
        if is_spam(view):
            layout.spam_lines += 1
            layout.remove("seo spam line")
            continue
        if keywords := p.KEYWORDS_RE.match(view):
            fields.offer("keywords", split_keywords(keywords.group(1)), "text:关键词")
            fields.keywords = fields.keywords if fields.keywords is not None else []
            layout.remove("keywords line")
            phase = TAIL if phase == BODY else phase
            continue
        if p.EDITOR_LINE_RE.match(view):
            read_info_line(view, fields)
            layout.remove("editor line")
            phase = TAIL if phase == BODY else phase
            continue
        if len(view) <= CREDIT_MAX and p.CREDIT_LINE_RE.match(view):  # "（本文来源：经济日报 作者：…）"
            read_info_line(view, fields)
            layout.remove("credit line")
            phase = TAIL if phase == BODY else phase
            continue
        if phase == TAIL:
            layout.remove(furniture_kind(view) or "footer")
            continue
        if phase != BODY and (summary := p.SUMMARY_RE.match(view)):
            fields.offer("summary", clean_summary(summary.group(1)), "text:摘要")
            layout.remove("summary box")
            continue
        if phase != BODY and is_info_line(view):
            read_info_line(view, fields)
            layout.remove("info line")
            continue
        if kind := furniture_kind(view):
            layout.remove(kind)
            if phase == BODY and kind in p.END_KINDS:
                phase = TAIL
            continue
        if len(view) <= 40 and p.BYLINE_RE.match(view):
            fields.add_authors(split_names(view), "text:byline")
            layout.remove("byline")
            continue
        if phase == HEAD:
            if title_view is not None:
                if view == title_view or view in title_view:
                    layout.remove("title")
                    phase = META
                    continue
                phase = BODY
            elif looks_like_title(view):
                fields.offer("title", line.strip(), "text:first_line")
                phase = META
                continue
            else:
                phase = BODY
        if phase == META:
            subtitle = SUBTITLE_RE.match(line)
            if subtitle and fields.subtitle is None and not layout.body:
                fields.offer("subtitle", subtitle.group(1).strip(), "text:dash_line")
                continue
        phase = BODY
        body_line(line, view, layout)
    if fields.keywords is None and "keywords line" in layout.removed:
        fields.keywords = []
    return layout
