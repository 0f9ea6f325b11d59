"""Selectors as data: where Chinese government CMS templates keep the article.

Container hints name the elements where CMS templates keep the article; every element
a hint names becomes a body candidate, ranked with the others by one score (see
:mod:`cleaner.body`). No site-specific rules.
"""

from __future__ import annotations

# (name, tags it applies to or None for any, pattern searched in the class, pattern searched in the id):
# the name is recorded as the candidate's source; every element a hint names is a body candidate
ContainerHint = tuple[str, frozenset[str] | None, str | None, str | None]
CONTAINER_HINTS: tuple[ContainerHint, ...] = (
    ("TRS_Editor", frozenset({"div"}), r"TRS_Editor|TRS_UEDITOR", None),
    ("UCAP-CONTENT", None, None, r"^UCAP-CONTENT$"),
    ("zoom", None, None, r"^(?:zoom|Zoom|fontzoom|fontZoom)$"),
    ("Custom_UnionStyle", frozenset({"div"}), r"Custom_UnionStyle", None),
    ("pages_content", frozenset({"div"}), r"pages_content", None),
    ("article-content", frozenset({"div"}), r"article-content|article_content|articleContent", None),
    (
        "wz_article",
        frozenset({"div"}),
        r"wz_article|con_text|news_content|newsContent|detail-content|detail_content",
        None,
    ),
    ("bt_content", frozenset({"td"}), r"bt_content", None),
    ("article", frozenset({"article"}), None, None),
    ("content", None, r"^(?:content|main-txt|view)$", r"^(?:content|Content)$"),
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
