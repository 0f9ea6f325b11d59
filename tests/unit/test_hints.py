"""Site hints: an encoding and CSS selectors tried first, the general rules when they do not fit."""

from __future__ import annotations

from cleaner import CleanerSettings, PageHints, Rejection, clean_page
from tests.conftest import SEEDS, char_f1

SETTINGS = CleanerSettings()


def seed_text() -> tuple[str, str]:
    import json

    seed = json.loads(next(iter(sorted((SEEDS / "expected").glob("*.json")))).read_text(encoding="utf-8"))
    return seed["title"], seed["text"]


def awkward_page() -> tuple[bytes, str, str]:
    """The article sits in an unmarked div; a sidebar of headlines has more text; the <title> is generic."""
    title, text = seed_text()
    body = "".join(f"<p>{line}</p>" for line in text.split("\n"))
    sidebar = "".join(f"<p>{line}</p>" for line in text.split("\n")[::-1]) * 2
    html = (
        '<html><head><meta charset="utf-8"><title>首页 - 某某网</title></head><body>'
        f'<div class="side">{sidebar}</div>'
        f'<div class="bt">{title}</div><span class="sj">发布时间：2020-03-01 10:00</span>'
        f'<div class="zw-text">{body}</div></body></html>'
    )
    return html.encode("utf-8"), title, text


def test_selectors_pick_title_date_and_body() -> None:
    page, title, text = awkward_page()
    hints = PageHints(body_selector="div.zw-text", title_selector="div.bt", date_selector="span.sj")
    article = clean_page(page, url="http://x.gov.cn/1.html", settings=SETTINGS, hints=hints)
    assert not isinstance(article, Rejection)
    assert article.title == title
    assert article.published_at == "2020-03-01T10:00:00+08:00"
    assert char_f1(article.text, text) > 0.99
    assert article.field_sources["body"] == "site:body" and article.field_sources["title"] == "site:title"
    plain = clean_page(page, url="http://x.gov.cn/1.html", settings=SETTINGS)
    assert not isinstance(plain, Rejection)
    assert not plain.field_sources["body"].startswith("site:") and plain.field_sources["title"] != "site:title"


def test_a_selector_that_matches_nothing_falls_back() -> None:
    page, _, _ = awkward_page()
    plain = clean_page(page, url="http://x.gov.cn/1.html", settings=SETTINGS)
    stale = clean_page(
        page,
        url="http://x.gov.cn/1.html",
        settings=SETTINGS,
        hints=PageHints(body_selector="div.gone", title_selector="["),
    )
    assert stale == plain


def test_an_encoding_hint_is_used_when_the_bytes_fit_it() -> None:
    _, _, text = awkward_page()
    page = ('<html><head><meta charset="utf-8"></head><body><div>' + text + "</div></body></html>").encode("gbk")
    hinted = clean_page(page, url="http://x.gov.cn/2.html", settings=SETTINGS, hints=PageHints(encoding="gbk"))
    assert not isinstance(hinted, Rejection) and hinted.encoding is not None
    assert (hinted.encoding.used, hinted.encoding.source, hinted.encoding.declared_wrong) == (
        "gb18030",
        "site-hint",
        True,
    )
    wrong = clean_page(page, url="http://x.gov.cn/2.html", settings=SETTINGS, hints=PageHints(encoding="utf-8"))
    assert not isinstance(wrong, Rejection) and wrong.encoding is not None
    assert wrong.encoding.source != "site-hint" and char_f1(wrong.text, hinted.text) > 0.99
