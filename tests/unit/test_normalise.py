"""Normalisation: punctuation, dashes, script conversion with protected names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cleaner import Article, CleanerSettings, clean_page
from cleaner.normalise import fullwidth_punctuation, normalise_spacing
from cleaner.script import as_written, convert_script, detect_script, output_script, written_in_traditional


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("市(区)下沉", "市（区）下沉"),
        ("(记者:颜阵寒)庚子鼠年", "（记者：颜阵寒）庚子鼠年"),
        ("2月1日晚上11:00,入户", "2月1日晚上11:00，入户"),
        ("捐赠现金80.85万元,捐赠物资", "捐赠现金80.85万元，捐赠物资"),
        ("防疫一线就是政协履职一线!”", "防疫一线就是政协履职一线！”"),
        ("又接踵而至:", "又接踵而至："),
        ("见 http://a.gov.cn/c?x=1,y", "见 http://a.gov.cn/c?x=1,y"),
        ("Copyright(C) 2006-2020 gjnews.cn", "Copyright(C) 2006-2020 gjnews.cn"),
        ("流动党校.", "流动党校."),
    ],
)
def test_fullwidth_punctuation(raw: str, expected: str) -> None:
    assert fullwidth_punctuation(raw) == expected


def test_spaced_dash_joins() -> None:
    assert normalise_spacing("安全线— —福清市") == "安全线——福清市"


def test_place_names_are_protected() -> None:
    assert convert_script("乾安縣的乾部", "zh-Hans").startswith("乾安县")
    assert convert_script("乾安县干部", "zh-Hans") == "乾安县干部"


def test_simplified_text_is_not_touched() -> None:
    text = "著名作家在乾安县显著位置"
    assert convert_script(text, "zh-Hans") == text


def test_particle_zhe_becomes_simplified_but_zhu_words_stay() -> None:
    assert convert_script("讓會徽映著黨徽，著作顯著", "zh-Hans") == "让会徽映着党徽，著作显著"


def test_hong_kong_variants_are_traditional_too() -> None:
    # 衞 and 衹 are the Hong Kong forms of 衛 and 祇: OpenCC's t2s leaves them, its hk2s does not
    assert convert_script("加強能源、衞生等領域合作，捍衞了二戰勝利成果", "zh-Hans") == (
        "加强能源、卫生等领域合作，捍卫了二战胜利成果"
    )


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("严峻的疫情让北方的冬天倍感寒冷", "zh-Hans"),
        ("嚴峻的疫情讓北方的冬天倍感寒冷", "zh-Hant"),
        ("严峻的疫情讓北方的冬天倍感寒冷，这样來", "mixed"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


TAIWAN_PAGE = """<html{lang}><head><meta charset="utf-8"><title>臺北市推動長照服務 擴大社區據點</title></head><body>
<h1>臺北市推動長照服務 擴大社區據點</h1>
<div class="info">2024-03-05 10:20</div>
<div class="story"><p>臺北市政府今天宣布，將在各行政區增設長期照顧服務據點，讓長輩在熟悉的社區就近獲得照顧。</p>
<p>市長表示{open}照顧長輩是城市最重要的責任{close}，市府會持續檢討資源配置，並與民間團體合作推動。</p>
<p>社會局指出，新據點預計於年底前啟用，提供共餐、健康促進與喘息服務等多元項目。</p></div>
</body></html>"""


def taiwan_page(lang: str = "", open_quote: str = "「", close_quote: str = "」") -> bytes:
    attribute = f' lang="{lang}"' if lang else ""
    return TAIWAN_PAGE.format(lang=attribute, open=open_quote, close=close_quote).encode("utf-8")


@pytest.mark.parametrize(
    ("page", "url", "kept"),
    [
        (taiwan_page("zh-Hant-TW"), "http://example.invalid/a.html", True),  # declared
        (taiwan_page(), "https://news.example.com.tw/a.html", True),  # Taiwan host
        (taiwan_page(), "http://example.invalid/a.html", True),  # written with 「」
        (taiwan_page("zh-CN", "“", "”"), "http://example.invalid/a.html", False),  # a converter's rendering
        (taiwan_page("", "“", "”"), "http://example.invalid/a.html", False),
        (taiwan_page("zh-CN"), "https://news.example.com.tw/a.html", False),  # the declaration wins
    ],
)
def test_a_page_written_in_traditional_keeps_its_script_a_converted_one_does_not(
    page: bytes, url: str, kept: bool
) -> None:
    article = clean_page(page, url=url, settings=CleanerSettings())
    assert isinstance(article, Article), article
    assert article.script == "zh-Hant"
    assert article.text_script == ("zh-Hant" if kept else "zh-Hans")
    assert ("臺北市" in article.text) is kept and ("台北市" in article.text) is not kept
    assert article.title == ("臺北市推動長照服務 擴大社區據點" if kept else "台北市推动长照服务 扩大社区据点")
    converted = clean_page(page, url=url, settings=replace(CleanerSettings(), keep_native_traditional=False))
    assert isinstance(converted, Article) and converted.text_script == "zh-Hans"


@pytest.mark.parametrize(
    ("text", "language", "host", "native"),
    [
        ("他說「好」。", None, None, True),
        ("他說“好”。「註」", None, None, False),  # curly quotes outnumber the corner ones
        ("他說好。", "zh-HK", None, True),
        ("他說好。", "zh-cn", "a.example.tw", False),
        ("他說好。", "en", "a.example.hk", True),  # a non-Chinese declaration says nothing
        ("他說好。", None, "example.mo.", True),
        ("他說好。", None, "example.com", False),
    ],
)
def test_written_in_traditional(text: str, language: str | None, host: str | None, native: bool) -> None:
    assert written_in_traditional(text, language=language, host=host) is native


def test_output_script_converts_mixed_text_whatever_its_origin() -> None:
    assert output_script("zh-Hans", "mixed", native=True, keep_native=True) == "zh-Hans"
    assert output_script("zh-Hans", "zh-Hant", native=True, keep_native=True) == "keep"
    assert output_script("zh-Hant", "zh-Hans", native=True, keep_native=True) == "zh-Hant"
    assert output_script("zh-Hans", "zh-Hant", native=True, keep_native=False) == "zh-Hans"


def test_a_value_read_from_the_simplified_view_is_found_again_as_written() -> None:
    page = "作者：香港電台-財經\n2024年5月22日"
    assert as_written("香港电台-财经", page) == "香港電台-財經"  # s2t would write 電臺
    assert as_written("人民日报", page) is None
