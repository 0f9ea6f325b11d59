"""Canaries for site redesigns, and the adaptive poll interval: pure functions of a site's crawl history.

A redesign rarely breaks a crawl; it quietly breaks extraction. So each finished
crawl becomes a :class:`CrawlSample` (pages cleaned, how many became articles,
their median body length, how many lack a date) and :func:`check` compares it
with the same site's own recent crawls: a rate of articles well below the
site's usual, bodies much shorter than usual or dates suddenly missing raise an
:class:`Alarm`. Small crawls (an incremental run that found two new pages) are
too noisy to judge and are neither checked nor used as history.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class CrawlSample:
    """The cleaner's view of one crawl of one site."""

    site: str
    crawl_id: str
    pages: int  # outputs of the crawl: articles and rejections
    articles: int
    median_body: float  # characters; 0 without articles
    undated: int  # articles without ``published_at``

    @property
    def article_rate(self) -> float:
        return self.articles / self.pages if self.pages else 0.0

    @property
    def undated_share(self) -> float:
        return self.undated / self.articles if self.articles else 0.0


@dataclass(frozen=True, slots=True)
class Alarm:
    site: str
    crawl_id: str
    check: str  # article_rate | median_body | undated_share
    value: float
    baseline: float

    def message(self) -> str:
        what = {
            "article_rate": "pages that became articles",
            "median_body": "median body length (characters)",
            "undated_share": "share of articles without a date",
        }[self.check]
        return (
            f"site {self.site} may have changed its template: {what} is {self.value:.2f} in crawl {self.crawl_id}"
            f" against {self.baseline:.2f} in its recent crawls; check its site config and hints"
        )


@dataclass(frozen=True, slots=True)
class CanaryRules:
    #: crawls with fewer cleaned pages are not judged and not used as history
    min_pages: int = 5
    #: judged crawls needed before a site is judged at all (one: a redesign shows on the next crawl)
    min_history: int = 1
    #: the latest this many judged crawls form the baseline
    history: int = 10
    #: alarm when the article rate falls below this share of the baseline
    rate_drop: float = 0.5
    #: alarm when the median body falls below this share of the baseline
    body_drop: float = 0.5
    #: alarm when the undated share rises by more than this (absolute)
    undated_rise: float = 0.3


def usable(sample: CrawlSample, rules: CanaryRules) -> bool:
    return sample.pages >= rules.min_pages


def check(sample: CrawlSample, history: Sequence[CrawlSample], rules: CanaryRules = CanaryRules()) -> list[Alarm]:
    """The alarms ``sample`` raises against the site's earlier crawls (oldest first in ``history``)."""
    past = [h for h in history if usable(h, rules)][-rules.history :]
    if not usable(sample, rules) or len(past) < rules.min_history:
        return []
    alarms = []
    rate = statistics.median(h.article_rate for h in past)
    if rate > 0 and sample.article_rate < rate * rules.rate_drop:
        alarms.append(Alarm(sample.site, sample.crawl_id, "article_rate", sample.article_rate, rate))
    bodies = [h.median_body for h in past if h.articles]
    body = statistics.median(bodies) if bodies else 0.0
    if body > 0 and sample.articles and sample.median_body < body * rules.body_drop:
        alarms.append(Alarm(sample.site, sample.crawl_id, "median_body", sample.median_body, body))
    dated = [h.undated_share for h in past if h.articles]
    undated = statistics.median(dated) if dated else 0.0
    if dated and sample.articles and sample.undated_share > undated + rules.undated_rise:
        alarms.append(Alarm(sample.site, sample.crawl_id, "undated_share", sample.undated_share, undated))
    return alarms


def adaptive_interval(
    base: timedelta,
    recent_new: Sequence[int],
    *,
    busy: int = 10,
    shortest: float = 0.25,
    longest: float = 4.0,
) -> timedelta:
    """How long until the next poll of a site's list pages, from the new pages its last crawls found.

    A site whose recent crawls each found ``busy`` or more new pages is polled
    twice as often per such crawl (down to ``shortest`` × ``base``); each crawl in
    a row that found nothing doubles the wait (up to ``longest`` × ``base``); a
    crawl with a few new pages brings it back to ``base``. Only the last four
    crawls count; without history the configured interval stands.
    """
    if not recent_new:
        return base
    factor = 1.0
    for found in recent_new[-4:]:
        if found >= busy:
            factor /= 2
        elif found == 0:
            factor *= 2
        else:  # a few new pages: the configured interval fits
            factor = 1.0
        factor = min(max(factor, shortest), longest)
    return base * factor
