"""Furniture in body-text fragments (``repair_text``): the page patterns, line by line."""

from __future__ import annotations

import pytest

from cleaner import CleanerSettings, repair_text
from cleaner.furniture import fragment_line_kind

BODY = [
    "今天（6月26日），世界互联网大会数字文明尼山对话在山东曲阜召开。",
    "泸州长江六桥顺利合龙，主桥全长1080米，跨度达425米。",
]


def _repair(lines: list[str]) -> list[str]:
    return repair_text("\n".join(lines), settings=CleanerSettings()).split("\n")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("首页 - 专题 - 乡村振兴", "breadcrumb"),
        ("网站首页>>部门动态>>视频新闻", "breadcrumb"),
        ("您当前的位置：首页 > 图片新闻 > 本地要闻", "breadcrumb"),
        ("黑客接单_快速贷款无抵押_六合彩开奖结果_网赌平台推荐", "seo spam line"),
        ("相关热词：政协 排查 疫情防控", "keywords line"),
        ("【责任编辑：陈仁雄", "editor line"),
        ("2023-12-27 06:44:01 来源：宜宾之窗", "info line"),
        ("浏览次数：47294", "info line"),
        ("[摘要] 国内联播快讯...", "summary box"),
        ("无障碍浏览 长者模式", "page widgets"),
        ("繁体 | 简体", "page widgets"),
        ("登录 | 注册", "login widget"),
        ("上一篇 下一篇", "pagination"),
        ("我要纠错 | 打印 | 关闭", "print/font widgets"),
    ],
)
def test_furniture_lines_are_recognised(line: str, kind: str) -> None:
    assert fragment_line_kind(line) == kind


@pytest.mark.parametrize(
    "line",
    [
        *BODY,
        "时间就是生命，救援队伍连夜赶赴灾区。",
        "首页设计大赛今天开幕，来自各地的设计师参加了比赛。",
        "全国各地依托红色资源开展主题活动（记者 石盛昌 通讯员 潘杰）。",
    ],
)
def test_body_lines_are_not_furniture(line: str) -> None:
    assert fragment_line_kind(line) is None


def test_furniture_is_dropped_and_the_body_kept_in_order() -> None:
    lines = ["当前位置：首页 » 专题 » 防汛抗旱", BODY[0], "扫一扫在手机打开当前页", BODY[1], "编辑：乔晨楠"]
    assert _repair(lines) == BODY


def test_a_related_list_goes_with_its_headlines_but_not_the_paragraph_after_it() -> None:
    lines = [
        BODY[0],
        "相关新闻：",
        "全国政协十四届常委会第四次会议举行全体会议 王沪宁出席",
        "· 假期返程客流增加 交通部门增运力保出行",
        "[09-08] 央视快评：坚持以习近平党建思想为指引",
        BODY[1],
    ]
    assert _repair(lines) == BODY


def test_spaces_inside_a_paragraph_stay() -> None:
    line = "让红色旅游成为国庆出游的热门选择（记者 石盛昌 通讯员 潘杰）。以“培育外贸新动能 塑造开放新优势”为主题。"
    assert _repair([line]) == [line]


def test_wide_blanks_beside_digits_go_and_blank_lines_too() -> None:
    assert _repair(["\u3000\u3000 今天（4月\xa05日）是清明节。", "", "\xa0", "\t涨幅扩大\xa00.2个百分点。 \u3000"]) == [
        "今天（4月5日）是清明节。",
        "涨幅扩大0.2个百分点。",
    ]
