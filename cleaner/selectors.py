"""Selectors as data: where Chinese government CMS templates keep the article.

Ordered from the most specific (a CMS editor's own container) to the most
generic; the first that holds enough CJK text wins. No site-specific rules.
"""

from __future__ import annotations

# (name, xpath) — name is recorded as the body's field source
CONTAINER_HINTS: tuple[tuple[str, str], ...] = (
    ("TRS_Editor", "//div[contains(@class,'TRS_Editor') or contains(@class,'TRS_UEDITOR')]"),
    ("UCAP-CONTENT", "//*[@id='UCAP-CONTENT']"),
    ("zoom", "//*[@id='zoom' or @id='Zoom' or @id='fontzoom' or @id='fontZoom']"),
    ("Custom_UnionStyle", "//div[contains(@class,'Custom_UnionStyle')]"),
    ("pages_content", "//div[contains(@class,'pages_content')]"),
    (
        "article-content",
        "//div[contains(@class,'article-content') or contains(@class,'article_content') or contains(@class,'articleContent')]",
    ),
    (
        "wz_article",
        "//div[contains(@class,'wz_article') or contains(@class,'con_text') or contains(@class,'news_content') or contains(@class,'newsContent') or contains(@class,'detail-content') or contains(@class,'detail_content')]",
    ),
    ("bt_content", "//td[contains(@class,'bt_content')]"),
    ("article", "//article"),
    ("content", "//*[@id='content' or @class='content' or @id='Content' or @class='main-txt' or @class='view']"),
)
META_TITLE = ("articletitle", "og:title", "title")
META_DATE = (
    "pubdate",
    "publishdate",
    "article:published_time",
    "og:release_date",
    "firstpublishedtime",
    "maketime",
    "publishtime",
    "datepublished",
    "date",
    "dateupdate",
    "apub:time",
    "article:modified_time",
)
META_SOURCE = ("contentsource", "source")
META_AUTHOR = ("author",)
TITLE_XPATH = "//h1|//h2|//*[contains(@class,'title') or contains(@class,'Title') or @id='title']|//td[@class='title']|//font[@size>=5]"
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "select",
        "option",
        "button",
        "input",
        "textarea",
        "svg",
        "template",
        "head",
        "object",
        "embed",
    }
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "td",
        "th",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "center",
        "form",
        "header",
        "footer",
        "hr",
        "nav",
        "aside",
        "main",
        "tbody",
        "figure",
        "figcaption",
        "address",
    }
)
DENSITY_CANDIDATES = "//div|//td|//article|//section"
# class/id words that mark a block as article text or as page furniture (readability's lists,
# with the pinyin abbreviations Chinese templates use: zw 正文, nr 内容, wz 文章, xgxw 相关新闻)
POSITIVE_CLASS_RE = r"article|body|content|entry|main|post|text|story|detail|zoom|zhengwen|\bzw|\bnr\b|\bwz"
NEGATIVE_CLASS_RE = (
    r"comment|pinglun|footer|\bfoot|copyright|sidebar|\bside|related|xgxw|xgyd|recommend|\bhot|rank|share|"
    r"\btool|widget|login|banner|breadcrumb|crumb|\bnav|menu|\bad\b|\bads\b|sponsor|promo|\bmeta\b|scroll|"
    r"pager|pagination|\btags?\b|keyword|summary|abstract|\bintro|\blead\b"
)
