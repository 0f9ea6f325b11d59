"""Fields read once, from where pages put them: the lines under the headline, bylines, datelines."""

from __future__ import annotations

import pytest

from cleaner import Article, CleanerSettings, clean_page
from cleaner.layout import furniture_kind, walk_lines
from cleaner.metadata import Fields, find_date, read_head_zone, read_info_line, split_names, timestamp_date

PARAGRAPH = "市政协召开专题协商会议，围绕优化营商环境建言献策，与会委员结合调研情况提出意见建议。" * 3


def zone(*lines: str, title: str | None = None) -> Fields:
    fields = Fields()
    read_head_zone(list(lines), fields, title=title)
    return fields


@pytest.mark.parametrize(
    ("lines", "source"),
    [
        (("2019-09-05 11:10 游民星空[整理]",), "游民星空"),  # glued to the date
        (("2018年12月28日 19:55", "新京报", "收藏"), "新京报"),  # alone on the next line
        (("2012年07月11日21:38中国新闻网[微博]戚亚平我要评论(0)",), "中国新闻网"),  # up to the bracket
        (("上海证券报网络版", "2005.08.2605:39"), "上海证券报网络版"),  # an organisation before the date
        (("2015-05-21 05:03:58 来源:", "21世纪经济报道(广州)"), "21世纪经济报道"),  # label, value on the next line
        (("发布时间：2024-05-13 来源：人民日报2024-05-13",), "人民日报"),  # a date glued to the value
        (("2019", "09/07", "19:02", "扬眼", "分享"), "扬眼"),  # a date set in pieces
    ],
)
def test_sources_beside_the_date(lines: tuple[str, ...], source: str) -> None:
    assert zone(*lines).source == source


def test_an_account_above_the_date_is_the_author_and_widgets_are_nothing() -> None:
    fields = zone("maomaobear", "2015-06-19 11:20:11", "0人参与评论")
    assert fields.authors == ["maomaobear"] and fields.source is None
    assert fields.published_at == "2015-06-19T11:20:11+08:00"
    assert zone("2019-09-07 09:25:09", "字号：A-").source is None


def test_the_headline_repeated_beside_the_date_is_not_a_source() -> None:
    assert zone("2016/03/19 10:48", "平镇轮胎行恶火", title="平镇轮胎行恶火 疏散7人1女命丧").source is None


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("澎湃新闻记者 段彦超 廖艳", ["段彦超", "廖艳"]),
        ("本报记者  王乐文  方  敏", ["王乐文", "方敏"]),
        ("记者林悦／南市报导", ["林悦"]),
        ("中央社记者温贵香台北21日电", ["温贵香"]),
        ("广州日报全媒体图片记者黎旭阳、李妍摄", ["黎旭阳", "李妍"]),
    ],
)
def test_names_from_bylines(byline: str, names: list[str]) -> None:
    assert [n for n in split_names(byline) if n in names] == names


def test_outlets_and_datelines_are_sources_only_when_nothing_states_one() -> None:
    lines = ["（中央社记者温贵香台北21日电）行政院今天表示，蛋价上涨。" + PARAGRAPH, PARAGRAPH]
    layout = walk_lines(lines, lines)
    assert layout.fields.authors == ["温贵香"] and layout.guesses.source == "中央社"
    stated = walk_lines(["来源：联合报", *lines], ["来源：联合报", *lines])
    stated.fields.absorb(stated.guesses)
    assert stated.fields.source == "联合报"


def test_dates_in_other_shapes() -> None:
    assert find_date("其它内容 十一月 6th, 2009") == "2009-11-06"
    assert timestamp_date("1581517074") == "2020-02-12T22:17:54+08:00"


@pytest.mark.parametrize(
    "line",
    ["Sun发言人拒绝就交易的反垄断审批情况置评，甲骨文发言人也没有发表评论。", "下届承办单位浙江大学接受会旗并合影"],
)
def test_widget_and_footer_words_inside_text_are_text(line: str) -> None:
    assert furniture_kind(line) is None


def test_footers_and_widgets_are_still_furniture() -> None:
    assert furniture_kind("发表评论") == "comment widget"
    assert furniture_kind("主办单位：某某市人民政府办公室 承办单位：某某市大数据局") == "copyright/ICP footer"
    assert furniture_kind("\ufffd\ufffd\ufffd\ufffd") == "undecodable"


