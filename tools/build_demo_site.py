"""Build the offline demo portal in ``newsflow/demo_site/``: 清河市人民政府's news centre.

``newsflow demo`` serves the folder on 127.0.0.1 and crawls it. The portal has a home page,
robots.txt (``Disallow: /internal/``), five TRS-style list pages (``/xwzx/index.html``,
``index_1.html`` … ``index_4.html``) and 48 article pages at ``/xwzx/YYYYMM/tYYYYMMDD_NNNNNN.html``
in UTF-8, GBK and Big5 with correct, missing and wrong charset declarations, plus two
multi-page articles, a PDF attachment, one repost (same story at a second URL), one page too
short to be an article, a link to a missing page and a page that robots.txt disallows.

The article pages are rendered by ``tests/fixtures/build_cms_fixtures.py`` (its CMS templates,
furniture and charset handling), with bodies that are excerpts of the real seed articles; some
pages carry the seeds' real defects (pinyin glosses, GBK mojibake, traditional script) as the
seed pages had them. ``manifest.json`` gives every path its kind, the HTTP Content-Type the
server sends, the real encoding, the declaration and what the cleaner must recover.

Deterministic: ``python tools/build_demo_site.py`` writes the same bytes every time, and
checks the result with the real cleaner before writing it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from unittest import mock
from urllib.parse import urljoin, urlsplit

import opencc
from lxml import html as lxml_html

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import char_f1  # noqa: E402
from cleaner import Article, CleanerSettings, Rejection, clean_page  # noqa: E402
from cleaner.identity import hamming  # noqa: E402
from tests.fixtures import build_cms_fixtures as cms  # noqa: E402

OUT_DIR = REPO_ROOT / "newsflow" / "demo_site"
SEED_TEXTS = REPO_ROOT / "tests" / "data" / "seeds"
BASE_URL = "http://127.0.0.1/"
MISSING_PATH = "/xwzx/202003/t20200301_999999.html"
ATTACHMENT_PATH = "/xwzx/202002/P020200209123456.pdf"
DRAFT_PATH = "/internal/draft.html"
ANCHOR_ID = 512345  # the id of the article with the attachment (2020-02-09)
PER_LIST_PAGE = 10
MAX_SITE_BYTES = 2 * 1024 * 1024
ARTICLE_RE = re.compile(r"^/xwzx/\d{6}/t\d{8}_\d{6}(?:_\d+)?\.html$")
LIST_RE = re.compile(r"^/xwzx/index(?:_\d+)?\.html$")
EXTERNAL_HREF_RE = re.compile(r'\s+href="https?://[^"]*"')
SELF_LINK_RE = re.compile(rb"(?:https?:)?//(?:127\.0\.0\.1|www\.qinghe\.gov\.cn)")

QINGHE = cms.Site(
    "清河市人民政府",
    "www.qinghe.gov.cn",
    "清河市",
    "清河市人民政府办公室",
    "1305990001",
    "冀ICP备05009527号",
    "13059902000118",
    "0319-8123456",
    "河北省清河市清河区人民路1号",
    "gov",
    cms.GOV_COLUMNS,
)
SITE_KEY = "qinghe_demo"

# --------------------------------------------------------------------------
# Stories: the fixture builder's 32 excerpts, and these (each a different story)
# --------------------------------------------------------------------------

NEW_EXCERPTS: tuple[cms.ExcerptSpec, ...] = (
    cms.ExcerptSpec("000d", "000", 2, 4, "（四）"),
    cms.ExcerptSpec("000e", "000", 1, 4, "（五）"),
    cms.ExcerptSpec("001h", "001", 3, 5, "（五）"),
    cms.ExcerptSpec("001i", "001", 19, 21, "（六）"),
    cms.ExcerptSpec("001j", "001", 7, 10, "（七）"),
    cms.ExcerptSpec("002i", "002", 6, 8, "（九）"),
    cms.ExcerptSpec("002j", "002", 22, 26, "（十）"),
    cms.ExcerptSpec("002k", "002", 8, 17, "（十一）"),  # two pages: 8-12 and 13-17
    cms.ExcerptSpec("002l", "002", 13, 15, "（十二）"),  # only its first paragraph: too short
    cms.ExcerptSpec("003j", "003", 8, 10, "（八）"),
    cms.ExcerptSpec("003k", "003", 2, 5, "（九）"),
    cms.ExcerptSpec("003l", "003", 4, 7, "（十）"),  # the page robots.txt disallows
    cms.ExcerptSpec("003m", "003", 13, 21, "（十一）"),  # two pages: 13-16 and 17-21
    cms.ExcerptSpec("004f", "004", 4, 7, "（三）"),
    cms.ExcerptSpec("004g", "004", 1, 3, "（四）"),
    cms.ExcerptSpec("004h", "004", 12, 14, "（五）"),
)

# One row per article page, grouped by seed story. Columns: excerpt | date as shown |
# template | real encoding | <meta> charset | charset in the HTTP Content-Type | 来源 | flags.
# Flags: seed_text (the seed's own dirty paragraphs), seed_title (its dirty headline too),
# trad (traditional script in GBK), long (sidebars longer than the body), late (<meta> charset
# past byte 1024), no_meta_date, head=<HEAD_TITLES key>, attach (links the PDF), repost (second
# URL of a story), split=N (two pages, the second from paragraph N), short (one line: too short).
PAGE_TABLE = """
000a | 2020-02-17 11:31    | trs          | utf-8 | utf-8  | utf-8 | 人民政协网         | seed_text seed_title
000b | 2020-02-18 09:20    | govcn        | utf-8 | utf-8  | -     | 四平日报           | seed_text
000c | 2020-02-19          | hanweb       | big5  | -      | -     | 四平日报           |
000d | 2020-02-20          | table_a      | gbk   | gb2312 | -     | 四平市政协办公室   | trad
000e | 2020-02-21 15:02    | html5        | utf-8 | utf-8  | -     | 人民政协网         |
001a | 2022-04-14 10:05:38 | unionstyle   | utf-8 | utf-8  | utf-8 | 各界新闻网         | seed_text seed_title
001b | 2022-04-15          | wz_con_text  | big5  | big5   | -     | 商洛市政协办公室   |
001c | 2022-04-15 17:22:06 | unionstyle   | gbk   | utf-8  | -     | 商洛市政协         |
001d | 2022-04-19 18:20    | html5        | utf-8 | utf-8  | -     | 商洛日报           | seed_text long
001e | 2022-04-18 14:26    | govcn        | big5  | big5   | Big5  | 商洛日报           |
001f | 2022-04-16 09:12    | trs          | gbk   | gb2312 | -     | 商洛市政协办公室   |
001g | 2022-04-17 08:30:45 | generic_br   | utf-8 | -      | -     | 各界新闻网         | head=site_col_title
001h | 2022-04-20 10:40:00 | wz_article   | utf-8 | utf-8  | -     | 商洛市政协办公室   |
001i | 2022-04-21          | hanweb       | utf-8 | utf-8  | -     | 各界新闻网         |
001j | 2022-04-22 16:10    | table_b      | gbk   | gbk    | -     | 商洛日报           |
002a | 2020-02-08 09:30:00 | html5        | utf-8 | utf-8  | utf-8 | -                  |
002b | 2020-02-09          | hanweb       | utf-8 | utf-8  | -     | 诸城市政协办公室   |
002c | 2020-02-10 10:00:00 | generic_br_b | big5  | big5   | big5  | -                  | long
002d | 2020-02-10 21:03:11 | generic_br   | gbk   | gbk    | -     | 诸城市政协         | seed_text
002e | 2020-02-11 08:47:19 | unionstyle   | utf-8 | -      | -     | -                  | long head=title_site
002f | 2020-02-09 16:20    | trs          | utf-8 | utf-8  | -     | 诸城市政协         | attach
002g | 2020-02-12 15:31    | table_b      | gbk   | -      | -     | -                  | head=site
002h | 2020-02-13 07:58:30 | wz_article   | gbk   | gb2312 | -     | 诸城市政协         | late long
002i | 2020-02-13 10:15    | govcn        | utf-8 | gb2312 | -     | 诸城市政协办公室   |
002j | 2020-02-14 09:30:00 | wz_con_text  | utf-8 | UTF-8  | UTF-8 | 诸城市政协         |
002k | 2020-02-11 19:40    | hanweb       | gbk   | gbk    | -     | 诸城市政协办公室   | split=5
002l | 2020-02-12 10:00:00 | unionstyle   | utf-8 | utf-8  | -     | 诸城市政协         | short
003a | 2020-05-28 08:19    | trs          | utf-8 | utf-8  | UTF-8 | 福清新闻网         |
003a | 2020-05-29 10:30:00 | generic_br   | gbk   | gbk    | -     | 福清新闻网         | repost
003b | 2020-05-28 08:19:52 | html5        | utf-8 | utf-8  | -     | 福清新闻网         |
003c | 2020-05-29 15:03:44 | unionstyle   | big5  | big5   | -     | 福清新闻网         |
003d | 2020-05-30 09:00    | govcn        | gbk   | -      | -     | 福清市委组织部     |
003e | 2020-06-01 11:47:02 | generic_br_b | utf-8 | -      | utf-8 | 福清新闻网         |
003f | 2020-06-02 09:40:12 | wz_article   | utf-8 | utf-8  | -     | 福清市政协办公室   |
003g | 2020-05-31 16:05    | table_b      | gbk   | gb2312 | gbk   | 福清新闻网         |
003h | 2020-06-02 10:12    | html5        | big5  | big5   | -     | 福清新闻网         | no_meta_date
003i | 2020-06-03          | hanweb       | utf-8 | utf-8  | -     | 福清市委组织部     |
003j | 2020-06-04 08:45:00 | wz_con_text  | utf-8 | utf-8  | -     | 福清新闻网         |
003k | 2020-06-05 10:20    | trs          | big5  | gbk    | -     | 福清市委组织部     |
003m | 2020-06-06 09:00    | trs          | utf-8 | utf-8  | -     | 福清新闻网         | split=4
004a | 2020-02-08          | hanweb       | gbk   | gb2312 | UTF-8 | 九三学社七台河市委 |
004b | 2020-02-12 16:40    | trs          | big5  | big5   | big5  | 九三学社七台河市委 |
004c | 2020-02-10 09:30:00 | wz_con_text  | utf-8 | UTF-8  | UTF-8 | 七台河市政协       |
004d | 2020-02-07 10:15    | govcn        | utf-8 | utf-8  | -     | 九三学社七台河市委 |
004e | 2020-02-14          | table_a      | gbk   | big5   | -     | 七台河市政协       |
004f | 2020-02-09 14:00:00 | html5        | utf-8 | utf-8  | -     | 九三学社七台河市委 | seed_text
004g | 2020-02-11 19:12:40 | generic_br   | gbk   | -      | -     | 七台河市政协       |
004h | 2020-02-13 11:30:00 | unionstyle   | utf-8 | utf-8  | -     | 九三学社七台河市委 |
"""
DRAFT_ROW = "003l | 2020-06-08 17:45 | trs | utf-8 | utf-8 | utf-8 | 福清市委组织部 |"

# The dead link's list entry: a headline from the fixtures' furniture, dated 2020-03-01.
MISSING_TITLE = "{city}召开全市经济工作会议"
ATTACHMENT_NAME = "众志成城、共克时艰，坚决打赢疫情阻击战.pdf"  # the notice 002f mentions


@dataclass(frozen=True)
class Row:
    excerpt: str
    date: str
    spec: cms.PageSpec
    flags: tuple[str, ...]

    def flag(self, name: str) -> str | None:
        """The value of ``name=value``, ``""`` for a bare flag, None when absent."""
        for f in self.flags:
            key, _, value = f.partition("=")
            if key == name:
                return value
        return None

    @property
    def key(self) -> str:
        return self.excerpt + ("~repost" if self.flag("repost") is not None else "")


def parse_row(line: str) -> Row:
    cells = [c.strip() for c in line.split("|")]
    excerpt, date, template, encoding, meta, http_charset, source, flags_text = cells
    flags = tuple(flags_text.split())
    head = next((f.split("=", 1)[1] for f in flags if f.startswith("head=")), "title_col_site")
    spec = cms.PageSpec(
        template,
        encoding,
        excerpt,
        SITE_KEY,
        date,
        meta=None if meta == "-" else meta,
        header="text/html" if http_charset == "-" else f"text/html; charset={http_charset}",
        source=None if source == "-" else source,
        traditional="trad" in flags,
        long_sidebar="long" in flags,
        meta_date="no_meta_date" not in flags,
        late_meta="late" in flags,
        head_title=head,
    )
    return Row(excerpt, date, spec, flags)


ROWS: tuple[Row, ...] = tuple(parse_row(line) for line in PAGE_TABLE.strip().splitlines())
DRAFT = parse_row(DRAFT_ROW)

# --------------------------------------------------------------------------
# Articles, and the seeds' own dirty paragraphs
# --------------------------------------------------------------------------

GLOSS_RE = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ]+\)")
ASCII_PUNCT = str.maketrans(",!?:;()", "，！？：；（）")


def seed_lines(seed: dict) -> list[str]:
    """The lines of the seed page as the earlier tool extracted them, defects and all."""
    text = (SEED_TEXTS / seed["seed"]).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def with_seed_defects(article: cms.Article, seed: dict, t2s: opencc.OpenCC, *, title: bool) -> cms.Article:
    """Show the paragraphs (and the title) as the seed page had them: pinyin glosses, mojibake, traditional script.

    A paragraph keeps its clean form when no seed line matches it closely enough.
    """
    lines = [(line, t2s.convert(GLOSS_RE.sub("", line)).translate(ASCII_PUNCT)) for line in seed_lines(seed)]

    def as_seed_had_it(clean: str) -> str:
        line, key = max(lines, key=lambda pair: char_f1(pair[1], clean))
        return line if char_f1(key, clean) >= 0.9 else clean

    shown = tuple(as_seed_had_it(para) for para in article.paragraphs)
    headline = as_seed_had_it(article.title) if title else article.title
    return dataclasses.replace(article, paragraphs=shown, title=headline)


def seed_defects(shown: cms.Article, clean: cms.Article) -> list[str]:
    text = "\n".join((shown.title, *shown.paragraphs))
    found = []
    if GLOSS_RE.search(text):
        found.append("pinyin_annotations")
    if "?!" in text:  # a GBK byte stream cut one byte into 。 before “/”
        found.append("gbk_mojibake")
    if shown.paragraphs != clean.paragraphs or shown.title != clean.title:
        found.append("traditional_script")
    return found


def split_article(article: cms.Article, cut: int) -> tuple[cms.Article, ...]:
    return (
        dataclasses.replace(article, paragraphs=article.paragraphs[:cut]),
        dataclasses.replace(article, paragraphs=article.paragraphs[cut:]),
    )


def page_articles(
    row: Row, article: cms.Article, seeds: dict[str, dict], t2s: opencc.OpenCC
) -> tuple[tuple[cms.Article, ...], tuple[cms.Article, ...], tuple[str, ...]]:
    clean = article
    defects: list[str] = []
    if row.flag("short") is not None:
        clean = dataclasses.replace(article, paragraphs=article.paragraphs[:1])
    shown = clean
    if row.flag("seed_text") is not None:
        seed = seeds[row.excerpt[:3]]
        shown = with_seed_defects(clean, seed, t2s, title=row.flag("seed_title") is not None)
        defects.extend(seed_defects(shown, clean))
    cut = row.flag("split")
    if cut:
        return split_article(shown, int(cut)), split_article(clean, int(cut)), tuple(defects)
    return (shown,), (clean,), tuple(defects)


def assign_paths(rows: tuple[Row, ...]) -> dict[str, str]:
    """``/xwzx/YYYYMM/tYYYYMMDD_NNNNNN.html``: ids grow with the publication time."""
    order = sorted(rows, key=lambda r: (r.date, r.key))
    anchor = next(i for i, r in enumerate(order) if r.flag("attach") is not None)
    paths = {}
    for rank, row in enumerate(order):
        jitter = 0 if rank == anchor else int(cms.digest(row.key, length=4), 16) % 11
        n = ANCHOR_ID + (rank - anchor) * 23 + jitter
        ymd = row.date[:10].replace("-", "")
        paths[row.key] = f"/xwzx/{ymd[:6]}/t{ymd}_{n:06d}.html"
    return paths


# --------------------------------------------------------------------------
# Rendering article pages with the fixture builder
# --------------------------------------------------------------------------


@contextmanager
def demo_site_registered(spec: cms.PageSpec) -> Iterator[None]:
    """``build_page`` renders ``PAGES[index]`` of a site in ``SITES``: give it ours."""
    with mock.patch.object(cms, "PAGES", (spec,)), mock.patch.dict(cms.SITES, {SITE_KEY: QINGHE}):
        yield


PAGER = {
    "first": '<span class="current">1</span>&nbsp;<a href="./{next}">2</a>&nbsp;<a href="./{next}">下一页</a>',
    "second": '<a href="./{prev}">上一页</a>&nbsp;<a href="./{prev}">1</a>&nbsp;<span class="current">2</span>',
}
ATTACHMENT_HTML = '<p>附件：<a href="./{file}" target="_blank">{name}</a></p>'.format(
    file=ATTACHMENT_PATH.rsplit("/", 1)[1], name="{name}"
)
# Where a template's page gets extra blocks (in-article pagination, attachments) and how it
# wraps each: just after the article body, outside the element that holds it.
EXTRA_AT: dict[str, tuple[str, str]] = {
    "trs": ('<div class="article-tools">', '<div class="{cls}">{html}</div>\n      '),
    "hanweb": (
        '<tr><td align="right" height="30">',
        '<tr><td align="center" height="36" class="{cls}">{html}</td></tr>\n        ',
    ),
}


def encode_page(text: str, spec: cms.PageSpec) -> bytes:
    converted = spec.encoding == "big5" or spec.traditional
    return text.encode(cms.CODECS[spec.encoding], errors="xmlcharrefreplace" if converted else "strict")


def render(
    spec: cms.PageSpec,
    article: cms.Article,
    others: list[cms.Article],
    pid: str,
    path: str,
    extras: list[tuple[str, str]],
    converters: dict[str, opencc.OpenCC],
) -> cms.Built:
    """One article page, every link relative or root-relative, verified like the fixtures."""
    with demo_site_registered(spec):
        built = cms.build_page(0, pid, [article, *others], converters)
    text = built.html_text
    own = built.expected["url"]
    text = text.replace(cms.esc(own), path).replace(own, path).replace(f"http://{QINGHE.host}", "")
    text = EXTERNAL_HREF_RE.sub("", text)  # the ICP / police record links in the footers keep their text
    if extras:
        conv = converters["s2tw"] if spec.encoding == "big5" else converters["s2t"] if spec.traditional else None
        anchor, block = EXTRA_AT[cms.TEMPLATES[spec.template].family]
        if text.count(anchor) != 1:
            raise ValueError(f"{path}: anchor for extra blocks not unique")
        extra = "".join(block.format(cls=cls, html=cms.conv_pattern(html, conv)) for cls, html in extras)
        text = text.replace(anchor, extra + anchor)
    built = dataclasses.replace(built, html_text=text, data=encode_page(text, spec))
    if len(cms.squash("".join(article.paragraphs))) >= 290:  # the too-short page cannot pass this
        cms.verify(built)
    return built


def pager_for(path: str, second_path: str, index: int) -> str:
    name = path.rsplit("/", 1)[1]
    second = second_path.rsplit("/", 1)[1]
    return PAGER["first"].format(next=second) if index == 0 else PAGER["second"].format(prev=name)


def continuation_path(path: str) -> str:
    return path.removesuffix(".html") + "_2.html"


# --------------------------------------------------------------------------
# Home, list pages, robots.txt, the attachment
# --------------------------------------------------------------------------

PORTAL_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1" />
<title>{{head_title}}</title>
<meta name="SiteName" content="{{site_name}}" />
<meta name="SiteIDCode" content="{{site_code}}" />
<meta name="ColumnName" content="{{column}}" />
<link href="/images/public.css" rel="stylesheet" type="text/css" />
{{style}}
</head>
<body>
<div class="top w1000">
  <div class="logo"><a href="/index.html"><img src="/images/logo.png" alt="{{site_name}}" /></a></div>
  <div class="search"><form action="/search/" method="get"><input type="text" name="searchword" value="" />
  <input type="submit" value="搜索" /></form></div>
</div>
<div class="nav"><ul class="w1000">
{{nav}}
</ul></div>
<div class="w1000 main">
  <div class="position">当前位置：<a href="/index.html">首页</a>{{crumb}}</div>
  <div class="main-left">
{{content}}
  </div>
  <div class="main-right">
    <div class="box"><div class="box-hd">热点新闻</div><ul>
{{hot}}
    </ul></div>
    <div class="box"><div class="box-hd">专题专栏</div><ul class="zt">
{{topics}}
    </ul></div>
  </div>
</div>
<div class="footer">
  <div class="w1000">
    <p>{{site_name}}&nbsp;&nbsp;主办：{{org}}&nbsp;&nbsp;地址：{{address}}&nbsp;&nbsp;电话：{{phone}}</p>
    <p>网站标识码：{{site_code}}&nbsp;&nbsp;{{icp}}&nbsp;&nbsp;{{gongan}}</p>
    <p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a>{{footer_links}}</p>
  </div>
</div>
</body>
</html>
"""

