"""Extract the article from the parsed page: body lines, headline and the page's own metadata.

One parse and one walk (:mod:`cleaner.blocks`) per page; the body
(:mod:`cleaner.body`) and the headline (:mod:`cleaner.headline`) are each the
best of their candidates under one score, and the winner, its score and the
runner-up are recorded in the field sources. trafilatura is asked only when no
block of the page reaches the body floor.

Metadata is read once, in order of trust: the site's selectors, the info lines
right under the headline (发布时间, 来源, 作者, a bare date), the ``<meta>`` set
(government ArticleTitle/PubDate/ContentSource/Author, og:, article:), then —
for what is still open after the body lines were walked — the lines after the
body, and last the labelled lines anywhere on the page.
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import lxml.html
from cssselect import SelectorError
from cssselect.xpath import ExpressionError
from lxml import etree

from cleaner import patterns as p
from cleaner import selectors as sel
from cleaner.blocks import Block, PageBlocks, measure
from cleaner.body import BodyChoice, choose_body
from cleaner.charclass import count_cjk
from cleaner.headline import TitleEvidence, block_showing, choose_title, title_evidence
from cleaner.hints import PageHints
from cleaner.layout import is_info_line
from cleaner.metadata import (
    Fields,
    clean_source,
    find_date,
    join_labels,
    read_head_zone,
    read_info_line,
    timestamp_date,
)
from cleaner.reasons import Reason, Reject
from cleaner.script import convert_script
from cleaner.settings import CleanerSettings

MIN_BODY_CJK = 60
XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
PARAGRAPH_RE = re.compile("[。！？]")


@dataclass(frozen=True, slots=True)
class Extracted:
    root: lxml.html.HtmlElement  # the parsed page (one parse: every stage reads this tree)
    title: str | None
    lines: tuple[str, ...]
    body_source: str
    stated: Fields = field(default_factory=Fields)  # site selectors, the lines under the headline, <meta>
    rest: Fields = field(default_factory=Fields)  # the lines after the body
    language: str | None = None  # as the page declares it: <html lang>, Content-Language, og:locale
    host: str | None = None  # of the page's address: where it was fetched, else its canonical link
    page_text: str = ""  # every text of the page, as written: where a field read from a view is found again

    def initial_fields(self, title: str | None) -> Fields:
        """What the page states around the headline: trusted before any line of the body."""
        fields = Fields()
        fields.offer("title", title, self.stated.sources.get("title", "html"))
        fields.absorb(self.stated)
        return fields

    def fill_fields(self, target: Fields) -> None:
        """Fill what the article lines left open from the lines after the body."""
        target.absorb(self.rest)


def parse(html: str) -> lxml.html.HtmlElement:
    html = XML_DECL_RE.sub("", html, count=1)
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as error:
        raise Reject(Reason.PARSE_ERROR, f"the page does not parse as HTML: {error}") from error
    if root is None or root.find("body") is None:
        raise Reject(Reason.NO_BODY, "the page has no <body>")
    return root


def meta_values(root: lxml.html.HtmlElement) -> dict[str, str]:
    values: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if name and content and name not in values:
            values[name] = content
    return values


def page_language(root: lxml.html.HtmlElement, meta: dict[str, str]) -> str | None:
    """The language the page declares for itself, first of ``<html lang>``, Content-Language, og:locale."""
    declared = [root.get("lang"), root.get("xml:lang")]
    declared += [
        m.get("content") for m in root.iter("meta") if (m.get("http-equiv") or "").lower() == "content-language"
    ]
    declared.append(meta.get("og:locale"))
    return next((value.strip() for value in declared if value and value.strip()), None)


def page_host(root: lxml.html.HtmlElement, meta: dict[str, str], url: str | None) -> str | None:
    """The host of the page's address: the fetched URL's, or for a saved file its canonical link's."""
    addresses = [url] if url and url.startswith(("http://", "https://")) else []
    addresses += [link.get("href") for link in root.iter("link") if (link.get("rel") or "").lower() == "canonical"]
    addresses.append(meta.get("og:url"))
    for address in addresses:
        with contextlib.suppress(ValueError):
            if address and (host := urlsplit(address.strip()).hostname):
                return host
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


