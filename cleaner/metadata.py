"""Metadata from labelled text: dates, authors, source, editor, keywords, summary.

Each function takes one normalised, simplified line and returns what it found
(or nothing); the line walker in :mod:`cleaner.layout` decides which lines to ask.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cleaner import patterns as p

CN_TZ = "+08:00"
UNLABELLED_SOURCE_MAX = 16  # a source with no label is a short name
SPACED_NAME_RE = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])[ \u3000]{1,3}([\u4e00-\u9fff])(?![\u4e00-\u9fff])")


def format_date(match: re.Match[str]) -> str | None:
    """ISO 8601 at the precision shown: ``2020-02-17`` or ``2020-02-17T11:31:00+08:00`` (a 12-hour
    clock's ``下午8:21`` is 20:21)."""
    hour, half = match.group("hour"), match.group("half")
    clock = int(hour or 0)
    if half in p.AFTERNOON and clock < 12 and not (half == "中午" and clock >= 11):
        clock += 12
    try:
        moment = datetime(
            int(match.group("year")),
            int(match.group("month")),
            int(match.group("day")),
            clock,
            int(match.group("minute") or 0),
            int(match.group("second") or 0),
        )
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
    if month := p.MONTH_NAME_DATE_RE.search(text):  # "十一月 6th, 2009" (a Chinese-locale blog date)
        name, day, year = month.groups()
        with suppress(ValueError):
            return datetime(int(year), p.MONTH_NAMES.index(name) + 1, int(day)).strftime("%Y-%m-%d")
    return None


def timestamp_date(seconds: str) -> str | None:
    """A Unix timestamp (as pages keep in scripts) as ISO 8601 in China time."""
    try:
        moment = datetime.fromtimestamp(int(seconds), tz=timezone(timedelta(hours=8)))
    except (ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + CN_TZ


def split_names(text: str) -> list[str]:
    """Names from a byline fragment: role words and separators out, 2–4 character names kept."""
    names = []
    text = SPACED_NAME_RE.sub(
        r"\1\2", p.REPORT_TAIL_RE.sub("", text.strip())
    )  # "方  敏" is one name, spaced out to the width of three
    for token in re.split(r"[\s、，,;；/／□■●:：&＆]+", text):
        token = p.OUTLET_PREFIX_RE.sub("", token.strip("()（）"))  # "中央社记者温贵香" → "温贵香"
        token = p.JOB_TITLE_PREFIX_RE.sub("", token)  # "研究员徐占忱" → "徐占忱"
        token = p.CREDIT_SUFFIX_RE.sub("", p.ROLE_PREFIX_RE.sub("", token))
        if p.NAME_RE.match(token) and not p.JOB_TITLE_RE.match(token) and token not in names:
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

    def absorb(self, other: Fields) -> None:
        """Take from ``other`` what is still open here (this object's values are the more trusted)."""
        for name in ("title", "subtitle", "summary", "published_at", "source", "editor", "keywords"):
            self.offer(name, getattr(other, name), other.sources.get(name, "page"))
        if not self.authors:
            self.add_authors(other.authors, other.sources.get("authors", "page"))
        for name, origin in other.sources.items():
            self.sources.setdefault(name, origin)

    def add_authors(self, names: list[str], origin: str) -> None:
        new = [n for n in names if n not in self.authors]
        if new:
            self.authors.extend(new)
            self.sources.setdefault("authors", origin)


def clean_source(value: str) -> str | None:
    """A source as the page shows it, without what is glued to it: ``人民日报2024-05-13`` → ``人民日报``,
    ``21世纪经济报道(广州)`` → ``21世纪经济报道``, ``游民星空[整理]`` → ``游民星空``."""
    value = p.DATE_RE.split(value, maxsplit=1)[0]
    value = p.SOURCE_NOISE_RE.sub("", value).strip(" :：|｜-—_/")
    return value if 2 <= len(value) <= 30 and p.NAME_LIKE_RE.match(value) else None


def news_outlet(text: str | None) -> str | None:
    """The outlet named before a reporter (``中央社``记者, ``《中国企业家》``记者), if it names one."""
    if not text:
        return None
    quoted = text.startswith("《") and text.endswith("》")
    name = text.strip("《》 ")
    if len(name) < 2 or name in p.OWN_OUTLET or not (quoted or p.ORGANISATION_RE.search(name)):
        return None
    return name


def join_labels(lines: list[str], *, dates: bool = False) -> list[str]:
    """Lines with a label alone on its line joined to the next (``责任编辑:`` / ``于文凯``), a label glued
    to its value given its colon, and with ``dates`` a date set in pieces joined (``2019`` / ``09/07``)."""
    joined: list[str] = []
    for line in lines:
        if joined and p.LABEL_ONLY_RE.match(joined[-1]):
            joined[-1] = f"{joined[-1]}{line}"
        elif dates and joined and (glue := _date_part_glue(joined[-1], line)) is not None:
            joined[-1] = f"{joined[-1]}{glue}{line}"  # a date set in pieces: "2019" / "09/07" / "19:02"
        else:
            joined.append(p.BARE_LABEL_RE.sub(r"\1：", line, count=1))
    return joined


def read_head_zone(lines: list[str], fields: Fields, *, title: str | None = None, origin: str = "page") -> None:
    """The lines under a headline: labelled values, the date, and the unlabelled names beside the date.

    A label alone on its line takes the next line as its value (``来源:`` / ``21世纪经济报道``)."""
    joined = join_labels(lines, dates=True)
    date_at = None
    for i, line in enumerate(joined):
        read_info_line(line, fields, origin=origin)
        if date_at is None and (p.DATE_RE.search(line) or p.DATE_LABEL_RE.search(line)):
            date_at = i
    for line in joined:  # "石佳/中国青年报": a name and its paper under the headline
        if (pair := p.NAME_SLASH_OUTLET_RE.match(line)) and news_outlet(pair.group(2)):
            fields.add_authors([pair.group(1)], f"{origin}:byline")
            fields.offer("source", pair.group(2), f"{origin}:byline")
    if date_at is not None:
        for value, role in _beside_date(joined, date_at, title):
            if p.INFO_LABEL_RE.search(value) or p.WIDGET_WORD_RE.search(value) or len(value) > UNLABELLED_SOURCE_MAX:
                continue
            if (name := clean_source(value)) is None:
                continue
            if role == "source" and fields.source is None:
                fields.offer("source", name, f"{origin}:beside_date")
            elif role == "account" and not fields.authors and not p.COLUMN_NAME_RE.search(name):
                fields.add_authors([name], f"{origin}:account")


def _date_part_glue(previous: str, line: str) -> str | None:
    """How a line continues a date the line before began, or None when it does not."""
    if p.YEAR_ONLY_RE.match(previous) and p.MONTH_DAY_RE.match(line):
        return "/"
    if p.TIME_ONLY_RE.match(line) and (date := p.DATE_RE.search(previous)) and date.group("hour") is None:
        return " "
    return None


def is_organisation(name: str) -> bool:
    """An organisation's name, or one with its section after a hyphen (``香港电台-财经``)."""
    return any(p.ORGANISATION_RE.search(part) for part in re.split(r"\s*[-－—]\s*", name) if part)


def _beside_date(joined: list[str], at: int, title: str | None) -> list[tuple[str, str]]:
    """Unlabelled names around the date line, with the role their place gives them.

    Glued to the date, or alone on the next line: the source (``2019-09-05 11:10 游民星空``,
    ``2018年12月28日 19:55`` / ``新京报``). Alone on the line before: the source when it names an
    organisation (``上海证券报网络版``), else the account that wrote it (self-media: ``IT之家``)."""
    line = joined[at]
    match = p.DATE_RE.search(line) or p.DATE_LABEL_RE.search(line)
    if match is None:
        return []
    after = p.VALUE_END_RE.split(line[match.end() :], maxsplit=1)[0].split()
    before = p.INFO_LABEL_RE.split(line[: match.start()])[-1].split()
    found = [(after[0] if after else "", "source"), (before[-1] if before else "", "source")]
    if glued := p.NAME_AFTER_NOTE_RE.search(line, match.end()):  # "环球时报[微博]单仁平我要评论(0)"
        found.append((glued.group(1), "account"))
    for j, role in ((at + 1, "source"), (at - 1, "account")):
        neighbour = p.VALUE_END_RE.split(joined[j], maxsplit=1)[0].strip() if 0 <= j < len(joined) else ""
        if neighbour and not (title and neighbour in title) and len(neighbour.split()) == 1:
            found.append((neighbour, "source" if role == "source" or is_organisation(neighbour) else role))
    return found


def read_info_line(line: str, fields: Fields, origin: str = "text") -> None:
    """Date, source, editor and authors from an info line such as
    ``2020年02月17日 11:31 | 作者：高峰 通讯员 刘海武 | 来源：人民政协网``."""
    fields.offer("published_at", find_date(line), f"{origin}:date")
    if (source := p.SOURCE_RE.search(line)) and (value := clean_source(source.group(1))):
        fields.offer("source", value, f"{origin}:来源")
    if editor := p.EDITOR_RE.search(line):
        fields.offer("editor", editor.group(1), f"{origin}:编辑")
    if author := p.AUTHOR_LABEL_RE.search(line):
        fields.add_authors(split_names(author.group(1)), f"{origin}:作者")
    elif reporter := p.REPORTER_RE.search(line):
        fields.add_authors(split_names(reporter.group(1)), f"{origin}:记者")
    if outlet := p.OUTLET_RE.search(line):
        fields.offer("source", news_outlet(outlet.group(1)), f"{origin}:记者")
