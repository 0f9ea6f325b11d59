"""Repair stage: codec inverses, GBK-run re-decode, pinyin strip; clean text unchanged."""

from __future__ import annotations

from collections import Counter

import pytest

from cleaner import CleanerSettings
from cleaner.charlm import load_char_model
from cleaner.mojibake import redecode_gbk_runs
from cleaner.pinyin import strip_pinyin
from cleaner.repair import repair_line
from tests.conftest import char_f1

CLEAN_LINES = [
    "严峻的新冠肺炎疫情让北方的冬天倍感寒冷。",
    "嚴峻的新冠肺炎疫情讓北方的冬天倍感寒冷，一組組、一隊隊佩戴紅袖標的“戰士”。",
    "2月1日晚上11:00，入户核查金都小区的工作组，登记率100%。",
    "成立新型冠状病毒感染的肺炎疫情工作领导小组(指挥部)，实行前线指挥。",
    "Copyright(C) 2006-2020 gjnews.cn All Rights Reserved",
    "犇(bēn)牛科技公司在乾安县举行活动。",
    "",
]


@pytest.mark.parametrize("line", CLEAN_LINES)
def test_clean_text_comes_back_unchanged(line: str) -> None:
    repairs: Counter[str] = Counter()
    assert repair_line(line, CleanerSettings(), repairs) == line
    assert not repairs


def _margin_repair(text: str) -> tuple[str, Counter[str]]:
    repairs: Counter[str] = Counter()
    return repair_line(text, CleanerSettings(), repairs), repairs


SENTENCE = "疫情面前，来到您家，打扰了。记者从市政府获悉，各项工作有序推进。"


def test_utf8_read_as_gbk_is_inverted() -> None:
    # as a browser (WHATWG gb18030 decoder) shows it; bytes it replaced stay lost
    damaged = SENTENCE.encode("utf-8").decode("gb18030", errors="replace")
    fixed, repairs = _margin_repair(damaged)
    assert fixed.startswith("疫情面前，来到您家，打扰了")
    assert char_f1(fixed, SENTENCE) > 0.85
    assert repairs == {"mojibake/utf8_as_gbk": 1}


def test_utf8_read_as_gbk_without_losses_is_exact() -> None:
    fixed, repairs = _margin_repair("銆傗€滅柅鎯呴潰鍓嶏紝")
    assert fixed == "。“疫情面前，"
    assert repairs == {"mojibake/utf8_as_gbk": 1}


def test_utf8_read_as_latin1_is_inverted() -> None:
    damaged = SENTENCE.encode("utf-8").decode("latin-1")
    fixed, repairs = _margin_repair(damaged)
    assert fixed == SENTENCE
    assert repairs == {"mojibake/utf8_as_latin1": 1}


def test_gbk_read_as_latin1_is_inverted() -> None:
    damaged = SENTENCE.encode("gbk").decode("latin-1")
    fixed, repairs = _margin_repair(damaged)
    assert fixed == SENTENCE
    assert repairs == {"mojibake/gbk_as_latin1": 1}


def test_gbk_read_as_big5_is_inverted() -> None:
    damaged = SENTENCE.encode("gbk").decode("cp950", errors="replace")
    fixed, repairs = _margin_repair(damaged)
    assert fixed.startswith("疫情面前，来到您家，打")
    assert repairs == {"mojibake/gbk_as_big5": 1}


def test_gbk_run_misaligned_by_one_byte_is_redecoded() -> None:
    line = "樓上樓下一家一戶的敲開門?!耙咔槊媲埃瑏淼侥?,打擾了,還請配合?!边@樣帶有歉意的話"
    fixed, count = redecode_gbk_runs(line, load_char_model())
    assert count == 2
    # realigned; the byte lost with the "?" is guessed by the character model
    assert fixed.startswith("樓上樓下一家一戶的敲開門。“疫情面前，來到")
    assert fixed.endswith(",打擾了,還請配合。”這樣帶有歉意的話")


def test_gbk_run_realigned_by_ascii_trail_byte() -> None:
    fixed, count = redecode_gbk_runs("市政協不愧為智庫?!辫F東區防疫常務總指揮", load_char_model())
    assert (fixed, count) == ("市政協不愧為智庫。”鐵東區防疫常務總指揮", 1)


def test_question_mark_without_run_is_left_alone() -> None:
    line = "你们能帮忙协调一下么?!我们没有口罩"
    assert redecode_gbk_runs(line, load_char_model()) == (line, 0)


def test_pinyin_after_converter_characters_is_stripped() -> None:
    assert strip_pinyin("首頁(yè)>專題>萬(wàn)眾一心戰(zhàn)疫必勝") == ("首頁>專題>萬眾一心戰疫必勝", 3)


def test_legitimate_brackets_and_rare_glosses_stay() -> None:
    line = "市(區(qū))下沉黨員 犇(bēn)牛 成立小組(指揮部) (記者:颜阵寒)"
    assert strip_pinyin(line) == ("市(區)下沉黨員 犇(bēn)牛 成立小組(指揮部) (記者:颜阵寒)", 1)


def test_gloss_that_is_not_a_reading_stays() -> None:
    assert strip_pinyin("頁(mǎ)") == ("頁(mǎ)", 0)
