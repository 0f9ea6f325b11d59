"""Canaries for site redesigns and the adaptive poll interval: pure functions of a site's crawl history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsflow.canary import Alarm, CanaryRules, CrawlSample, adaptive_interval, check


def crawl(
    crawl_id: str = "c",
    *,
    pages: int = 20,
    articles: int = 16,
    median_body: float = 1500.0,
    undated: int = 1,
    site: str = "s1",
) -> CrawlSample:
    """A normal crawl by default: 80 % of pages become articles, 1500-character bodies, 1 in 16 undated."""
    return CrawlSample(site, crawl_id, pages, articles, median_body, undated)


HISTORY = [crawl("h1"), crawl("h2"), crawl("h3")]
BROKEN = crawl("new", articles=2, median_body=100.0, undated=2)  # trips all three checks


def checks(alarms: list[Alarm]) -> list[str]:
    return [a.check for a in alarms]


# -- the sample itself -----------------------------------------------------------------------
def test_rates_of_a_sample_and_of_an_empty_one() -> None:
    assert crawl(pages=20, articles=5).article_rate == 0.25
    assert crawl(articles=8, undated=2).undated_share == 0.25
    empty = crawl(pages=0, articles=0, median_body=0.0, undated=0)
    assert empty.article_rate == 0.0 and empty.undated_share == 0.0


# -- enough usable history ---------------------------------------------------------------------
def test_a_normal_crawl_raises_nothing() -> None:
    assert check(crawl("new"), HISTORY) == []


def test_the_broken_crawl_raises_all_three_against_enough_history() -> None:
    assert checks(check(BROKEN, HISTORY)) == ["article_rate", "median_body", "undated_share"]


@pytest.mark.parametrize("rules", [CanaryRules(), CanaryRules(min_history=1), CanaryRules(min_history=3)])
def test_no_alarm_before_min_history_usable_crawls(rules: CanaryRules) -> None:
    assert rules.min_history <= len(HISTORY)
    assert check(BROKEN, [], rules) == []
    assert check(BROKEN, HISTORY[: rules.min_history - 1], rules) == []
    assert checks(check(BROKEN, HISTORY[: rules.min_history], rules)) == [
        "article_rate",
        "median_body",
        "undated_share",
    ]


def test_small_crawls_do_not_count_as_history() -> None:
    small = crawl("small", pages=4, articles=4)
    rules = CanaryRules(min_history=2)
    assert check(BROKEN, [small, small, small]) == []
    assert check(BROKEN, [crawl("h1"), small, small, small], rules) == []
    assert checks(check(BROKEN, [crawl("h1"), small, crawl("h2")], rules)) == [
        "article_rate",
        "median_body",
        "undated_share",
    ]


def test_small_crawls_do_not_move_the_baseline() -> None:
    # three tiny crawls with no articles at all would pull the median rate to 0 if they counted
    tiny = crawl("tiny", pages=4, articles=0, median_body=0.0, undated=0)
    alarms = check(crawl("new", articles=6, undated=0), [*HISTORY, tiny, tiny, tiny, tiny])
    assert checks(alarms) == ["article_rate"]
    assert alarms[0].baseline == pytest.approx(0.8)


def test_a_small_crawl_is_not_judged() -> None:
    assert check(crawl("new", pages=4, articles=0, median_body=0.0, undated=0), HISTORY) == []


def test_min_pages_is_inclusive() -> None:
    at_limit = crawl("new", pages=5, articles=1, median_body=100.0, undated=1)
    assert "article_rate" in checks(check(at_limit, HISTORY))
    assert check(at_limit, HISTORY, CanaryRules(min_pages=6)) == []


def test_only_the_latest_history_crawls_form_the_baseline() -> None:
    old = [crawl(f"old{i}", median_body=5000.0) for i in range(3)]
    recent = [crawl("r1"), crawl("r2")]
    sample = crawl("new", median_body=1000.0)  # 1000 ≥ half of 1500, < half of 5000
    assert check(sample, [*old, *recent], CanaryRules(history=2)) == []
    alarms = check(sample, [*old, *recent], CanaryRules(history=10))
    assert checks(alarms) == ["median_body"]
    assert alarms[0].baseline == 5000.0


# -- each check alone --------------------------------------------------------------------------
def test_article_rate_drop_alone() -> None:
    alarms = check(crawl("new", articles=6, undated=0), HISTORY)
    assert alarms == [Alarm("s1", "new", "article_rate", pytest.approx(0.3), pytest.approx(0.8))]


def test_article_rate_at_exactly_the_drop_share_does_not_alarm() -> None:
    assert check(crawl("new", articles=8, undated=0), HISTORY) == []  # 0.4 == 0.8 × 0.5
    assert checks(check(crawl("new", articles=8, undated=0), HISTORY, CanaryRules(rate_drop=0.6))) == ["article_rate"]


def test_median_body_drop_alone() -> None:
    alarms = check(crawl("new", median_body=600.0), HISTORY)
    assert alarms == [Alarm("s1", "new", "median_body", 600.0, 1500.0)]
    assert check(crawl("new", median_body=600.0), HISTORY, CanaryRules(body_drop=0.3)) == []
    assert check(crawl("new", median_body=750.0), HISTORY) == []  # exactly half


def test_undated_share_rise_alone() -> None:
    alarms = check(crawl("new", undated=8), HISTORY)
    assert alarms == [Alarm("s1", "new", "undated_share", 0.5, pytest.approx(1 / 16))]
    assert check(crawl("new", undated=8), HISTORY, CanaryRules(undated_rise=0.5)) == []
    assert check(crawl("new", undated=5), HISTORY) == []  # 0.3125 < 0.0625 + 0.3


def test_a_crawl_without_articles_is_judged_on_its_rate_only() -> None:
    alarms = check(crawl("new", articles=0, median_body=0.0, undated=0), HISTORY)
    assert checks(alarms) == ["article_rate"]
    assert alarms[0].value == 0.0


def test_a_site_whose_history_has_no_articles_does_not_alarm_on_body_or_rate() -> None:
    barren = [crawl(f"h{i}", articles=0, median_body=0.0, undated=0) for i in range(3)]
    assert check(crawl("new", articles=10, median_body=50.0, undated=0), barren) == []


def test_body_baseline_ignores_crawls_without_articles() -> None:
    empty = [crawl(f"e{i}", articles=0, median_body=0.0, undated=0) for i in range(3)]
    alarms = check(crawl("new", median_body=600.0, undated=0), [crawl("h1"), crawl("h2"), *empty])
    # the median rate of the history is 0, so only the body is judged, against the crawls that had bodies
    assert alarms == [Alarm("s1", "new", "median_body", 600.0, 1500.0)]


# -- the message -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("article_rate", "pages that became articles"),
        ("median_body", "median body length"),
        ("undated_share", "without a date"),
    ],
)
def test_message_names_site_crawl_and_what_to_check(name: str, what: str) -> None:
    text = Alarm("gov-example", "crawl-42", name, 0.125, 0.75).message()
    assert "gov-example" in text
    assert "crawl-42" in text
    assert what in text
    assert "0.12" in text and "0.75" in text
    assert "check its site config" in text


def test_message_of_a_real_alarm() -> None:
    (alarm,) = check(crawl("c-9", site="s7", median_body=600.0), [crawl("a", site="s7"), crawl("b", site="s7")])
    assert alarm.site == "s7" and alarm.crawl_id == "c-9"
    assert "site s7" in alarm.message() and "crawl c-9" in alarm.message()
    assert "600.00" in alarm.message() and "1500.00" in alarm.message()


# -- adaptive interval -------------------------------------------------------------------------
BASE = timedelta(minutes=20)


def test_without_history_the_base_interval_stands() -> None:
    assert adaptive_interval(BASE, []) == BASE


@pytest.mark.parametrize(
    ("recent", "factor"),
    [
        ([10], 0.5),
        ([10, 25], 0.25),
        ([50, 50, 50], 0.25),  # floor
        ([50, 50, 50, 50], 0.25),
        ([0], 2.0),
        ([0, 0], 4.0),
        ([0, 0, 0], 4.0),  # ceiling
        ([0, 0, 0, 0], 4.0),
        ([9], 1.0),  # below busy: a few new pages
        ([1], 1.0),
        ([0, 0, 3], 1.0),  # a moderate crawl resets
        ([10, 10, 3], 1.0),
        ([3, 0], 2.0),
        ([3, 10], 0.5),
        ([0, 10], 1.0),
    ],
)
def test_interval_follows_the_recent_crawls(recent: list[int], factor: float) -> None:
    assert adaptive_interval(BASE, recent) == BASE * factor


@pytest.mark.parametrize(
    ("recent", "factor"),
    [
        ([0, 10, 10, 0, 0], 1.0),  # with the fifth-last counted it would be 2×
        ([10, 0, 0, 10, 10], 1.0),  # with the fifth-last counted it would be 0.5×
        ([3, 3, 3, 3, 3, 3, 0], 2.0),
    ],
)
def test_only_the_last_four_crawls_count(recent: list[int], factor: float) -> None:
    assert adaptive_interval(BASE, recent) == BASE * factor


def test_interval_bounds_and_busy_threshold_are_parameters() -> None:
    assert adaptive_interval(BASE, [5], busy=5) == BASE / 2
    assert adaptive_interval(BASE, [5]) == BASE
    assert adaptive_interval(BASE, [50, 50, 50], shortest=0.1) == BASE / 8
    assert adaptive_interval(BASE, [0, 0, 0], longest=2.0) == BASE * 2


def test_no_undated_alarm_against_a_history_without_articles() -> None:
    empty = [CrawlSample("s", f"c{i}", pages=20, articles=0, median_body=0.0, undated=0) for i in range(3)]
    now = CrawlSample("s", "c9", pages=20, articles=10, median_body=900.0, undated=4)
    assert check(now, empty, CanaryRules()) == []


def test_the_interval_is_bounded_at_every_crawl() -> None:
    # three empty crawls reach the ceiling; a busy one then halves from there
    assert adaptive_interval(timedelta(minutes=20), [0, 0, 0, 10]) == timedelta(minutes=40)
