"""Metadata from labelled text: dates, authors, source, editor, keywords, summary.

Each function takes one normalised, simplified line and returns what it found
(or nothing); the line walker in :mod:`cleaner.layout` decides which lines to ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from cleaner import patterns as p

CN_TZ = "+08:00"


def format_date(match: re.Match[str]) -> str | None:
    """ISO 8601 at the precision shown: ``2020-02-17`` or ``2020-02-17T11:31:00+08:00``."""
    year, month, day, hour, minute, second = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if hour is None:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + CN_TZ


def find_date(text: str, *, labelled_only: bool = False) -> str | None:
    """First valid date in ``text``; a labelled one (发布时间：…) wins over a bare one."""
    label = p.DATE_LABEL_RE.search(text)
    if label:
        match = p.DATE_RE.match(text, label.end())
        if match and (found := format_date(match)):
            return found
    if labelled_only:
        return None
    for match in p.DATE_RE.finditer(text):
        if found := format_date(match):
            return found
    return None


def split_names(text: str) -> list[str]:
    """Names from a byline fragment: role words and separators out, 2–4 character names kept."""
    names = []
    for token in re.split(r"[\s、，,;；/／□■●:：]+", text):
        token = p.ROLE_PREFIX_RE.sub("", token.strip("()（）"))
        if p.NAME_RE.match(token) and token not in names:
            names.append(token)
    return names


def split_keywords(text: str) -> list[str]:
    return [k for k in re.split(r"[\s,，、;；|｜]+", text.strip()) if k]


def clean_summary(text: str) -> str:
    """Drop the truncation mark a summary box ends with (``…打响。...``)."""
    return re.sub(r"(?<=[。！？”])\s*(?:\.{2,}|…+)\s*$", "", text.strip())


@dataclass(slots=True)
class Fields:
    """Metadata collected while walking lines, with the source of each field."""

    title: str | None = None
    subtitle: str | None = None
    summary: str | None = None
    published_at: str | None = None
    source: str | None = None
    editor: str | None = None
    authors: list[str] = field(default_factory=list)
    keywords: list[str] | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: object, origin: str) -> None:
        """Set ``name`` unless an earlier (more trusted) source already did."""
        if value in (None, "", []) or getattr(self, name) not in (None, "", []):
            return
        setattr(self, name, value)
        self.sources[name] = origin

    def add_authors(self, names: list[str], origin: str) -> None:
        new = [n for n in names if n not in self.authors]
        if new:
            self.authors.extend(new)
            self.sources.setdefault("authors", origin)


def read_info_line(line: str, fields: Fields, origin: str = "text") -> None:
    """Date, source, editor and authors from an info line such as
    ``2020年02月17日 11:31 | 作者：高峰 通讯员 刘海武 | 来源：人民政协网``."""
    fields.offer("published_at", find_date(line), f"{origin}:date")
    if source := p.SOURCE_RE.search(line):
        fields.offer("source", source.group(1), f"{origin}:来源")
    if editor := p.EDITOR_RE.search(line):
        fields.offer("editor", editor.group(1), f"{origin}:编辑")
    if author := p.AUTHOR_LABEL_RE.search(line):
        fields.add_authors(split_names(author.group(1)), f"{origin}:作者")