def test_a_page_with_its_info_line_inside_the_headline_block() -> None:
    page = (
        "<html><head><meta charset='utf-8'><title>市政协召开专题协商会_新闻动态_某某市政协</title></head><body>"
        "<div class='nav'><a href='/'>首页</a><a href='/a'>新闻动态</a></div>"
        "<div class='hd'><h1>市政协召开专题协商会</h1><p>2023-12-01 14:43 来源：某某日报 作者：李明</p></div>"
        f"<div class='bd'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div>"
        "<div class='ft'><p>责任编辑：王红</p><p>版权所有：某某市政协</p></div></body></html>"
    ).encode()
    article = clean_page(page, url="http://www.example.gov.cn/a.html", settings=CleanerSettings())
    assert isinstance(article, Article)
    assert article.title == "市政协召开专题协商会"
    assert article.published_at == "2023-12-01T14:43:00+08:00"
    assert (article.source, article.authors, article.editor) == ("某某日报", ("李明",), "王红")
    assert article.text == f"{PARAGRAPH}\n{PARAGRAPH}"


def test_a_credit_line_closes_the_text_but_an_interviewer_does_not() -> None:
    interview = ["记者：您怎么看这次协商会议？", f"张委员：{PARAGRAPH}", "记者：下一步有什么打算？", PARAGRAPH]
    assert walk_lines(interview, interview, title="张委员谈营商环境").body == interview
    credited = [PARAGRAPH, "（本文来源：经济日报 作者：李明）", "相关阅读：某某新闻"]
    layout = walk_lines(credited, credited, title="张委员谈营商环境")
    assert layout.body == [PARAGRAPH]
    assert (layout.fields.source, layout.fields.authors) == ("经济日报", ["李明"])


def test_a_related_links_heading_is_not_the_title() -> None:
    related = "".join(f"<li><a href='/n{i}.html'>政协委员视察第{i}批重点项目建设</a></li>" for i in range(8))
    page = (
        "<html><head><meta charset='utf-8'><title>某某市政协</title></head><body>"
        f"<div class='a'><h3>市政协召开专题协商会</h3><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div>"
        f"<div class='b'><h2>相关报道</h2><ul>{related}</ul></div></body></html>"
    ).encode()
    article = clean_page(page, url="http://www.example.gov.cn/a.html", settings=CleanerSettings())
    assert isinstance(article, Article) and article.title == "市政协召开专题协商会"


def test_bylines_glued_to_the_source_or_slashed_under_the_headline() -> None:
    slashed = zone("石佳/中国青年报", "2019-09-24 09:10", "字号")
    assert (slashed.authors, slashed.source) == (["石佳"], "中国青年报")
    glued = zone("2012年07月07日09:47环球时报[微博]单仁平我要评论(0)")
    assert (glued.authors, glued.source) == (["单仁平"], "环球时报")


def test_a_flattened_line_splits_between_paragraphs_but_not_inside_a_byline() -> None:
    from cleaner.layout import split_paragraphs

    line = "新京报快讯（记者 裴剑飞 通讯员 赵敬）今日有网友爆料。 第二段开始了 第三段"
    assert split_paragraphs(line) == ["新京报快讯（记者 裴剑飞 通讯员 赵敬）今日有网友爆料。", "第二段开始了", "第三段"]


def test_a_government_information_page_names_its_office_and_date() -> None:
    fields = zone("索引号：11220300MB1234 发布机构：四平市统计局", "成文日期：2020-02-17")
    assert (fields.source, fields.published_at) == ("四平市统计局", "2020-02-17")


def test_a_column_name_above_the_date_is_no_author() -> None:
    assert zone("工作动态", "发布时间：2020-02-17 11:31").authors == []


def test_the_headline_is_found_by_its_text_outside_links() -> None:
    """No heading holds the title: the info line is read under the block that shows it, not under
    a breadcrumb link that repeats it (with another date beside it)."""
    page = (
        "<html><head><meta charset='utf-8'><meta property='og:title' content='市政协召开专题协商会'>"
        "<title>某某市政协</title></head><body>"
        "<div class='crumb'><a href='/'>首页</a> <a href='/a.html'>市政协召开专题协商会</a> 2019-01-01</div>"
        "<div class='x'>市政协召开专题协商会</div><div class='y'>2023-12-01 14:43 来源：某某日报</div>"
        f"<div class='z'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div></body></html>"
    ).encode()
    article = clean_page(page, url="http://www.example.gov.cn/a.html", settings=CleanerSettings())
    assert isinstance(article, Article)
    assert (article.published_at, article.source) == ("2023-12-01T14:43:00+08:00", "某某日报")


