"""Extract the article body lines and the page's own metadata from HTML.

Body, in order (the first that delivers wins):
1. **CMS container hints** (:data:`cleaner.selectors.CONTAINER_HINTS`): the
   editor container of TRS, 大汉, 政务云 and site-group templates, taken when
   it holds at least ``MIN_HINT_CJK`` CJK characters at a link density below
   ``MAX_LINK_DENSITY``. Cheapest and, on our fixture pages, the most precise.
2. **trafilatura** (``bare_extraction``, fast mode, on the parsed tree) when no
   hint matches and it returns at least ``MIN_BODY_CJK`` CJK characters.
3. **Chinese text density**: the block with the most CJK characters and
   sentence punctuation outside links.

Metadata, in order: the government ``<meta>`` set (ArticleTitle, PubDate,
ContentSource, Author), then labelled Chinese patterns in the page text
(发布时间, 来源, 作者), then the first bare date after the title, then htmldate.
The source of each field is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from cssselect import SelectorError
from cssselect.xpath import ExpressionError
from lxml import etree

from cleaner import selectors as sel
from cleaner.charclass import count_cjk
from cleaner.hints import PageHints
from cleaner.layout import is_info_line
from cleaner.metadata import Fields, find_date, read_info_line
from cleaner.reasons import Reason, Reject
from cleaner.script import convert_script
from cleaner.settings import CleanerSettings

MIN_HINT_CJK = 40
MIN_BODY_CJK = 60
MAX_LINK_DENSITY = 0.5
XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
TITLE_SPLIT_RE = re.compile(r"\s*(?:_|\||｜| - | – | — |－)\s*")
SENTENCE_PUNCT_RE = re.compile("[，。；！？]")


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str | None
    lines: tuple[str, ...]
    body_source: str
    meta_fields: Fields = field(default_factory=Fields)
    page_fields: Fields = field(default_factory=Fields)

    def initial_fields(self, title: str | None) -> Fields:
        """What the page states outright (title, ``<meta>``): trusted before any text pattern."""
        fields = Fields()
        fields.offer("title", title, self.meta_fields.sources.get("title", "html"))
        self._merge(self.meta_fields, fields)
        return fields

    def fill_fields(self, target: Fields) -> None:
        """Fill what the article lines left open from the rest of the page."""
        self._merge(self.page_fields, target)

    @staticmethod
    def _merge(source: Fields, target: Fields) -> None:
        for name in ("published_at", "source", "editor", "summary"):
            target.offer(name, getattr(source, name), source.sources.get(name, "page"))
        if not target.authors:
            target.add_authors(source.authors, source.sources.get("authors", "page"))


def parse(html: str) -> lxml.html.HtmlElement:
    html = XML_DECL_RE.sub("", html, count=1)
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as error:
        raise Reject(Reason.PARSE_ERROR, f"the page does not parse as HTML: {error}") from error
    if root is None or root.find("body") is None:
        raise Reject(Reason.NO_BODY, "the page has no <body>")
    return root


def element_lines(element: etree._Element) -> list[str]:
    """Text of ``element`` with a line break at every block boundary."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in sel.SKIP_TAGS or not isinstance(node.tag, str):
            if node.tail:
                parts.append(node.tail)
            return
        block = tag in sel.BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    walk(element)
    text = "".join(parts).replace("\xa0", " ").replace("\u3000", " ")
    return [line.strip() for line in text.split("\n") if line.strip()]


def link_density(element: etree._Element, total: int) -> float:
    linked = sum(count_cjk(a.text_content()) for a in element.iter("a"))
    return linked / total if total else 1.0


def meta_values(root: lxml.html.HtmlElement) -> dict[str, str]:
    values: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if name and content and name not in values:
            values[name] = content
    return values


def heading_candidates(root: lxml.html.HtmlElement) -> list[str]:
    """Headline-like texts, strongest first (h1, then CMS title cells, then h2), never link text."""
    ranked: list[tuple[int, int, str]] = []
    for order, node in enumerate(root.xpath(sel.TITLE_XPATH)):
        if node.tag == "title" or any(a.tag == "a" for a in node.iterancestors()) or node.find(".//a") is not None:
            continue
        text = " ".join(node.text_content().split())
        if 4 <= len(text) <= 80 and count_cjk(text) >= 4:
            rank = 0 if node.tag == "h1" else 2 if node.tag == "h2" else 1
            ranked.append((rank, order, text))
    return [text for _, _, text in sorted(ranked)]


def find_title(root: lxml.html.HtmlElement, meta: dict[str, str], fields: Fields) -> str | None:
    """meta ArticleTitle/og:title → a heading the <title> repeats → the <title>'s first
    segment when it has several → the strongest heading → the whole <title>."""
    for name in sel.META_TITLE:
        if meta.get(name) and count_cjk(meta[name]) >= 2:
            fields.sources["title"] = f"meta:{name}"
            return meta[name].strip()
    page_title = " ".join((root.findtext(".//title") or "").split())
    candidates = heading_candidates(root)
    in_title = [c for c in candidates if c in page_title]
    if in_title:
        fields.sources["title"] = "html:heading=title"
        return max(in_title, key=len)
    segments = TITLE_SPLIT_RE.split(page_title) if page_title else []
    if len(segments) > 1 and count_cjk(segments[0]) >= 4:
        fields.sources["title"] = "html:title"
        return segments[0]
    if candidates:
        fields.sources["title"] = "html:heading"
        return candidates[0]
    if page_title:
        fields.sources["title"] = "html:title"
        return page_title
    return None


