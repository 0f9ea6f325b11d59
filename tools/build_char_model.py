"""Build ``cleaner/data/charlm.bin``: the character model's tables, precomputed.

Counts come from two word lists with frequencies, in both scripts (each word also in
its OpenCC s2t form): jieba's ``dict.txt`` (349,046 words, the package ships it) and
wordfreq's Chinese list (running-text word frequencies, newer words such as 一带一路;
``pip install wordfreq==3.1.1``, the ``tools`` extra, only this script needs it),
scaled to jieba's total. A word of frequency ``f`` adds ``f`` to each of its characters
and to each adjacent character pair. Unigrams are ``log P(c)``; a pair stores how much
the interpolated ``log P(b | a)`` adds to the unigram backoff, and pairs that add less
than ``MIN_GAIN`` nats or occur at most ``MIN_COUNT`` times are dropped (the backoff
says the same; the table loads in a few tens of milliseconds).

Measured on ``../shared/corpus/repair`` (exact match, lossy cases): jieba alone
utf8_as_gbk 0.74, gbk_shift 0.35; with wordfreq 0.84 and 0.37; the controls unchanged.

The word lists have no punctuation. Punctuation gets a fixed prior: approximate shares
of each mark among the characters of Chinese news text (comma about 1 in 20, full stop
1 in 40, enumeration comma and quotes about 1 in 100), enough to choose between the
marks a lost byte could have been.

Numerals are in no word list either. A digit gets pairs with the closed classes around
numbers in news text: the units and measure words after one (``5月``, ``30个``, ``2.6万``)
and the words that introduce a quantity (``约30``, ``增长了30%``), with a fixed gain.

File layout (little-endian): ``NLOG`` magic, unigram count, pair count (uint32 each),
then the unigram characters (UTF-32), the pairs (UTF-32, two code points each) and the
values as int16 in hundredths of a nat. Run: ``python tools/build_char_model.py``.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections import Counter
from importlib import resources
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent.parent / "cleaner" / "data" / "charlm.bin"
MAGIC = b"NLOG"
SCALE = 100  # values are stored in hundredths of a nat
BIGRAM_WEIGHT = 0.7
MIN_GAIN = 0.25  # nats a pair must add over the backoff to be kept
MIN_COUNT = 100  # ... and the frequency it needs: rarer pairs are mostly names and noise
PUNCTUATION_SHARE = {
    "，": 1 / 20,
    "。": 1 / 40,
    "、": 1 / 100,
    "“": 1 / 150,
    "”": 1 / 150,
    "：": 1 / 300,
    "（": 1 / 400,
    "）": 1 / 400,
    "《": 1 / 400,
    "》": 1 / 400,
    "；": 1 / 600,
    "—": 1 / 600,
    "？": 1 / 1000,
    "！": 1 / 1500,
    "…": 1 / 2000,
    "·": 1 / 2000,
    "‘": 1 / 5000,
    "’": 1 / 5000,
    "【": 1 / 5000,
    "】": 1 / 5000,
    "「": 1 / 10000,
    "」": 1 / 10000,
}


NUMERAL_FOLLOWERS = (
    "年月日时点分秒号万亿千百十"  # dates, times, magnitudes
    "个元次名人家岁米吨度项倍届位件条种批座台辆架艘所场天周期轮版部份处株头只克斤亩户例段篇类级层支颗枚双对套组股值"
)
NUMERAL_LEADERS = "第约近超达为至到共逾仅了和及或前后每增降长等于是近余"
FOLLOWER_GAIN = 3.0  # nats: after a digit these are many times likelier than anywhere
LEADER_GAIN = 2.0


def numeral_pairs() -> dict[str, float]:
    pairs: dict[str, float] = {}
    for digit in "0123456789":
        pairs.update((digit + char, FOLLOWER_GAIN) for char in NUMERAL_FOLLOWERS)
        pairs.update((char + digit, LEADER_GAIN) for char in NUMERAL_LEADERS)
    return pairs


def read_words() -> list[tuple[str, float]]:
    import wordfreq  # build time only

    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    words: list[tuple[str, float]] = []
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) >= 2:
            words.append((parts[0], int(parts[1]) + 1))
    total = sum(freq for _, freq in words)
    listed = wordfreq.get_frequency_dict("zh", "large").items()
    words += [(word, freq * total) for word, freq in listed if "\n" not in word]
    return words


def count_words() -> tuple[Counter[str], Counter[str]]:
    words = read_words()
    traditional = opencc.OpenCC("s2t").convert("\n".join(w for w, _ in words)).split("\n")
    uni: Counter[str] = Counter()
    pair: Counter[str] = Counter()
    for (word, freq), trad in zip(words, traditional, strict=True):
        forms = (word,) if trad == word or len(trad) != len(word) else (word, trad)
        for form in forms:
            for i, char in enumerate(form):
                uni[char] += freq
                if i:
                    pair[form[i - 1 : i + 1]] += freq
    return uni, pair


def build() -> tuple[dict[str, float], dict[str, float]]:
    uni, pair = count_words()
    total = sum(uni.values())
    unigram = {c: math.log(n / total) for c, n in uni.items() if len(c.encode("utf-32-le")) == 4}
    for mark, share in PUNCTUATION_SHARE.items():
        unigram[mark] = math.log(share)
    gains: dict[str, float] = {}
    for p, n in pair.items():
        if n <= MIN_COUNT or p[0] not in unigram or p[1] not in unigram:
            continue
        bi = n / uni[p[0]]
        backoff = (1 - BIGRAM_WEIGHT) * math.exp(unigram[p[1]])
        gain = math.log(BIGRAM_WEIGHT * bi + backoff) - math.log(backoff)
        if gain >= MIN_GAIN:
            gains[p] = gain
    gains.update(numeral_pairs())
    return unigram, gains


def main() -> None:
    unigram, gains = build()
    uni_keys = "".join(unigram)
    pair_keys = "".join(gains)
    values = array("h", (round(v * SCALE) for v in (*unigram.values(), *gains.values())))
    if sys.byteorder == "big":
        values.byteswap()
    with OUT.open("wb") as out:
        out.write(MAGIC + struct.pack("<II", len(unigram), len(gains)))
        out.write(uni_keys.encode("utf-32-le"))
        out.write(pair_keys.encode("utf-32-le"))
        out.write(values.tobytes())
    print(f"{len(unigram)} characters, {len(gains)} pairs -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
