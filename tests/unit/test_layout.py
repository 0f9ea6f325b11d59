"""Line walker and metadata: titles, info lines, bylines, furniture."""

from __future__ import annotations

import pytest

from cleaner.layout import furniture_kind, is_spam, split_paragraphs, walk_lines
from cleaner.metadata import Fields, find_date, read_info_line, split_names


def walk(lines: list[str], **kwargs):
    return walk_lines(lines, lines, **kwargs)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2020年02月17日 11:31 | 作者：高峰", "2020-02-17T11:31:00+08:00"),
        ("2022-04-14 10:05:38  来源：各界新闻网", "2022-04-14T10:05:38+08:00"),
        ("发布时间：2020-05-28 08:19:52", "2020-05-28T08:19:52+08:00"),
        ("日期：2021-03-02", "2021-03-02"),
        ("2021/3/2", "2021-03-02"),
        ("2021-13-40", None),
    ],
)
def test_find_date(text: str, iso: str | None) -> None:
    assert find_date(text) == iso


def test_split_names_keeps_names_ending_like_role_words() -> None:
    assert split_names("田洪文 蒋超 张宇 王月华") == ["田洪文", "蒋超", "张宇", "王月华"]
    assert split_names("□ 实习记者 寇静 记者 王斌 通讯员 田莉 白为") == ["寇静", "王斌", "田莉", "白为"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("首页>专题>万众一心战疫必胜>要闻 要闻", "breadcrumb"),
        ("当前位置：首页 > 新闻中心", "breadcrumb"),
        ("密码：", "login widget"),
        ("分享到：", "share widget"),
        ("打印 | 收藏 | 发给好友 【字号 大 中 小】 |", "print/font widgets"),
        ("相关阅读：", "related links"),
        ("各界新闻网 版权所有 Copyright(C) 2006-2020 备案号：陕ICP备13008241号-1", "copyright/ICP footer"),
        ("以上文章仅代表作者个人观点，本网只是转载", "disclaimer"),
        ("更多", "more links"),
        ("严峻的新冠肺炎疫情让北方的冬天倍感寒冷。", None),
    ],
)
def test_furniture_kind(line: str, kind: str | None) -> None:
    assert furniture_kind(line) == kind


def test_spam_line() -> None:
    assert is_spam("日韩无码视频免费看_亚洲综合色一区二区三区_国产成人久久AV免费看")
    assert not is_spam("澳门特别行政区政府代表团来访")


def test_split_paragraphs_on_spaces_between_chinese_text() -> None:
    line = "安全线。 打好疫情防控“阻击战” 把党的领导作为法宝。 |"
    assert split_paragraphs(line) == ["安全线。", "打好疫情防控“阻击战”", "把党的领导作为法宝。"]
    assert split_paragraphs("2月1日晚上11:00 入户") == ["2月1日晚上11:00 入户"]


def test_walk_finds_title_subtitle_info_and_body() -> None:
    layout = walk(
        [
            "首页>专题>要闻",
            "守护“平”安",
            "——吉林省四平市政协全力投身疫情防控工作记事",
            "2020年02月17日 11:31 | 作者：高峰 通讯员 刘海武 | 来源：人民政协网",
            "分享到：",
            "严峻的新冠肺炎疫情让北方的冬天倍感寒冷。",
            "编辑：杨岚",
            "关键词：守护 安 疫情",
            "第一段以后的页脚",
        ]
    )
    fields = layout.fields
    assert (fields.title, fields.subtitle) == ("守护“平”安", "吉林省四平市政协全力投身疫情防控工作记事")
    assert fields.published_at == "2020-02-17T11:31:00+08:00"
    assert fields.authors == ["高峰", "刘海武"]
    assert (fields.source, fields.editor, fields.keywords) == ("人民政协网", "杨岚", ["守护", "安", "疫情"])
    assert layout.body == ["严峻的新冠肺炎疫情让北方的冬天倍感寒冷。"]
    assert {"breadcrumb", "share widget", "editor line", "keywords line", "footer"} <= set(layout.removed)


def test_trailing_byline_leaves_the_text_inline_byline_stays() -> None:
    layout = walk(["标题在这里写着", "福清新闻网讯（记者：颜阵寒）庚子鼠年。", "最后一段……（文/田洪文 蒋超）"])
    assert layout.body == ["福清新闻网讯（记者：颜阵寒）庚子鼠年。", "最后一段……"]
    assert layout.fields.authors == ["颜阵寒", "田洪文", "蒋超"]


def test_known_title_line_is_dropped_from_body() -> None:
    layout = walk(["守护“平”安", "正文第一段。"], title="守护“平”安")
    assert layout.body == ["正文第一段。"]


@pytest.mark.parametrize(
    ("line", "source", "editor"),
    [
        ("来源:福清新闻网作者:颜阵寒点击:次", "福清新闻网", None),  # inline labels with no space between
        ("来源：商洛日报作者：寇静【字号 大 中 小】", "商洛日报", None),
        ("来源：上海发布  编辑：王五", "上海发布", "王五"),  # a source named …发布 is not a label
        ("来源：四平日报编辑部 责任编辑：李四", "四平日报编辑部", "李四"),
        ("信息来源：诸城市政协办公室 | 浏览次数：120", "诸城市政协办公室", None),
    ],
)
def test_info_line_values_end_at_the_next_label(line: str, source: str, editor: str | None) -> None:
    fields = Fields()
    read_info_line(line, fields)
    assert (fields.source, fields.editor) == (source, editor)