def read_meta(meta: dict[str, str]) -> Fields:
    fields = Fields()
    for name in sel.META_DATE:
        if meta.get(name):
            fields.offer("published_at", find_date(meta[name]), f"meta:{name}")
    for name in sel.META_SOURCE:
        fields.offer("source", meta.get(name), f"meta:{name}")
    for name in sel.META_AUTHOR:
        names = [
            n for n in re.split(r"[\s,，、;；]+", meta.get(name, "")) if 2 <= len(n) <= 4 and count_cjk(n) == len(n)
        ]
        fields.add_authors(names, f"meta:{name}")
    return fields


def read_page(lines: list[str], title: str | None) -> Fields:
    """Labelled info lines anywhere in the page; else the first date after the title."""
    fields = Fields()
    after_title = 0
    for i, line in enumerate(lines):
        if title and title in line:
            after_title = after_title or i
        if is_info_line(line):
            read_info_line(line, fields, origin="page")
    if fields.published_at is None:
        for line in lines[after_title:]:
            if len(line) <= 60 and (date := find_date(line)):
                fields.offer("published_at", date, "page:first_date")
                break
    return fields


def container(root: lxml.html.HtmlElement) -> tuple[etree._Element, str] | None:
    for name, xpath in sel.CONTAINER_HINTS:
        best: tuple[int, etree._Element] | None = None
        for node in root.xpath(xpath):
            cjk = count_cjk(node.text_content())
            if cjk >= MIN_HINT_CJK and link_density(node, cjk) < MAX_LINK_DENSITY and (best is None or cjk > best[0]):
                best = (cjk, node)
        if best is not None:
            return best[1], f"hint:{name}"
    return None


def densest_block(root: lxml.html.HtmlElement) -> etree._Element | None:
    best: tuple[float, etree._Element] | None = None
    for node in root.xpath(sel.DENSITY_CANDIDATES):
        text = node.text_content()
        cjk = count_cjk(text)
        if cjk < MIN_BODY_CJK:
            continue
        linked = link_density(node, cjk)
        score = cjk * (1 - linked) + 20 * len(SENTENCE_PUNCT_RE.findall(text))
        # prefer the innermost block that keeps most of the score: penalise size mildly
        score -= 0.05 * len(text)
        if best is None or score > best[0]:
            best = (score, node)
    return best[1] if best else None


def trafilatura_lines(root: lxml.html.HtmlElement, url: str | None) -> list[str]:
    import trafilatura  # heavy import, only when the fallback is needed

    document = trafilatura.bare_extraction(
        lxml.html.fromstring(lxml.html.tostring(root)), url=url, fast=True, include_comments=False, include_tables=True
    )
    text = getattr(document, "text", None) or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def hinted_node(root: lxml.html.HtmlElement, selector: str | None) -> etree._Element | None:
    """The match of a site's CSS selector with the most CJK text (None if it matches nothing)."""
    if not selector:
        return None
    try:
        nodes = root.cssselect(selector)
    except (SelectorError, ExpressionError):
        return None
    return max(nodes, key=lambda n: count_cjk(n.text_content()), default=None)


def apply_hints(root: lxml.html.HtmlElement, hints: PageHints, fields: Fields) -> tuple[etree._Element, str] | None:
    """Title and date from the site's selectors into ``fields`` (first, before the page's own);
    returns the body container the site names, when it holds enough text."""
    title = hinted_node(root, hints.title_selector)
    if title is not None and count_cjk(title.text_content()) >= 2:
        fields.title = None
        fields.offer("title", " ".join(title.text_content().split()), "site:title")
    date = hinted_node(root, hints.date_selector)
    if date is not None:
        fields.published_at = None
        fields.offer("published_at", find_date(date.text_content()), "site:date")
    body = hinted_node(root, hints.body_selector)
    if body is not None and count_cjk(body.text_content()) >= MIN_HINT_CJK:
        return body, "site:body"
    return None


def extract_html(html: str, *, url: str | None, settings: CleanerSettings, hints: PageHints | None = None) -> Extracted:
    root = parse(html)
    meta = meta_values(root)
    meta_fields = read_meta(meta)
    title = find_title(root, meta, meta_fields)
    body = root.find("body")
    found = apply_hints(root, hints, meta_fields) if hints is not None else None
    if meta_fields.sources.get("title") == "site:title":
        title = meta_fields.title
    found = found or container(root)
    if found is not None:
        node, source = found
        lines = element_lines(node)
    else:
        lines, source = [], ""
        if settings.use_trafilatura:
            lines, source = trafilatura_lines(root, url), "trafilatura"
        if count_cjk("".join(lines)) < MIN_BODY_CJK:
            node = densest_block(root)
            # no dense block: hand the whole page text on and let quality judge it
            lines, source = (element_lines(node), "density") if node is not None else (element_lines(body), "body")
            if not lines:
                raise Reject(Reason.NO_BODY, "the page body holds no text")
    page_lines = convert_script("\n".join(element_lines(body)), "zh-Hans").split("\n")
    page_fields = read_page(page_lines, convert_script(title, "zh-Hans") if title else None)
    return Extracted(
        title=title, lines=tuple(lines), body_source=source, meta_fields=meta_fields, page_fields=page_fields
    )
