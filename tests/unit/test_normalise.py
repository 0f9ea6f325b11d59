"""Normalisation: punctuation, dashes, script conversion with protected names."""

from __future__ import annotations

import pytest

from cleaner.normalise import fullwidth_punctuation, normalise_spacing
from cleaner.script import convert_script, detect_script


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
