"""Choose the article body among candidates, with one scoring function.

Candidates come from three places and are ranked together:

* the site's own body selector (``site:body``),
* every element any CMS container hint matches (``hint:<name>``, all of them,
  not the first that fits),
* the best-scoring elements of the page walk (``density``): the content score
  of :mod:`cleaner.blocks` (paragraphs of CJK text and Chinese punctuation
  below an element).

:func:`candidate_score` is the one function that ranks them: the content score
plus the tag's and the class/id's weight, times the share of text outside
links, raised for a hint or a site selector and for a block that starts right
after the headline. Candidates below the floors of :class:`CleanerSettings`
are not considered. The winner's siblings that score well (the rest of an
article split over sibling blocks) join it, and the sub-blocks inside it that
are link lists or furniture are left out of its lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cleaner import selectors as sel
from cleaner.blocks import TAG_WEIGHT, Block, PageBlocks
from cleaner.settings import CleanerSettings

POSITIVE_RE = re.compile(sel.POSITIVE_CLASS_RE, re.IGNORECASE)
NEGATIVE_RE = re.compile(sel.NEGATIVE_CLASS_RE, re.IGNORECASE)
CLASS_WEIGHT = 25.0
MIN_LINK_LIST_CJK = 8  # a link list inside the body holds at least this much link text


@dataclass(frozen=True, slots=True)
class Candidate:
    block: Block
    source: str
    score: float

    def describe(self) -> str:
        node = self.block.node
        name = node.tag if isinstance(node.tag, str) else "?"
        if node.get("id"):
            name += f"#{node.get('id')}"
        if node.get("class"):
            name += "." + ".".join(node.get("class", "").split())
        return f"{self.source} {name} score={self.score:.1f}"


@dataclass(frozen=True, slots=True)
class BodyChoice:
    """The chosen body: its blocks in page order, the lines they hold and how it was chosen."""

    blocks: tuple[Block, ...]
    lines: tuple[str, ...]
    winner: Candidate
    runner_up: Candidate | None

    @property
    def source(self) -> str:
        return self.winner.source

    @property
    def start(self) -> int:
        return self.blocks[0].start

    @property
    def end(self) -> int:
        return self.blocks[-1].end


def class_weight(block: Block) -> float:
    """Readability's class/id weight: +25 for article words, −25 for furniture words, per attribute."""
    if block.weight is None:
        block.weight = _class_weight(block)
    return block.weight


def _class_weight(block: Block) -> float:
    weight = 0.0
    for attribute in ("class", "id"):
        value = block.node.get(attribute)
        if not value:
            continue
        if NEGATIVE_RE.search(value):
            weight -= CLASS_WEIGHT
        if POSITIVE_RE.search(value):
            weight += CLASS_WEIGHT
    return weight


def content_score(block: Block) -> float:
    """What the page walk says of a block: its paragraphs' score, tag and class weight, outside links."""
    return (block.score + TAG_WEIGHT.get(block.tag, 0.0) + class_weight(block)) * (1.0 - block.link_density)


def candidate_score(block: Block, source: str, headline: Block | None, settings: CleanerSettings) -> float:
    """The one score every candidate is ranked by."""
    score = content_score(block)
    if source.startswith("site:"):
        score *= 1.0 + settings.site_hint_bonus
    elif source.startswith("hint:"):
        score *= 1.0 + settings.container_hint_bonus
    if headline is not None and not headline.contains(block):
        # the body starts right after the headline, or holds it near its own start
        gap = headline.start - block.start if block.contains(headline) else block.start - headline.end
        if 0 <= gap <= settings.headline_gap_cjk:
            score *= 1.0 + settings.headline_bonus
    return score


def eligible(block: Block, settings: CleanerSettings) -> bool:
    return block.cjk - block.link_cjk >= settings.min_candidate_cjk and block.link_density < settings.max_link_density


