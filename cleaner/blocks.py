"""One walk over the page tree that measures every element.

For each element it records, over its subtree (scripts, styles, forms and
hidden elements excluded): CJK characters, CJK characters inside links,
sentence punctuation outside links, where it starts and ends in the page's
running CJK count, and a **content score**. An element whose own text (its
text, its inline children's, the tails of its children) holds a paragraph —
at least ``min_paragraph_cjk`` CJK characters outside links — gives a score of
``1 + punctuation + min(cjk / 100, 3)`` to its ancestors: all of it to its
parent, half to its grandparent and ``1/d`` to the ancestor ``d`` levels up.
This is readability's scheme, measured in CJK characters and Chinese
punctuation, and extended to every ancestor so that a CMS container two
wrappers above its paragraphs is still a fair candidate.

The walk runs once per page; everything that chooses a body, a title or a date
reads these numbers instead of walking the tree again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from cleaner import selectors as sel
from cleaner.charclass import CJK_RE

PUNCT_RE = re.compile("[，。；！？、]")
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# block elements whose own text counts as a paragraph (headings and line breaks do not)
PARAGRAPH_TAGS = sel.BLOCK_TAGS - {"br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
TAG_WEIGHT = {
    "div": 5.0,
    "article": 5.0,
    "section": 3.0,
    "pre": 3.0,
    "td": 3.0,
    "blockquote": 3.0,
    "address": -3.0,
    "ol": -3.0,
    "ul": -3.0,
    "dl": -3.0,
    "dd": -3.0,
    "dt": -3.0,
    "li": -3.0,
    "form": -3.0,
    "h1": -5.0,
    "h2": -5.0,
    "h3": -5.0,
    "h4": -5.0,
    "h5": -5.0,
    "h6": -5.0,
    "th": -5.0,
}


@dataclass(slots=True, eq=False)
class Block:
    """What the walk measured for one element."""

    node: etree._Element
    tag: str  # "" for a comment or a processing instruction
    parent: Block | None
    depth: int
    start: int  # page CJK characters before this element
    first: int  # index of its first text chunk in ``PageBlocks.chunks``
    end: int = 0  # page CJK characters up to the end of this element
    last: int = 0  # index after its last text chunk
    cjk: int = 0  # CJK characters in the subtree
    link_cjk: int = 0  # ... of them inside <a>
    punct: int = 0  # sentence punctuation outside links
    own_cjk: int = 0  # CJK of its own text (text, inline children, tails), outside links
    own_punct: int = 0
    paragraphs: int = 0  # paragraph elements in the subtree (itself included)
    score: float = 0.0  # content score received from paragraphs below
    in_link: bool = False
    hidden: bool = False
    index: int = -1  # position in ``PageBlocks.blocks``
    after: int = -1  # position after its last descendant: they are ``blocks[index + 1 : after]``
    weight: float | None = None  # class/id weight, computed once when asked (cleaner.body)

    @property
    def link_density(self) -> float:
        return self.link_cjk / self.cjk if self.cjk else 1.0

    @property
    def is_paragraph(self) -> bool:
        return self.paragraphs > 0 and self.own_cjk > 0

    def contains(self, other: Block) -> bool:
        node: Block | None = other
        while node is not None:
            if node is self:
                return True
            node = node.parent
        return False


@dataclass(slots=True)
class PageBlocks:
    """Every measured element of a page, in document order."""

    blocks: list[Block] = field(default_factory=list)
    by_node: dict[etree._Element, Block] = field(default_factory=dict)
    chunks: list[str] = field(default_factory=list)  # the page's text, "\n" at every block boundary
    total_cjk: int = 0

    def get(self, node: etree._Element) -> Block | None:
        return self.by_node.get(node)

    def lines(self, first: int, last: int, skip: list[Block] | tuple[Block, ...] = ()) -> list[str]:
        """The text lines of chunks ``first:last``, leaving out the chunks of ``skip``."""
        parts: list[str] = []
        at = first
        for block in sorted(skip, key=lambda b: b.first):
            if block.first >= at and block.last <= last:
                parts.extend(self.chunks[at : block.first])
                parts.append("\n")
                at = block.last
        parts.extend(self.chunks[at:last])
        text = "".join(parts).replace("\xa0", " ").replace("\u3000", " ")
        return [line.strip() for line in text.split("\n") if line.strip()]

    def lines_of(self, block: Block, skip: list[Block] | tuple[Block, ...] = ()) -> list[str]:
        return self.lines(block.first, block.last, skip)


def _count(text: str) -> tuple[int, int]:
    if text.isspace():
        return 0, 0
    cjk = len(CJK_RE.findall(text))
    return (cjk, len(PUNCT_RE.findall(text))) if cjk else (0, 0)


def is_hidden(node: etree._Element) -> bool:
    if node.get("hidden") is not None:
        return True
    style = node.get("style")
    return bool(style) and HIDDEN_STYLE_RE.search(style) is not None


def measure(root: etree._Element, *, min_paragraph_cjk: int) -> PageBlocks:
    """Walk ``root`` once (start and end events) and measure every element."""
    page = PageBlocks()
    stack: list[Block] = []
    chunks = page.chunks
    offset = 0
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        tag = node.tag if isinstance(node.tag, str) else None
        if event in ("comment", "pi"):
            if stack and node.tail:
                offset += _own_text(stack[-1], node.tail)
                chunks.append(node.tail)
            continue
        if event == "start":
            parent = stack[-1] if stack else None
            if tag is None or tag in sel.SKIP_TAGS or is_hidden(node):
                walker.skip_subtree()
                block = Block(node, tag or "", parent, len(stack), offset, len(chunks), hidden=True)
                stack.append(block)
                continue
            in_link = tag == "a" or (parent is not None and parent.in_link)
            block = Block(node, tag, parent, len(stack), offset, len(chunks), in_link=in_link)
            if tag in sel.BLOCK_TAGS:
                chunks.append("\n")
            if node.text:
                offset += _own_text(block, node.text)
                chunks.append(node.text)
            stack.append(block)
            block.index = len(page.blocks)
            page.blocks.append(block)
            page.by_node[node] = block
            continue
        block = stack.pop()
        parent = stack[-1] if stack else None
        if not block.hidden:
            if tag in sel.BLOCK_TAGS:
                chunks.append("\n")
            block.end = offset
            block.last = len(chunks)
            block.after = len(page.blocks)
            _close(block, min_paragraph_cjk)
            if parent is not None:
                parent.cjk += block.cjk
                parent.link_cjk += block.link_cjk
                parent.punct += block.punct
                parent.paragraphs += block.paragraphs
                if tag not in sel.BLOCK_TAGS and tag != "a":  # inline: its text flows into the parent's
                    parent.own_cjk += block.own_cjk
                    parent.own_punct += block.own_punct
        if parent is not None and node.tail:
            offset += _own_text(parent, node.tail)
            chunks.append(node.tail)
    page.total_cjk = offset
    return page


def _own_text(parent: Block, text: str) -> int:
    """Count an element's text, or a child's tail, as the element's own; returns its CJK count."""
    cjk, punct = _count(text)
    parent.cjk += cjk
    if parent.in_link:
        parent.link_cjk += cjk
    else:
        parent.own_cjk += cjk
        parent.own_punct += punct
        parent.punct += punct
    return cjk


def _close(block: Block, min_paragraph_cjk: int) -> None:
    """At an element's end: a block element with a paragraph of its own scores its ancestors."""
    if block.tag not in PARAGRAPH_TAGS or block.own_cjk < min_paragraph_cjk:
        return
    block.paragraphs += 1
    gain = 1.0 + block.own_punct + min(block.own_cjk / 100.0, 3.0)
    ancestor = block.parent
    distance = 1
    while ancestor is not None:
        ancestor.score += gain if distance == 1 else gain / distance
        ancestor = ancestor.parent
        distance += 1