def read_lines(lines: list[str], fields: Fields, origin: str, *, bare_date: bool) -> None:
    """Info lines among ``lines`` (simplified) into ``fields``; with ``bare_date``, a short line's date too."""
    for line in join_labels(lines):
        if is_info_line(line) or p.EDITOR_RE.search(line):
            read_info_line(line, fields, origin=origin)
        elif bare_date and len(line) <= 60 and (date := find_date(line)):
            fields.offer("published_at", date, f"{origin}:date")


def headline_chunk(page: PageBlocks, headline: Block | None, title: str | None) -> int | None:
    """Where the headline starts in the page's text: its block, or the first text that is the title."""
    if headline is not None:
        return headline.first
    if title and (shown := block_showing(page, title)) is not None:  # a block that is the title, not a link
        return shown.first
    if title:
        key = "".join(title.split())
        for index, chunk in enumerate(page.chunks):
            if key and key in "".join(chunk.split()):
                return index
    return None


def head_zone(page: PageBlocks, anchor: int | None, title: str | None, body: BodyChoice | None, size: int) -> list[str]:
    """The lines right under the headline (those inside its block too), up to the first paragraph of text."""
    if anchor is not None:
        lines = page.lines(anchor, len(page.chunks))
        while lines and title and lines[0] in title:
            lines.pop(0)
    elif body is not None:
        lines = page.lines_of(body.blocks[0])
    else:
        return []
    zone = []
    for line in lines[:size]:
        if len(line) > 120 or (len(line) > 40 and PARAGRAPH_RE.search(line)):
            break
        zone.append(line)
    return zone