def test_a_weekday_and_a_twelve_hour_clock_belong_to_the_date() -> None:
    fields = zone("香港电台-财经", "2024年5月22日周三 下午8:21")
    assert fields.published_at == "2024-05-22T20:21:00+08:00"
    assert fields.source == "香港电台-财经" and not fields.authors  # an outlet and its section, not an account
    assert find_date("2019年3月1日（星期五）上午10:05") == "2019-03-01T10:05:00+08:00"
    assert find_date("2019-03-01 晚上9:30") == "2019-03-01T21:30:00+08:00"
    assert find_date("2019年3月1日 中午12:10") == "2019-03-01T12:10:00+08:00"


def test_a_wechat_article_names_its_account_in_its_script() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>新品发布</title></head><body>"
        f"<h1>新品发布</h1><p>昨天</p><div class='rich_media_content'><p>{PARAGRAPH}</p></div>"
        '<script>var nickname = "数码前线";\nvar ct = "1581517074";</script></body></html>'
    )
    article = clean_page(html.encode("utf-8"), url="http://example.invalid/a", settings=CleanerSettings())
    assert isinstance(article, Article), article
    assert article.source == "数码前线" and article.published_at == "2020-02-12T22:17:54+08:00"


def test_names_keep_the_characters_a_simplified_page_writes_them_with() -> None:
    """t2s would turn 王頔 into 王𬱖: a person's name on a simplified page stays as the page writes it."""
    html = (
        "<html><head><meta charset='utf-8'><title>市政协召开专题协商会议</title></head><body>"
        f"<h1>市政协召开专题协商会议</h1><div>2020-02-17 11:31 记者 魏其濛</div><div class='article'><p>{PARAGRAPH}</p>"
        "<p>（责任编辑：王頔）</p></div></body></html>"
    )
    article = clean_page(html.encode("utf-8"), url="http://example.invalid/a", settings=CleanerSettings())
    assert isinstance(article, Article), article
    assert article.authors == ("魏其濛",) and article.editor == "王頔"


@pytest.mark.parametrize(
    ("line", "editor"),
    [
        ("责编：Demi Xia", "Demi Xia"),  # a Latin name keeps its space
        ("责任编辑：张三 来源：人民网", "张三"),
        ("编辑|禤志杰", "禤志杰"),
    ],
)
def test_editor_lines(line: str, editor: str) -> None:
    fields = Fields()
    read_info_line(line, fields)
    assert fields.editor == editor


def test_editors_after_the_body_on_the_next_line_or_closing_a_paragraph() -> None:
    """``责任编辑:`` alone on its line takes the next one, after the body as under the headline; an agency's
    ``（编辑：…）`` closing the last paragraph names the editor and stays in the text."""
    for tail, editor in ((("责任编辑:", "于文凯", "相关新闻"), "于文凯"), ((), "苏龙麒")):
        closing = "" if tail else "（编辑：苏龙麒）1120221"
        html = (
            "<html><head><meta charset='utf-8'><title>市政协召开专题协商会议</title></head><body>"
            f"<h1>市政协召开专题协商会议</h1><div>2020-02-17 11:31</div><div class='article'><p>{PARAGRAPH}</p>"
            f"<p>{PARAGRAPH}{closing}</p></div>" + "".join(f"<div>{line}</div>" for line in tail) + "</body></html>"
        )
        article = clean_page(html.encode(), url="http://example.invalid/a", settings=CleanerSettings())
        assert isinstance(article, Article), article
        assert article.editor == editor
        assert article.text.endswith(closing)


def test_a_job_title_before_a_name_is_not_part_of_it() -> None:
    assert split_names("中国国际经济交流中心研究部部长，研究员徐占忱") == ["徐占忱"]
    assert split_names("北京大学教授张三 李四") == ["张三", "李四"]
    assert split_names("主任") == []
