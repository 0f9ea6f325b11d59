"""One page may not hold the worker: cleaning a record has a time limit (a child process that is ended).

No real page is known to hang the cleaner, so ``clean_or_hang`` stands in for one: it is
clean_page, except that a body marked ``HANG`` sleeps far past the limit (as a regular
expression that backtracks for ever would). The child process, the pipe and the kill are real.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cleaner import Article, CleanerSettings, Rejection, clean_page
from sinks.cleaning import Cleaning
from sinks.neardup import NearDupIndex
from sinks.timelimit import CleanTimeout, TimedCleaner
from sinks.topics import RawPage, Topics
from tests.conftest import CMS_FIXTURES
from tests.unit.test_records_and_log import as_message

pytestmark = pytest.mark.timeout(60)

PAGE = sorted(CMS_FIXTURES.glob("*.html"))[0].read_bytes()


def clean_or_hang(body: bytes, **kwargs: Any) -> Article | Rejection:
    if body.startswith(b"HANG"):
        time.sleep(600)
    return clean_page(body, **kwargs)


def test_a_page_that_cleans_for_ever_becomes_a_rejection_and_the_next_page_is_cleaned(tmp_path: Path) -> None:
    """Defect 2: cleaning one record had no time limit, so one page could hold its partition for good."""
    settings = CleanerSettings()
    timed = TimedCleaner(settings, time_limit=2.0, clean=clean_or_hang)
    index = NearDupIndex(tmp_path / "index.db", max_distance=3)
    cleaning = Cleaning(Topics(), settings, index, attempts=1, timed=timed)
    try:
        pages = [
            RawPage(
                f"http://www.a.gov.cn/n/{n}.html",
                f"http://www.a.gov.cn/n/{n}.html",
                200,
                body,
                "2026-11-20T08:00:00+08:00",
                "s",
                "c",
                "text/html",
            )
            for n, body in enumerate((b"HANG" + PAGE, PAGE))
        ]
        hung, fine = (cleaning.process(as_message(p.to_record("raw"), n)) for n, p in enumerate(pages))
        assert hung.header("ce_reason") == "extract.time_limit"
        assert "longer than 2 s" in str(hung.header("ce_detail"))
        assert fine.topic == Topics().articles
    finally:
        cleaning.close()


def test_a_page_sent_ahead_is_the_answer_for_that_page_only_and_its_clock_runs_from_the_send() -> None:
    """The worker sends the next page while it publishes the one before: the answer must be that page's,
    a page sent ahead and not asked for must not answer for another, and the time limit still holds."""
    settings = CleanerSettings()
    timed = TimedCleaner(settings, time_limit=2.0, clean=clean_or_hang)
    other = sorted(CMS_FIXTURES.glob("*.html"))[1].read_bytes()
    try:
        expected = {
            body: clean_page(body, url="http://www.a.gov.cn/x.html", settings=settings) for body in (PAGE, other)
        }
        for sent, asked in ((PAGE, PAGE), (PAGE, other), (other, PAGE)):
            timed.send_ahead(sent, url="http://www.a.gov.cn/x.html", headers={}, hints=None)
            result = timed.clean(asked, url="http://www.a.gov.cn/x.html", headers={}, hints=None)
            assert isinstance(result, Article)
            assert result.text == expected[asked].text  # type: ignore[union-attr]
        timed.send_ahead(b"HANG" + PAGE, url="http://www.a.gov.cn/h.html", headers={}, hints=None)
        time.sleep(1.5)  # the page's clock runs while the worker publishes the page before it
        start = time.monotonic()
        with pytest.raises(CleanTimeout):
            timed.clean(b"HANG" + PAGE, url="http://www.a.gov.cn/h.html", headers={}, hints=None)
        assert time.monotonic() - start < 1.5
        timed.send_ahead(b"HANG" + PAGE, url="http://www.a.gov.cn/h.html", headers={}, hints=None)
        result = timed.clean(PAGE, url="http://www.a.gov.cn/x.html", headers={}, hints=None)  # the hung one is given up
        assert isinstance(result, Article)
        assert result.text == expected[PAGE].text  # type: ignore[union-attr]
    finally:
        timed.close()