LIST_CONTENT = """    <div class="column-hd">新闻中心</div>
    <ul class="list">
{{items}}
    </ul>
    <div class="page">{{pager}}</div>"""

HOME_CONTENT = """    <div class="column-hd"><a href="/xwzx/index.html">新闻中心</a>
      <a class="more" href="/xwzx/index.html">更多&gt;&gt;</a></div>
    <ul class="list">
{{items}}
    </ul>
    <div class="column-hd">政务公开</div>
    <ul class="list">
      <li><a href="{{draft_href}}">{{draft_title}}</a><span>{{draft_date}}</span></li>
    </ul>"""

# The list and home pages dress like the TRS article pages: their stylesheet, plus list rules.
PORTAL_STYLE = (
    re.search(r"<style[^>]*>.*?</style>", cms.TRS_PAGE, re.S)
    .group(0)
    .replace(
        "</style>",
        ".list li{line-height:36px;border-bottom:1px dashed #ddd;font-size:14px;}\n"
        ".list li span{float:right;color:#999;}\n.page{text-align:center;line-height:40px;}\n</style>",
    )
)
LIST_ITEM = '      <li><a href="{{href}}" target="_blank" title="{{title}}">{{title}}</a><span>{{date}}</span></li>'
NAV_ITEM = '<li><a href="{{href}}">{{label}}</a></li>'
HOT_ITEM = '      <li><a href="{{href}}" title="{{title}}">{{title}}</a></li>'
TOPIC_ITEM = '      <li><a href="{{href}}">{{title}}</a></li>'
ROBOTS = "User-agent: *\nDisallow: /internal/\n"


