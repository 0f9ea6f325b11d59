"""Choose the headline among candidates, with one scoring function.

Candidates: ``<meta>`` titles (the government ``ArticleTitle``, ``og:title``,
``twitter:title``), the ``<title>`` and its first segment, and the page's
headings (``h1``–``h3``, title-classed blocks, big ``<font>``). A heading
gains from its tag, from being repeated by the ``<title>`` or a meta title,
and from sitting just before (or at the top of) the chosen body; it loses when
it is link text or names the site or channel (a later segment of the
``<title>``, such as ``新闻中心`` or ``网易商业``). The best candidate wins; its
origin and the runner-up go into ``field_sources``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from cleaner.blocks import Block, PageBlocks
from cleaner.charclass import count_cjk
from cleaner.layout import furniture_kind
from cleaner.patterns import DATE_RE, INFO_LABEL_RE
from cleaner.settings import CleanerSettings

# "标题_频道_网站", "标题 - 网站", "标题-纪检" (a bare hyphen only between CJK: "COVID-19" stays whole)
TITLE_SPLIT_RE = re.compile(r"\s*(?:_|\||｜| - | – | — |－|--|(?<=[\u4e00-\u9fff])-(?=[\u4e00-\u9fff]))\s*")
# a site name glued to the end of a <title> with a bare hyphen: "…一块顶十块GPU-EDN 电子技术设计"
SUFFIX_RE = re.compile(r"-(?=[^-]+$)")
NAVIGATION_RE = re.compile(r"首页|[>＞»]|当前位置|您的位置")
# title-classed blocks: "title", "biaoti", "bt", and the "tit" of "xl-tit", "article_tit"
TITLE_CLASS_RE = re.compile(r"title|biaoti|headline|\bbt\b|(?:^|[\s_-])tit(?:$|[\s_-])|^h1$", re.IGNORECASE)
META_TITLES = ("articletitle", "og:title", "twitter:title", "headline", "title")
HEADING_WEIGHT = {"h1": 3.0, "h2": 2.0, "h3": 1.0, "h4": 0.5, "h5": 0.5, "h6": 0.5}
MAX_TITLE = 80


@dataclass(frozen=True, slots=True)
class TitleCandidate:
    text: str
    origin: str
    score: float
    block: Block | None = None


def squash(text: str) -> str:
    return "".join(text.split())


def title_segments(page_title: str) -> list[str]:
    """``文章标题_频道_网站`` → its segments, in page order."""
    return [s for s in TITLE_SPLIT_RE.split(page_title) if s]


def heading_text(lines: list[str]) -> str:
    """A heading's text up to an info line or a date inside it (a headline block may hold its info line)."""
    kept = []
    for line in lines:
        if kept and (INFO_LABEL_RE.search(line) or DATE_RE.search(line)):
            break
        kept.append(line)
    return " ".join(" ".join(kept).split())


def _heading_blocks(page: PageBlocks) -> list[tuple[Block, float]]:
    found: list[tuple[Block, float]] = []
    for block in page.blocks:
        node = block.node
        weight = HEADING_WEIGHT.get(block.tag)
        if weight is None:
            if not 4 <= block.cjk <= MAX_TITLE:
                continue
            classes = f"{node.get('class', '')} {node.get('id', '')}"
            if TITLE_CLASS_RE.search(classes):
                weight = 2.0
            elif block.tag == "font" and (node.get("size") or "").strip() in ("5", "6", "7", "+2", "+3"):
                weight = 1.5
            else:
                continue
        if 4 <= block.cjk <= MAX_TITLE:
            found.append((block, weight))
    return found


@dataclass(frozen=True, slots=True)
class TitleEvidence:
    """What the page says of its headline, scored once; the body's place is added per choice."""

    headings: tuple[TitleCandidate, ...]
    stated: tuple[TitleCandidate, ...]  # <meta> titles and the <title>


def title_evidence(page: PageBlocks, meta: dict[str, str], page_title: str) -> TitleEvidence:
    segments = title_segments(page_title)
    keys = {squash(s) for s in segments}
    in_title = squash(page_title)
    meta_titles = {squash(meta[name]) for name in META_TITLES if meta.get(name)}
    headings: list[TitleCandidate] = []
    for block, weight in _heading_blocks(page):
        text = heading_text(page.lines_of(block))
        key = squash(text)
        if count_cjk(text) < 4 or len(text) > MAX_TITLE:
            continue
        score = weight
        if key in keys:
            score += 4.0
        elif key in in_title or any(k in key for k in keys if count_cjk(k) >= 4):
            score += 2.0
        if key in meta_titles or any(key and key in m for m in meta_titles):
            score += 3.0
        if block.in_link or block.link_density > 0.5:
            score -= 4.0
        if NAVIGATION_RE.search(text):  # a breadcrumb: 首页 > 新闻动态
            score -= 4.0
        if furniture_kind(text):  # a box's heading: 相关报道, 热点推荐, 更多
            score -= 6.0
        headings.append(TitleCandidate(text, f"html:{block.tag}", score, block))
    stated: list[TitleCandidate] = []
    for name in META_TITLES:
        value = " ".join(meta.get(name, "").split())
        if count_cjk(value) >= 4 and len(value) <= 2 * MAX_TITLE:
            first = title_segments(value)[0] if name == "title" else value
            stated.append(TitleCandidate(first, f"meta:{name}", 3.0 if name != "title" else 1.5))
    longest = max(segments, key=len, default="")
    if count_cjk(longest) >= 4:
        stated.append(TitleCandidate(longest, "html:title", 2.0 if len(segments) > 1 else 1.5))
        # the <title>'s article segment shown on the page in an unmarked block is a heading too
        headed = {id(c.block) for c in headings}
        for form in dict.fromkeys((longest, *SUFFIX_RE.split(longest, maxsplit=1)[:1])):
            block = block_showing(page, form)
            if block is not None and id(block) not in headed and count_cjk(form) >= 4:
                headings.append(TitleCandidate(form, f"html:{block.tag}=title", 5.0, block))
    return TitleEvidence(tuple(headings), tuple(stated))


def block_showing(page: PageBlocks, text: str) -> Block | None:
    """The innermost block whose whole text is ``text`` (the first, in page order)."""
    key, cjk = squash(text), count_cjk(text)
    found = None
    for block in page.blocks:
        if block.cjk == cjk and not block.in_link and squash(" ".join(page.lines_of(block))) == key:
            found = block  # keep descending: a later match inside it is more precise
        elif found is not None and not found.contains(block):
            break
    return found


def _near_body(block: Block, body: tuple[Block, ...], settings: CleanerSettings) -> float:
    if not body:
        return 0.0
    first = body[0]
    if first.contains(block):
        return 2.0 if block.start - first.start <= settings.headline_gap_cjk else -2.0
    gap = first.start - block.end
    return 3.0 if 0 <= gap <= settings.headline_gap_cjk else 0.0


def choose_title(
    evidence: TitleEvidence, body: tuple[Block, ...], settings: CleanerSettings
) -> tuple[TitleCandidate | None, TitleCandidate | None]:
    """The best title candidate, with the body's place counted, and the runner-up with another text."""
    near = [replace(c, score=c.score + _near_body(c.block, body, settings)) for c in evidence.headings if c.block]
    # a tie goes to the longer text: site and channel names are short
    ranked = sorted([*near, *evidence.stated], key=lambda c: (c.score, len(c.text)), reverse=True)
    if not ranked:
        return None, None
    best = ranked[0]
    runner = next((c for c in ranked[1:] if squash(c.text) != squash(best.text)), None)
    return best, runner
