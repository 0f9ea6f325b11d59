"""Extraction cascade: container hints, then trafilatura, then Chinese text density."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cleaner import Article, CleanerSettings, Reason, Rejection, clean_page
from tests.conftest import SEEDS, char_f1

EXPECTED = json.loads((SEEDS / "expected" / "004_f2452ddb75c7bb69.json").read_text(encoding="utf-8"))
PARAGRAPHS = EXPECTED["text"].split("\n")[:5]
SIDEBAR = "".join(f"<li><a href='/n{i}.html'>市政府召开第{i}次常务会议研究部署近期重点工作</a></li>" for i in range(40))


def plain_page() -> bytes:
    """No CMS container class anywhere: the body sits in anonymous divs beside a long link list."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (
        f"<html><head><meta charset='utf-8'><title>{EXPECTED['title']}_七台河市人民政府</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a> <a href='/x'>政务公开</a></div>"
        f"<div class='left'><ul>{SIDEBAR}</ul></div>"
        f"<div class='main'><h1>{EXPECTED['title']}</h1>"
        "<div class='info'>发布时间：2020-02-03 09:12 来源：九三学社七台河市委</div>"
        f"<div class='txt'>{body}</div></div>"
        f"<div class='foot'>版权所有：七台河市人民政府 网站标识码2309000001 黑ICP备05002541号</div></body></html>"
    )
    return html.encode("utf-8")


def check(result: object, source: str) -> None:
    assert isinstance(result, Article), result
    assert result.title == EXPECTED["title"]
    assert result.published_at == "2020-02-03T09:12:00+08:00"
    assert result.source == "九三学社七台河市委"
    assert result.field_sources["body"] == source
    assert char_f1(result.text, "\n".join(PARAGRAPHS)) >= 0.95


URL = "http://www.qth.gov.cn/a.html"


def test_an_unmarked_body_beside_a_long_link_list_wins_by_score() -> None:
    result = clean_page(plain_page(), url=URL, settings=CleanerSettings())
    check(result, "density")
    assert isinstance(result, Article)
    assert result.field_sources["body_choice"].startswith("density div.txt")
    assert "body_runner_up" in result.field_sources


def test_trafilatura_only_when_no_block_reaches_the_floor() -> None:
    settings = replace(CleanerSettings(), min_body_score=1e9)
    check(clean_page(plain_page(), url=URL, settings=settings), "trafilatura")
    without = clean_page(plain_page(), url=URL, settings=replace(settings, use_trafilatura=False))
    assert isinstance(without, Article) and without.field_sources["body"] == "body"


def test_container_hint_wins_when_present() -> None:
    page = plain_page().replace(b"class='txt'", b"class='TRS_Editor'")
    check(clean_page(page, url=URL, settings=CleanerSettings()), "hint:TRS_Editor")


def test_a_hint_on_a_sidebar_loses_to_the_body() -> None:
    """Every hinted element is a candidate under the same score: a sidebar with a CMS class does not win."""
    page = plain_page().replace(b"class='left'", b"class='article-content'")
    check(clean_page(page, url=URL, settings=CleanerSettings()), "density")


def test_a_short_article_beats_a_teaser_stream_whose_summaries_are_furniture() -> None:
    """A portal's "more for you" stream scores on its items' long summaries, but those are furniture the
    body leaves out: a candidate is worth the text it keeps, so the short item under the headline wins."""
    summary = "，".join(EXPECTED["text"].replace("\n", "，").split("，")[5:40])[:430]
    teasers = "".join(
        f"<li><div class='item-content'><div class='provider'>新闻网 · {i} 小时前</div>"
        f"<h4><a href='/t{i}.html'>第{i}篇推荐文章的标题在这里显示</a></h4>"
        f"<p class='item-summary'>{summary}</p></div></li>"
        for i in range(8)
    )
    html = (
        "<html><head><meta charset='utf-8'><title>短讯</title></head><body>"
        f"<article><h1>{EXPECTED['title']}</h1><div class='byline'>2020-02-20 08:21</div>"
        f"<div class='article-body'><p>{PARAGRAPHS[0][:150]}</p></div></article>"
        f"<h3>你可能还想看</h3><ul class='stream'>{teasers}</ul></body></html>"
    )
    result = clean_page(html.encode("utf-8"), url=URL, settings=CleanerSettings())
    assert isinstance(result, Article), result
    assert result.text == PARAGRAPHS[0][:150]
    assert "item-content" not in result.field_sources["body_choice"]


def test_an_unforeseen_error_in_layout_becomes_an_extract_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import cleaner.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(cleaner.pipeline, "walk_lines", broken)
    result = clean_page(plain_page(), url=URL, settings=CleanerSettings())
    assert isinstance(result, Rejection) and result.reason is Reason.INTERNAL_ERROR
    assert result.detail.startswith("KeyError")
    assert result.encoding is not None and result.encoding.used  # what decoding found is kept


def test_a_named_container_has_its_own_lower_floor() -> None:
    """A short news item can score below the floor a bare block needs; inside an element a container
    hint names (here ``<article>``) the lower ``min_named_body_score`` holds, so the fallback extractor
    is not asked (it would take the teasers around a short item)."""
    html = (
        "<html><head><meta charset='utf-8'><title>快讯</title></head><body>"
        f"<article><h1>{EXPECTED['title']}</h1><p>{PARAGRAPHS[0][:100]}。</p></article>"
        f"<ul>{SIDEBAR}</ul></body></html>"
    ).encode()
    settings = replace(CleanerSettings(), min_body_score=1000.0, min_named_body_score=4.0)
    result = clean_page(html, url=URL, settings=settings)
    assert isinstance(result, Article), result
    assert result.field_sources["body"] == "hint:article" and result.text == PARAGRAPHS[0][:100] + "。"
    strict = clean_page(html, url=URL, settings=replace(settings, min_named_body_score=1000.0))
    assert isinstance(strict, Article) and strict.field_sources["body"] == "trafilatura"