@dataclass(frozen=True)
class Entry:
    """A line of a list page."""

    path: str
    title: str
    date: str  # YYYY-MM-DD HH:MM:SS, for ordering


def list_name(page: int) -> str:
    return "index.html" if page == 0 else f"index_{page}.html"


def list_pager(page: int, pages: int) -> str:
    """TRS numbering: 首页 上一页 1 2 … 下一页 尾页; the last page has no 下一页."""
    parts = [f"共{pages}页"]
    if page > 0:
        parts += [f'<a href="./{list_name(0)}">首页</a>', f'<a href="./{list_name(page - 1)}">上一页</a>']
    for i in range(pages):
        current = f'<span class="current">{i + 1}</span>'
        parts.append(current if i == page else f'<a href="./{list_name(i)}">{i + 1}</a>')
    if page < pages - 1:
        parts += [f'<a href="./{list_name(page + 1)}">下一页</a>', f'<a href="./{list_name(pages - 1)}">尾页</a>']
    return "&nbsp;".join(parts)


def portal_page(column: str, crumb: str, content: str, footer_links: str = "") -> bytes:
    city = QINGHE.city
    values = {
        "head_title": cms.esc(f"{column}_{QINGHE.name}" if column != "首页" else QINGHE.name),
        "site_name": cms.esc(QINGHE.name),
        "site_code": QINGHE.site_code,
        "style": PORTAL_STYLE,
        "column": cms.esc(column),
        "crumb": crumb,
        "content": content,
        "footer_links": footer_links,
        "nav": "\n".join(
            cms.fill(
                NAV_ITEM,
                {
                    "href": "/xwzx/index.html" if href == "/xwzx/" else href,
                    "label": cms.esc(label.replace("{city}", city)),
                },
            )
            for label, href in cms.NAV["gov"]
        ),
        "hot": "\n".join(
            cms.fill(HOT_ITEM, {"href": f"/xwzx/rdxw/{4100 + i}.html", "title": cms.esc(t.replace("{city}", city))})
            for i, t in enumerate(cms.HOT_NEWS[:8])
        ),
        "topics": "\n".join(
            cms.fill(TOPIC_ITEM, {"href": f"/ztzl/zt{i:02d}/", "title": cms.esc(t)})
            for i, t in enumerate(cms.TOPICS[:6], 1)
        ),
        "org": cms.esc(QINGHE.org),
        "phone": QINGHE.phone,
        "address": cms.esc(QINGHE.address),
        "icp": cms.esc(QINGHE.icp),
        "gongan": cms.esc(f"{QINGHE.icp[0]}公网安备 {QINGHE.gongan_code}号"),
    }
    text = cms.fill(PORTAL_PAGE, values)
    if "{{" in text:
        raise ValueError("portal page: unfilled slot")
    return text.encode("utf-8")


