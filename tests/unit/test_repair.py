"""Repair stage: codec inverses, GBK-run re-decode, pinyin strip; clean text unchanged."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cleaner import CleanerSettings, mojibake, repair_text
from cleaner.charlm import Known, load_char_model, load_word_model
from cleaner.contextlm import load_context_model
from cleaner.mojibake import _other_script, redecode_gbk_runs
from cleaner.pinyin import load_readings, strip_pinyin
from cleaner.repair import repair_line
from cleaner.script import load_tables
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


def test_a_lost_character_is_of_the_script_of_the_text_around_it() -> None:
    """三 (C8FD) is lost when GBK is read as Big5; the models fold 爲 to 为, and 较为 reads well, but a
    character lost from a simplified text is simplified: 爲 is not a candidate, and 三 is chosen."""
    text = "今年前三季度，全国规模以上工业增加值同比增长百分之五，较三季度进一步提升。"
    damaged = text.encode("gbk").decode("cp950", errors="replace")
    assert "\ufffd" in damaged
    assert repair_text(damaged, settings=CleanerSettings()) == text
    assert _other_script("较三季度进一步提升，全国规模以上") == load_tables().traditional_only
    assert _other_script("較三季度進一步提升，全國規模以上") == load_tables().simplified_only
    assert _other_script("三季度") == frozenset()  # too little to tell


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


def test_pinyin_after_the_particle_a_converter_writes_as_zhu_is_stripped() -> None:
    assert strip_pinyin("隨著(zhe)冰雪運動的普及，頂著(zhe)烈日") == ("隨著冰雪運動的普及，頂著烈日", 2)
    assert strip_pinyin("著(zhù)名的") == ("著(zhù)名的", 0)  # 着 is never zhù: a reader's gloss


def test_legitimate_brackets_and_rare_glosses_stay() -> None:
    line = "市(區(qū))下沉黨員 犇(bēn)牛 成立小組(指揮部) (記者:颜阵寒)"
    assert strip_pinyin(line) == ("市(區)下沉黨員 犇(bēn)牛 成立小組(指揮部) (記者:颜阵寒)", 1)


def test_gloss_that_is_not_a_reading_stays() -> None:
    assert strip_pinyin("頁(mǎ)") == ("頁(mǎ)", 0)


def test_the_readings_are_pypinyins_single_character_table() -> None:
    from pypinyin.pinyin_dict import pinyin_dict

    assert load_readings() == pinyin_dict
    assert load_readings()[ord("頁")] == "yè,xié"


def test_importing_the_cleaner_leaves_pypinyin_and_its_phrase_dictionary_unloaded() -> None:
    """The cleaning worker imports the cleaner but cleans in a child process: tables load where pages are cleaned."""
    code = (
        "import sys\n"
        "import cleaner, sinks.backends\n"
        "from cleaner.pinyin import strip_pinyin\n"
        "assert strip_pinyin('首頁(yè)') == ('首頁', 1)\n"
        "print(sorted(name for name in sys.modules if name.startswith('pypinyin')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["[]"]


# --- detect, then repair: mechanisms of the corpus damage ------------------------------


def test_utf8_read_as_latin1_inside_clean_text_is_inverted() -> None:
    damaged = "今天是个好日子。" + "人们在现场欣赏到各国传统歌舞表演。".encode().decode("latin-1") + "活动结束。"
    fixed, repairs = _margin_repair(damaged)
    assert fixed == "今天是个好日子。人们在现场欣赏到各国传统歌舞表演。活动结束。"
    assert repairs == {"mojibake/utf8_as_latin1": 1}


def test_utf8_read_as_sloppy_cp1252_is_inverted() -> None:
    # bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) kept as the C1 controls
    raw = SENTENCE.encode("utf-8")
    damaged = "".join(bytes((b,)).decode("cp1252", errors="ignore") or chr(b) for b in raw)
    assert _margin_repair(damaged)[0] == SENTENCE


def test_a_lone_utf8_pattern_between_digits_is_inverted() -> None:
    damaged = "冬运会将于2024" + "年".encode().decode("latin-1") + "2月17日开幕。"
    assert _margin_repair(damaged)[0] == "冬运会将于2024年2月17日开幕。"


def test_latin1_repair_never_empties_a_line() -> None:
    for line in ("Ã", "â€", "Ã©tÃ© cafÃ"):
        assert _margin_repair(line)[0].strip()


def test_utf8_read_as_gbk_ending_on_a_lost_byte_before_clean_text() -> None:
    # a damaged sentence read alone: its last byte was an orphan lead, replaced, and the next
    # sentence is clean; the lost byte is the one that completes 。
    damaged = "记者从市政府获悉，各项工作有序推进。".encode().decode("gb18030", errors="replace")
    assert damaged.endswith("\ufffd")
    fixed, repairs = _margin_repair(damaged + "这期间，香港中联办设灵堂。")
    assert fixed == "记者从市政府获悉，各项工作有序推进。这期间，香港中联办设灵堂。"
    assert repairs == {"mojibake/utf8_as_gbk": 1}


def test_big5_read_as_gbk_is_inverted_and_lost_leads_are_filled() -> None:
    text = "韓正指出，中國提出並積極踐行全球文明倡議，致力於加強國際人文交流合作。"
    damaged = text.encode("big5").decode("gbk", errors="replace")
    assert "\ufffd" in damaged
    fixed, repairs = _margin_repair(damaged)
    assert repairs == {"mojibake/big5_as_gbk": 1}
    assert "\ufffd" not in fixed and fixed.startswith("韓正")
    assert char_f1(fixed, text) > 0.85


@pytest.mark.parametrize(
    "line",
    [
        "������该项目距离地铁四号线南沙客运港站仅约500米，是中国内地第一家实现与地铁无缝接驳的邮轮母港。",
        "\ue60e4",
        "看都看完了，点【在看】试试��在看",
    ],
)
def test_bytes_lost_in_decoding_alone_are_no_mojibake(line: str) -> None:
    assert _margin_repair(line) == (line, Counter())


def _misaligned(text: str) -> str:
    """A GBK stream cut one byte into 。“ and read on out of step: an orphan byte is ``?``,
    a pair in the user-defined area (private use in gb18030) vanishes, an unpaired byte before
    ASCII is ``?``."""
    raw = text.encode("gbk")
    cut = raw.find("。“".encode("gbk"))
    tail, out, i = raw[cut + 1 :], [], 0
    while i < len(tail):
        if tail[i] < 0x80:
            out.append(chr(tail[i]))
            i += 1
            continue
        pair = tail[i : i + 2]
        try:
            out.append(pair.decode("gbk"))
            i += 2
            continue
        except UnicodeDecodeError:
            pass
        if len(pair) == 2 and "\ue000" <= pair.decode("gb18030", errors="replace") <= "\uf8ff":
            i += 2  # gb18030 reads it as a private-use character
            continue
        out.append("?")
        i += 1
    return raw[:cut].decode("gbk") + "?" + "".join(out)


def test_gbk_run_with_vanished_pairs_is_restored() -> None:
    text = "俄中两国都重视教育，更是国家经济社会发展的基础。“俄中教育年”活动内容丰富、规模宏大。"
    damaged = _misaligned(text)
    assert "?！" in damaged and len(damaged) < len(text) + 2  # two pairs vanished
    fixed, repairs = _margin_repair(damaged)
    assert fixed == text
    assert repairs == {"mojibake/gbk_misaligned": 1}


def test_a_pair_vanished_outside_the_user_defined_rows_is_restored() -> None:
    # 建 (BD A8) and 立 (C1 A2): read out of step, A8 C1 is one of gb18030's private-use points
    text = "我们讲了很多。“如果不能迅速建立自己的文化优势，就难以在竞争中站稳。”2024年"
    damaged = _misaligned(text)
    assert "?！" in damaged and len(damaged) < len(text) + 2
    assert repair_text(damaged, settings=CleanerSettings()) == text


@pytest.mark.parametrize(
    "text",
    [
        # 利方 hides in one character (a vanished pair) and 面 lost its trail byte before 12: 方面 is
        # a word only when both are chosen together, and each alone reads as well as its runners-up
        "代表团一行抵达布达佩斯。“我们同匈牙利方面12日签署了合作文件”，他说。",
        # 赢污 hides in 盂: the character model ranks 营污 and 迎污 beside it; 污染 after it tells
        "全省召开动员大会。“坚决打赢污染防治攻坚战”，会议要求各地抓好落实。",
    ],
)
def test_a_run_is_read_as_a_whole(text: str) -> None:
    damaged = _misaligned(text)
    assert "?！" in damaged and len(damaged) < len(text) + 2
    assert repair_text(damaged, settings=CleanerSettings()) == text


def test_a_long_run_is_searched_so_far_and_the_rest_kept_as_realigned(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "全省召开动员大会。“坚决打赢污染防治攻坚战”，会议要求各地抓好落实。"
    monkeypatch.setattr(mojibake, "RUN_SEARCHED", 8)  # 。“坚决打盂染防 of the realigned run
    fixed = repair_text(_misaligned(text), settings=CleanerSettings())
    assert fixed.startswith("全省召开动员大会。“坚决打赢污染防治攻坚战”") and "会议要求" not in fixed
    assert fixed.endswith("各地抓好落实。")


def test_a_character_lost_whole_between_two_vanished_pairs_is_restored() -> None:
    # ，经济 (A3 AC, BE AD, BC C3) read out of step: AC BE and AD BC vanish, and what is left,
    # A3 C3, is one fullwidth letter; 经 was lost whole
    text = "会议指出。“各地要认真落实，经济工作要稳中求进”。"
    damaged = _misaligned(text)
    realigned = mojibake._best_run(damaged, damaged.index("?！"), load_char_model())
    assert realigned is not None and "落实Ｃ工作" in realigned[1]
    assert repair_text(damaged, settings=CleanerSettings()) == text


def test_a_split_limit_bounds_the_vanished_pairs_restored_in_a_run() -> None:
    text = "全省召开动员大会。“坚决打赢污染防治攻坚战”，会议要求各地抓好落实。"
    damaged = _misaligned(text)  # three pairs vanished: in 赢污, ，会 and 要求
    assert len(damaged) == len(text) - 2
    assert repair_text(damaged, settings=CleanerSettings(repair_lost_pair_limit=2)) != text
    assert repair_text(damaged, settings=CleanerSettings(repair_lost_pair_limit=3)) == text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("游客纷纷来到荆坪古村参观。“荆坪古村”已成为网红打卡地。", "“荆坪古村”"),
        ("会议研究了大国重器的研制进展。“大国重器”凝聚着几代人的心血。", "“大国重器”"),
        ("科考队员登上“雪龙2”号开展作业。“雪龙2”号随后驶向罗斯海。", "“雪龙2”号随后"),
    ],
)
def test_a_word_the_text_uses_elsewhere_is_restored_where_its_bytes_were_lost(text: str, word: str) -> None:
    damaged = _misaligned(text)  # the second use of the word loses bytes; the lists lack it
    settings = CleanerSettings()
    assert word not in repair_line(damaged, settings, Counter())
    assert word in repair_line(damaged, settings, Counter(), Known(damaged, settings.repair_known_word_logp))
    assert word in repair_text(damaged, settings=settings)


def test_the_words_a_text_uses_are_its_segmentation_and_its_runs_of_single_characters() -> None:
    words = load_word_model().words("遊客來到荊坪古村參觀")
    assert words == ["游客", "来到", "荆", "坪", "古村", "参观"]  # folded; a place no list has is two characters
    known = Known("遊客來到荊坪古村參觀", -5.0)
    assert known.words == {"游客", "来到", "荆坪", "古村", "参观"}
    assert known.fits("来到荆", "古村", 1) == {"坪"}  # the name, with the character before it
    assert known.fits("来", "坪古", 1) == {"荆", "到"}  # 荆坪, or 来到
    assert known.fits("到", "古村", 2) == set()  # a word alone is the caller's to look up
    assert known.joins("到", "荊坪", "古村") and not known.joins("到", "經常", "古村")


def test_context_model_reads_running_text_and_folds_what_says_nothing() -> None:
    context = load_context_model()
    text = "新中国成立以来，我们党始终把增进民生福祉作为发展的出发点。"
    shuffled = "".join(sorted(text))
    assert context.total(text) > context.total(shuffled) + 20
    assert context.total("较三季度增长") > context.total("较为季度增长")
    assert context.total("5月12日") == context.total("7月30日")  # digits say nothing of the words around them
    assert context.total("為期三天") == context.total("为期三天")  # folded to simplified script first
    assert context.total("增长（10%）") == context.total("增长(10%)")  # and fullwidth to ASCII
    assert context.total("工作取得进展。", ends=True) > context.total("工作取得进展、", ends=True)


DAMAGE_ALPHABET = "的是中國銆傗€滅锛鍙ä¸­Ã©â€ï¼\x81\x8d?!！“”。，\ufffd\ue1be\ue4ce琍ㄤい A1,"


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=DAMAGE_ALPHABET, max_size=40))
def test_repair_never_raises_and_keeps_a_line_a_line(line: str) -> None:
    repairs: Counter[str] = Counter()
    fixed = repair_line(line, CleanerSettings(), repairs)
    assert isinstance(fixed, str)
    assert "\n" not in fixed or "\n" in line


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(alphabet=DAMAGE_ALPHABET + "\n\r\x85\u2028\xa0\u3000编辑：首页>", max_size=80))
def test_repair_text_never_raises(text: str) -> None:
    assert isinstance(repair_text(text, settings=CleanerSettings()), str)


def test_a_line_is_split_on_line_breaks_only() -> None:
    # U+0085 is a byte of Latin-1 mojibake (内 = E5 86 85), not a line break
    damaged = "馆内丰富的青铜器".encode().decode("latin-1")
    assert "\x85" in damaged
    assert repair_text(damaged, settings=CleanerSettings()) == "馆内丰富的青铜器"


def _width_folded(text: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in text)


def test_gbk_run_in_width_folded_text_is_restored() -> None:
    text = "俄中两国都重视教育，更是国家经济社会发展的基础。“俄中教育年”活动内容丰富、规模宏大。"
    damaged = _width_folded(_misaligned(text))
    assert "?!" in damaged
    fixed, repairs = _margin_repair(damaged)
    assert _width_folded(fixed) == _width_folded(text)  # the run comes back as bytes say; width is normalised later
    assert repairs == {"mojibake/gbk_misaligned": 1}


def test_every_kind_of_line_break_splits_lines() -> None:
    assert repair_text("第一段。\r\n第二段。\r第三段。\n", settings=CleanerSettings()) == "第一段。\n第二段。\n第三段。"


def test_word_model_prefers_a_listed_word_to_the_characters_it_is_made_of() -> None:
    words = load_word_model()
    assert words.logp("谷神星") is not None and words.logp("谷物星") is None
    assert words.score("上半年，快舟、谷神星、双曲线") > words.score("上半年，快舟、谷物星、双曲线")
    assert words.score("南部多地出现暴风雪") > words.score("南部去地出现暴风雪")
    assert words.score("為期三天") == words.score("为期三天")  # folded to simplified script first


def test_gbk_read_as_big5_sentence_inside_a_clean_line_is_detected() -> None:
    clean = "中国是最大的发展中国家，非洲是发展中国家最集中的大陆。"
    damaged = clean.encode("gbk").decode("cp950")
    line = f"再次在中国相聚。{damaged}相似的历史遭遇"
    assert repair_text(line, settings=CleanerSettings()) == f"再次在中国相聚。{clean}相似的历史遭遇"


@pytest.mark.parametrize(
    ("written", "clean", "expected"),
    [
        # Big5's 。 (A1 43) read as GBK is a lost lead byte and C: filled, though clean text follows
        (
            "會議強調，要持續深化改革開放，推動經濟高質量發展。",
            "與會代表一致表示贊同。",
            "会议强调，要持续深化改革开放，推动经济高质量发展。与会代表一致表示赞同。",
        ),
        # the clean sentence would dilute the detector's rare characters: it looks at each sentence
        (
            "記者從市政府獲悉，各項工作有序推進。",
            "這期間，香港中聯辦設靈堂。",
            "记者从市政府获悉，各项工作有序推进。这期间，香港中联办设灵堂。",
        ),
    ],
)
def test_a_big5_sentence_read_as_gbk_before_a_clean_one_is_inverted_to_its_full_stop(
    written: str, clean: str, expected: str
) -> None:
    line = written.encode("big5").decode("gbk", errors="replace") + clean
    assert line.count("\ufffdC") == 1
    assert repair_text(line, settings=CleanerSettings()) == expected


@pytest.mark.parametrize(
    "text", ["会议强调，要建立健全、体系完备的制度框架。", "这项工作内容丰富、态度鲜明，受到广泛好评。"]
)
def test_gbk_read_as_big5_out_of_step_through_a_character_big5_has_twice(text: str) -> None:
    # after a lost byte the Big5 reading is out of step: 、's trail byte and the next lead (A2 CC)
    # read as 十, which cp950 writes A4 51; GBK never has A4 51, so the inverse takes A2 CC
    damaged = text.encode("gbk").decode("cp950", errors="replace")
    assert "十" in damaged
    assert repair_text(damaged, settings=CleanerSettings()) == text


def test_big5_read_as_gbk_shows_as_kana_beside_han_characters() -> None:
    text = "韓正指出，中國提出並積極踐行全球文明倡議。"  # 中 is Big5 A4 A4, GBK's い
    damaged = text.encode("big5").decode("gbk", errors="replace")
    assert "い" in damaged
    fixed, repairs = _margin_repair(damaged)
    assert repairs == {"mojibake/big5_as_gbk": 1}
    assert "\ufffd" not in fixed and char_f1(fixed, text) > 0.9


@pytest.mark.parametrize(
    "line", ["据日本媒体报道，“ありがとう”一词在当地广为流传。", "他在演讲中引用了日语“いただきます”。"]
)
def test_kana_in_chinese_text_stays(line: str) -> None:
    assert _margin_repair(line) == (line, Counter())


def test_lost_leads_are_chosen_by_the_words_around_them() -> None:
    line = "大會以“匠心築夢 技能報國”為主題，為期三天，將舉辦7場論壇活動。".encode("cp950").decode(
        "gbk", errors="replace"
    )
    assert "为主题，为期三天，将举办7场论坛活动。" in repair_text(line, settings=CleanerSettings())


def test_a_lost_character_the_character_model_ranks_low_is_read_where_it_makes_a_listed_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 神 (AF AB in Big5) is lost; one character back, 穀 makes 神 one of many, 明 (明星) reads better
    text = "專家介紹，穀神星的觀測資料對研究太陽系的形成具有重要意義。"
    damaged = text.encode("big5").decode("gbk", errors="replace")
    assert "\ufffd" in damaged
    assert "谷神星的观测资料" in repair_text(damaged, settings=CleanerSettings())
    monkeypatch.setattr(mojibake, "LISTED_WORD", 99)  # runners-up never read for the words they make
    assert "谷神星" not in repair_text(damaged, settings=CleanerSettings())
    words = load_word_model()
    assert words.joins("穀", "神", "星", shortest=3) and not words.joins("穀", "明", "星", shortest=3)
    assert words.joins("穀", "明", "星", shortest=2)  # 明星


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "他说：“我们不打算加入战争?!?5日，德国民众在柏林集会。",
            "他说：“我们不打算加入战争。”5日，德国民众在柏林集会。",
        ),
        ("青春在奉献中闪光?!?90后”青年王圣在边疆工作。", "青春在奉献中闪光。“90后”青年王圣在边疆工作。"),
    ],
)
def test_a_quote_lost_after_a_cut_full_stop_pairs_with_the_quotes_around_it(line: str, expected: str) -> None:
    assert repair_text(line, settings=CleanerSettings()) == expected