def gather(
    page: PageBlocks, hinted: list[tuple[Block, str]], headline: Block | None, settings: CleanerSettings
) -> list[Candidate]:
    """Every candidate, best first: the named ones (site, hints) and the top of the page walk."""
    named = [(b, source) for b, source in hinted if eligible(b, settings)]
    seen = {id(b) for b, _ in named}
    walked = sorted(
        (b for b in page.blocks if b.score > 0 and id(b) not in seen and eligible(b, settings)),
        key=content_score,
        reverse=True,
    )[: settings.walk_candidates]
    blocks = [*named, *((b, "density") for b in walked)]
    raw = sorted(
        (Candidate(b, source, candidate_score(b, source, headline, settings)) for b, source in blocks),
        key=lambda c: c.score,
        reverse=True,
    )
    # each score is then weighed by the share of text the block keeps (at most 1): best first, until no
    # unweighed score can reach the second-best weighed one, so the winner and its runner-up are exact
    ranked: list[Candidate] = []
    for i, candidate in enumerate(raw):
        if len(ranked) >= 2 and candidate.score <= ranked[1].score:
            return ranked + raw[i:]
        share = kept_share(candidate.block, page, settings)
        ranked.append(Candidate(candidate.block, candidate.source, candidate.score * share))
        ranked.sort(key=lambda c: c.score, reverse=True)
    return ranked


def kept_share(block: Block, page: PageBlocks, settings: CleanerSettings) -> float:
    """The share of a block's text its lines would keep: a teaser list scores on the summaries its items
    carry, but its lines leave them out as furniture, so it is worth only what stays."""
    if not block.cjk:
        return 0.0
    left_out = sum(b.cjk for b in furniture_inside([block], page, settings))
    return max(0.0, 1.0 - left_out / block.cjk)


def with_siblings(winner: Block, page: PageBlocks, settings: CleanerSettings) -> list[Block]:
    """The winner and the siblings that carry the rest of the article (readability's rule)."""
    parent = winner.parent
    if parent is None:
        return [winner]
    floor = max(settings.min_sibling_score, settings.sibling_share * content_score(winner))
    chosen = []
    for child in parent.node:
        block = page.get(child)
        if block is None:
            continue
        if block is winner:
            chosen.append(block)
            continue
        if class_weight(block) < 0 or block.link_density > settings.max_sibling_link_density:
            continue
        own_paragraph = block.paragraphs and block.own_cjk >= settings.min_sibling_paragraph_cjk
        score = content_score(block)
        if own_paragraph or (score >= floor and score * kept_share(block, page, settings) >= floor):
            chosen.append(block)
    return chosen


def furniture_inside(blocks: list[Block], page: PageBlocks, settings: CleanerSettings) -> list[Block]:
    """Sub-blocks of the chosen body to leave out: link lists and furniture-classed boxes."""
    skip: list[Block] = []
    for top in blocks:
        share = settings.sibling_share * content_score(top)
        i = top.index + 1
        while i < top.after:  # its descendants, in page order; a subtree left out is jumped over
            block = page.blocks[i]
            links = block.link_cjk >= MIN_LINK_LIST_CJK and block.link_density > settings.max_inner_link_density
            if block.tag != "a" and (links or (class_weight(block) < 0 and content_score(block) < share)):
                skip.append(block)
                i = block.after
            else:
                i += 1
    return skip


def choose_body(
    page: PageBlocks, hinted: list[tuple[Block, str]], headline: Block | None, settings: CleanerSettings
) -> BodyChoice | None:
    candidates = gather(page, hinted, headline, settings)
    if not candidates:
        return None
    floor = settings.min_body_score if candidates[0].source == "density" else settings.min_named_body_score
    if candidates[0].score < floor:
        return None
    winner = candidates[0]
    blocks = with_siblings(winner.block, page, settings)
    skip = furniture_inside(blocks, page, settings)
    lines = [line for block in blocks for line in page.lines_of(block, skip)]
    runner_up = next((c for c in candidates[1:] if c.block is not winner.block), None)
    return BodyChoice(tuple(blocks), tuple(lines), winner, runner_up)