def list_items(entries: list[Entry], relative_to: str) -> str:
    def href(path: str) -> str:
        return "./" + path.removeprefix(relative_to) if path.startswith(relative_to) else path

    return "\n".join(
        cms.fill(LIST_ITEM, {"href": href(e.path), "title": cms.esc(e.title), "date": e.date[:10]}) for e in entries
    )


def list_pages(entries: list[Entry]) -> dict[str, bytes]:
    pages = -(-len(entries) // PER_LIST_PAGE)
    out = {}
    for page in range(pages):
        chunk = entries[page * PER_LIST_PAGE : (page + 1) * PER_LIST_PAGE]
        content = cms.fill(LIST_CONTENT, {"items": list_items(chunk, "/xwzx/"), "pager": list_pager(page, pages)})
        crumb = '&nbsp;&gt;&nbsp;<a href="./index.html">新闻中心</a>'
        out[f"/xwzx/{list_name(page)}"] = portal_page("新闻中心", crumb, content)
    return out


def home_page(entries: list[Entry], draft: Entry) -> bytes:
    content = cms.fill(
        HOME_CONTENT,
        {
            "items": list_items(entries[:8], "/"),
            "draft_href": draft.path,
            "draft_title": cms.esc(draft.title),
            "draft_date": draft.date[:10],
        },
    )
    return portal_page("首页", "", content, ' | <a href="/xwzx/index.html">新闻中心</a>')


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica, ASCII text), with a correct xref table."""
    ops = " ".join(f"({line}) Tj 0 -22 Td" for line in lines)
    stream = f"BT /F1 16 Tf 72 760 Td {ops} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --------------------------------------------------------------------------
# The site
# --------------------------------------------------------------------------


def content_type_charset(spec: cms.PageSpec) -> str:
    return spec.header or "text/html"


def expected_fields(article: cms.Article, spec: cms.PageSpec, body: str, rejected: str | None = None) -> dict:
    return {
        "title": article.title,
        "published_at": cms.PubDate.parse(spec.date).expected(),
        "source": spec.source,
        "body": body,
        "rejected": rejected,  # the cleaner's rejection reason, when it must reject the page
    }


def page_entry(kind: str, spec: cms.PageSpec, expected: dict | None, **extra: object) -> dict:
    _, decl = cms.declaration(spec)
    entry = {
        "kind": kind,
        "content_type": content_type_charset(spec),
        "encoding": spec.encoding,
        "declaration": decl,
        "expected": expected,
    }
    entry.update({k: v for k, v in extra.items() if v is not None})
    return entry


def build_site() -> tuple[dict[str, bytes], dict[str, dict]]:
    seeds = cms.load_seeds()
    t2s = opencc.OpenCC("t2s")
    converters = {name: opencc.OpenCC(name) for name in ("s2t", "s2tw")}
    specs = {e.key: e for e in (*cms.EXCERPTS, *NEW_EXCERPTS)}
    articles = {key: cms.make_article(spec, seeds) for key, spec in specs.items()}
    paths = assign_paths(ROWS)
    originals = {row.excerpt: paths[row.key] for row in ROWS if row.flag("repost") is None}
    everyone = [articles[row.excerpt] for row in ROWS if row.flag("repost") is None]

    files: dict[str, bytes] = {}
    manifest: dict[str, dict] = {}
    entries: list[Entry] = []
    for row in ROWS:
        path = paths[row.key]
        spec = row.spec
        tpl = cms.TEMPLATES[spec.template]
        shown, clean, defects = page_articles(row, articles[row.excerpt], seeds, t2s)
        others = [a for a in everyone if a is not articles[row.excerpt]]
        pid = f"{SITE_KEY}_{path.rsplit('/', 1)[1].removesuffix('.html')}"
        page_paths = [path] if len(shown) == 1 else [path, continuation_path(path)]
        bodies = ["\n".join(a.paragraphs) for a in clean]
        notes = cms.notes_for(spec, tpl, clean[0])
        for index, (page_path, article) in enumerate(zip(page_paths, shown, strict=True)):
            extras = []
            if len(page_paths) > 1:
                extras.append(("page", pager_for(path, page_paths[1], index)))
            if row.flag("attach") is not None:
                extras.append(("fj", ATTACHMENT_HTML.format(name=ATTACHMENT_NAME)))
            built = render(spec, article, others, pid, page_path, extras, converters)
            files[page_path] = built.data
            common = {
                "template": tpl.family,
                "notes": notes,
                "defects": list(defects),
            }
            if index == 0:
                body = "\n".join(bodies)
                rejected = "quality.too_short" if row.flag("short") is not None else None
                expected = expected_fields(clean[0], spec, body, rejected)
                manifest[page_path] = page_entry(
                    "article",
                    spec,
                    expected,
                    **common,
                    pages=page_paths if len(page_paths) > 1 else None,
                    duplicate_of=originals[row.excerpt] if row.flag("repost") is not None else None,
                    attachments=[ATTACHMENT_PATH] if row.flag("attach") is not None else None,
                )
            else:
                expected = expected_fields(clean[0], spec, bodies[index])
                manifest[page_path] = page_entry("continuation", spec, expected, **common, continues=path)
        entries.append(Entry(path, clean[0].title, cms.PubDate.parse(row.date).fmt("iso")))

    # The page robots.txt disallows: an article like the others, under /internal/.
    draft_article = articles[DRAFT.excerpt]
    draft = render(DRAFT.spec, draft_article, everyone, f"{SITE_KEY}_draft", DRAFT_PATH, [], converters)
    files[DRAFT_PATH] = draft.data
    manifest[DRAFT_PATH] = page_entry(
        "disallowed",
        DRAFT.spec,
        expected_fields(draft_article, DRAFT.spec, "\n".join(draft_article.paragraphs)),
        template="trs",
    )

    city = QINGHE.city
    entries.append(Entry(MISSING_PATH, MISSING_TITLE.replace("{city}", city), "2020-03-01 09:00"))
    entries.sort(key=lambda e: (e.date, e.path), reverse=True)
    files.update(list_pages(entries))
    files["/index.html"] = home_page(entries, Entry(DRAFT_PATH, draft_article.title, DRAFT.date))
    files["/robots.txt"] = ROBOTS.encode("ascii")
    files[ATTACHMENT_PATH] = tiny_pdf(
        [
            "Qinghe City People's Government - attachment P020200209123456",
            "Notice (PDF), linked from /xwzx/202002/t20200209_512345.html",
        ]
    )
    html_utf8 = {
        "content_type": "text/html; charset=utf-8",
        "encoding": "utf-8",
        "declaration": "correct",
        "expected": None,
    }
    none = {"encoding": None, "declaration": None, "expected": None}
    for path in files:
        if LIST_RE.match(path):
            manifest[path] = {"kind": "list", **html_utf8}
    manifest["/index.html"] = {"kind": "home", **html_utf8}
    manifest["/robots.txt"] = {"kind": "robots", "content_type": "text/plain", **none}
    manifest[ATTACHMENT_PATH] = {"kind": "attachment", "content_type": "application/pdf", **none}
    manifest[MISSING_PATH] = {"kind": "missing", "content_type": None, **none}
    return files, dict(sorted(manifest.items()))


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


class CheckFailed(Exception):
    pass


def clean_all(files: dict[str, bytes], manifest: dict[str, dict]) -> dict[str, Article | Rejection]:
    settings = CleanerSettings()
    out = {}
    for path, entry in manifest.items():
        if entry["kind"] in ("article", "continuation", "disallowed"):
            out[path] = clean_page(
                files[path],
                url=BASE_URL.rstrip("/") + path,
                headers={"content-type": entry["content_type"]},
                settings=settings,
            )
    return out


def check_articles(manifest: dict[str, dict], results: dict[str, Article | Rejection]) -> list[str]:
    problems, f1s = [], []
    for path, result in results.items():
        entry = manifest[path]
        exp = entry["expected"]
        if exp.get("rejected"):
            if not (isinstance(result, Rejection) and result.reason.value == exp["rejected"]):
                problems.append(f"{path}: expected rejection {exp['rejected']}, got {result}")
            continue
        if not isinstance(result, Article):
            problems.append(f"{path}: {result}")
            continue
        for field in ("title", "published_at", "source"):
            if getattr(result, field) != exp[field]:
                problems.append(f"{path}: {field} {getattr(result, field)!r} != {exp[field]!r}")
        if result.encoding is None or result.encoding.declared_wrong != (entry["declaration"] == "wrong"):
            problems.append(f"{path}: declared_wrong is {result.encoding and result.encoding.declared_wrong}")
        text = result.text
        if entry.get("pages"):
            rest = [results[p] for p in entry["pages"][1:]]
            text = "\n".join([text, *(r.text for r in rest if isinstance(r, Article))])
        f1 = char_f1(text, exp["body"])
        f1s.append(f1)
        if f1 < 0.95:
            problems.append(f"{path}: body char-F1 {f1:.3f}")
    print(f"cleaner: {len(results)} pages, body char-F1 min {min(f1s):.3f} mean {sum(f1s) / len(f1s):.4f}")
    return problems


def check_near_duplicates(manifest: dict[str, dict], results: dict[str, Article | Rejection]) -> list[str]:
    signatures = {p: r.simhash for p, r in results.items() if isinstance(r, Article)}
    reposts = {frozenset((p, e["duplicate_of"])) for p, e in manifest.items() if e.get("duplicate_of")}
    problems, closest = [], 64
    for a, b in combinations(sorted(signatures), 2):
        distance = hamming(signatures[a], signatures[b])
        if frozenset((a, b)) in reposts:
            print(f"simhash: repost pair {a} ~ {b}: distance {distance}")
            if distance > 3:
                problems.append(f"repost {a} ~ {b}: distance {distance} > 3")
            continue
        closest = min(closest, distance)
        if distance <= 3:
            problems.append(f"near-duplicates {a} ~ {b}: distance {distance}")
    pairs = len(signatures) * (len(signatures) - 1) // 2
    print(f"simhash: {len(signatures)} pages, {pairs} pairs, closest non-repost distance {closest}")
    return problems


def check_links(files: dict[str, bytes], manifest: dict[str, dict]) -> list[str]:
    """Internal links are relative or root-relative; article-shaped ones lead somewhere known."""
    problems, checked = [], 0
    for path, data in files.items():
        if not path.endswith(".html"):
            continue
        if SELF_LINK_RE.search(data):
            problems.append(f"{path}: absolute link to the site itself")
        encoding = manifest[path]["encoding"]
        tree = lxml_html.fromstring(data.decode(cms.CODECS[encoding]))
        for href in tree.xpath("//a/@href"):
            if href.startswith(("javascript:", "#")):
                continue
            checked += 1
            url = urljoin("http://127.0.0.1:8000" + path, href)
            parts = urlsplit(url)
            if parts.netloc != "127.0.0.1:8000":
                problems.append(f"{path}: absolute link {href}")
                continue
            target = parts.path
            if (ARTICLE_RE.match(target) or LIST_RE.match(target)) and target not in manifest:
                problems.append(f"{path}: link to unknown {target}")
            if target.startswith("/internal/") and path != "/index.html":
                problems.append(f"{path}: links the disallowed page")
    print(f"links: {checked} hrefs checked, all relative or root-relative")
    return problems


def check_site(files: dict[str, bytes], manifest: dict[str, dict]) -> None:
    results = clean_all(files, manifest)
    problems = check_articles(manifest, results)
    problems += check_near_duplicates(manifest, results)
    problems += check_links(files, manifest)
    size = sum(len(d) for d in files.values()) + len(manifest_bytes(manifest))
    print(f"size: {len(files) + 1} files, {size} bytes")
    if size >= MAX_SITE_BYTES:
        problems.append(f"site is {size} bytes")
    if problems:
        raise CheckFailed("\n".join(problems))


def manifest_bytes(manifest: dict[str, dict]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def summary(manifest: dict[str, dict]) -> None:
    kinds = Counter(e["kind"] for e in manifest.values())
    pages = [e for e in manifest.values() if e["kind"] == "article"]
    print(f"kinds: {dict(sorted(kinds.items()))}")
    print(f"articles by encoding: {dict(sorted(Counter(e['encoding'] for e in pages).items()))}")
    print(f"articles by declaration: {dict(sorted(Counter(e['declaration'] for e in pages).items()))}")
    by_both = Counter(f"{e['encoding']}/{e['declaration']}" for e in pages)
    print(f"articles by encoding/declaration: {dict(sorted(by_both.items()))}")
    print(f"articles by template: {dict(sorted(Counter(e['template'] for e in pages).items()))}")


def write(files: dict[str, bytes], manifest: dict[str, dict]) -> None:
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    for path, data in sorted(files.items()):
        target = OUT_DIR / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (OUT_DIR / "manifest.json").write_bytes(manifest_bytes(manifest))


def main(argv: list[str]) -> int:
    files, manifest = build_site()
    summary(manifest)
    if "--no-check" not in argv:
        try:
            check_site(files, manifest)
        except CheckFailed as failed:
            print(f"checks failed, nothing written:\n{failed}", file=sys.stderr)
            return 1
    write(files, manifest)
    digest = hashlib.sha256(b"".join(p.encode() + d for p, d in sorted(files.items()))).hexdigest()[:16]
    print(f"wrote {len(files) + 1} files to {OUT_DIR.relative_to(REPO_ROOT)} (content digest {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