def trafilatura_lines(root: lxml.html.HtmlElement, url: str | None) -> list[str]:
    import trafilatura  # heavy import, only when the fallback is needed

    # trafilatura prunes the tree it is given: hand it a copy, not a serialised page to parse again
    document = trafilatura.bare_extraction(
        copy.deepcopy(root), url=url, fast=True, include_comments=False, include_tables=True
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


def named_blocks(
    root: lxml.html.HtmlElement, page: PageBlocks, hints: PageHints | None, fields: Fields
) -> tuple[list[tuple[Block, str]], Block | None]:
    """Body candidates the site and the CMS hints name, and the site's headline block.

    The site's title and date selectors go into ``fields`` first, before the page's own."""
    named: list[tuple[Block, str]] = []
    headline = None
    if hints is not None:
        title = hinted_node(root, hints.title_selector)
        if title is not None and count_cjk(title.text_content()) >= 2:
            fields.offer("title", " ".join(title.text_content().split()), "site:title")
            headline = page.get(title)
        date = hinted_node(root, hints.date_selector)
        if date is not None:
            fields.offer("published_at", find_date(date.text_content()), "site:date")
        body = hinted_node(root, hints.body_selector)
        if body is not None and (block := page.get(body)) is not None:
            named.append((block, "site:body"))
    hints, any_class, any_id = container_hints()
    for block in page.blocks:
        node = block.node
        classes, ident = node.get("class"), node.get("id")
        if not (block.tag == "article" or (classes and any_class.search(classes)) or (ident and any_id.search(ident))):
            continue
        for name, tags, class_re, id_re in hints:
            if tags is not None and block.tag not in tags:
                continue
            wanted = [(pattern, value) for pattern, value in ((class_re, classes), (id_re, ident)) if pattern]
            if wanted and not any(value and pattern.search(value) for pattern, value in wanted):
                continue
            named.append((block, f"hint:{name}"))
            break
    return named, headline


CompiledHint = tuple[str, frozenset[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]


@cache
def container_hints() -> tuple[tuple[CompiledHint, ...], re.Pattern[str], re.Pattern[str]]:
    """The hints compiled, and one pattern for any class and any id they look for (a quick first test)."""
    hints = tuple(
        (name, tags, re.compile(c) if c else None, re.compile(i) if i else None)
        for name, tags, c, i in sel.CONTAINER_HINTS
    )
    classes = "|".join(f"(?:{c})" for _, _, c, _ in sel.CONTAINER_HINTS if c)
    ids = "|".join(f"(?:{i})" for _, _, _, i in sel.CONTAINER_HINTS if i)
    return hints, re.compile(classes), re.compile(ids)


def extract_html(html: str, *, url: str | None, settings: CleanerSettings, hints: PageHints | None = None) -> Extracted:
    root = parse(html)
    page = measure(root, min_paragraph_cjk=settings.min_paragraph_cjk)
    meta = meta_values(root)
    page_title = " ".join((root.findtext(".//title") or "").split())
    head = Fields()
    named, site_headline = named_blocks(root, page, hints, head)
    body, headline = choose_body_and_title(
        page, named, site_headline, title_evidence(page, meta, page_title), head, settings
    )
    if body is not None:
        lines, source = list(body.lines), body.source
    else:
        lines, source = fallback_lines(root, page, url, settings)
    rest = read_fields(html, page, meta, page_title, headline, body, head, settings)
    return Extracted(
        root=root,
        title=head.title,
        lines=tuple(lines),
        body_source=source,
        stated=head,
        rest=rest,
        language=page_language(root, meta),
        host=page_host(root, meta, url),
        page_text="".join(page.chunks),
    )


def choose_body_and_title(
    page: PageBlocks,
    named: list[tuple[Block, str]],
    site_headline: Block | None,
    evidence: TitleEvidence,
    head: Fields,
    settings: CleanerSettings,
) -> tuple[BodyChoice | None, Block | None]:
    """The body, chosen with a first guess at the headline; then the headline, with the body's place known.
    Both choices, their runners-up and the title go into ``head``."""
    first_guess, _ = choose_title(evidence, (), settings)
    headline = site_headline or (first_guess.block if first_guess else None)
    body = choose_body(page, named, headline, settings)
    title, runner = choose_title(evidence, body.blocks if body else (), settings)
    if site_headline is None and title is not None:
        head.offer("title", title.text, title.origin)
        headline = title.block
    if title is not None and runner is not None:
        head.sources["title_runner_up"] = f"{runner.origin} {runner.text[:40]}"
    if body is not None:
        head.sources["body_choice"] = body.winner.describe()
        if body.runner_up is not None:
            head.sources["body_runner_up"] = body.runner_up.describe()
    return body, headline


def fallback_lines(
    root: lxml.html.HtmlElement, page: PageBlocks, url: str | None, settings: CleanerSettings
) -> tuple[list[str], str]:
    """No block reaches the body floor: trafilatura's text, else the whole page for quality to judge."""
    if settings.use_trafilatura:
        lines = trafilatura_lines(root, url)
        if count_cjk("".join(lines)) >= MIN_BODY_CJK:
            return lines, "trafilatura"
    lines = page.lines(0, len(page.chunks))
    if not lines:
        raise Reject(Reason.NO_BODY, "the page body holds no text")
    return lines, "body"


def read_fields(
    html: str,
    page: PageBlocks,
    meta: dict[str, str],
    page_title: str,
    headline: Block | None,
    body: BodyChoice | None,
    head: Fields,
    settings: CleanerSettings,
) -> Fields:
    """Read the page's fields once: the lines under the headline and ``<meta>`` into ``head``; returns
    what only fills gaps (the lines after the body, a script's timestamp, a meta author, the first date)."""
    title_view = simplified([head.title])[0] if head.title else None
    anchor = headline_chunk(page, headline, head.title)
    zone = head_zone(page, anchor, head.title, body, settings.head_zone_lines)
    read_head_zone(simplified(zone), head, title=title_view)
    stated = read_meta(meta)
    rest = Fields()
    if stated.authors and not any(name in page_title for name in stated.authors):
        # a meta author is the last resort: often an editor, an id or the site ("网易" on "…_网易新闻")
        rest.add_authors(stated.authors, stated.sources["authors"])
    stated.authors = []
    stated.sources.pop("authors", None)
    head.absorb(stated)
    if body is not None:
        after = page.lines(body.blocks[-1].last, len(page.chunks))[: settings.tail_zone_lines]
        read_lines(simplified(after), rest, "page:after", bare_date=False)
    if (at := html.find("var ct")) >= 0 and (stamp := p.SCRIPT_TIMESTAMP_RE.match(html, at)):
        rest.offer("published_at", timestamp_date(stamp.group(1)), "script:timestamp")
    if (at := html.find("var nickname")) >= 0 and (account := p.SCRIPT_ACCOUNT_RE.match(html, at)):
        rest.offer("source", clean_source(account.group(1)), "html:script_account")  # a WeChat article's account
    if anchor is not None:  # no date in the usual places: the first short line with one after the headline
        later = page.lines(anchor, len(page.chunks))[1 : settings.first_date_lines]
        read_lines(simplified([line for line in later if len(line) <= 60]), rest, "page:first_date", bare_date=True)
    return rest


def simplified(lines: list[str]) -> list[str]:
    return convert_script("\n".join(lines), "zh-Hans").split("\n") if lines else []
