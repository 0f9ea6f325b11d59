"""Build ``cleaner/data/wordlm.bin``: a word unigram model for choosing lost characters, precomputed.

The character model (``tools/build_char_model.py``) sees one character back, inside
words only. Choosing a character a lost byte leaves open needs the words around it
(乌美俄, not 乌全俄; 为乌克兰, not 城乌克兰), so this table holds word frequencies for a
max-probability segmentation, as jieba's DAG does: a text scores the best sum of
``log P(w)`` over the ways to cut it into words.

Counts come from jieba's ``dict.txt``, wordfreq's Chinese list and JioNLP's word
distribution (``pip install wordfreq==3.1.1 jionlp==1.5.31``, the ``tools`` extra), each
scaled to jieba's total. JioNLP's counts (some 4.8 billion words of recent text) know words
newer than the other two (雪龙, 三夏, 新质) and give others their weight now (文旅: -log P
12.4, was 17.3). On ``../shared/corpus/repair`` they took
gbk_as_big5 from 0.84 to 0.86 exact match, the other kinds and the controls unchanged.
Words of two to ``MAX_LEN`` characters with a count of at least ``MIN_COUNT`` are kept;
single characters get ``log P`` of the character as a word (or the character
model's unigram less a penalty at load time). Only simplified words are stored: a text
is folded to simplified script character by character (a table of OpenCC's t2s
single-character mappings ships in the same file) before it is segmented.

The words are stored by first character, one string per character: each word is
``\\n`` + its other characters + ``\\t`` + ``-log P`` in hundredths of a nat as one
character of plane 15 (private use). A lookup is a dictionary access and one
``str.find``, so loading builds a dictionary of some 15,000 strings, not of 380,000
words (tens of milliseconds, not hundreds).

File layout (little-endian): ``NWLM`` magic, first-character count, t2s pair count,
byte length of the words (uint32 each), the first characters (UTF-32), the length
of each one's string in characters (uint32), the t2s pairs (UTF-32, two code points
each), then the strings, concatenated (UTF-8). Run: ``python tools/build_word_model.py``.
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

OUT = Path(__file__).resolve().parent.parent / "cleaner" / "data" / "wordlm.bin"
MAGIC = b"NWLM"
SCALE = 100
VALUE_BASE = 0xF0000  # -log P in hundredths of a nat, as a character of plane 15 (private use)
VALUE_SPAN = 0x10000
MAX_LEN = 4
MIN_COUNT = 3.0
CJK_LO, CJK_HI = 0x3400, 0x9FFF


def is_cjk_word(word: str) -> bool:
    return all(CJK_LO <= ord(char) <= CJK_HI for char in word)


def count_words() -> Counter[str]:
    import wordfreq  # build time only

    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and is_cjk_word(parts[0]):
            counts[parts[0]] += int(parts[1])
    total = sum(counts.values())
    for word, freq in wordfreq.get_frequency_dict("zh", "large").items():
        if is_cjk_word(word):
            counts[word] += freq * total
    news = jionlp_counts()
    news_total = sum(news.values())
    for word, count in news.items():
        counts[word] += count / news_total * total
    return counts


def jionlp_counts() -> Counter[str]:
    """Word counts of JioNLP's ``word_distribution.json`` (some 4.8 billion words of recent running text,
    segmented), read from the installed package's data without importing it."""
    import json
    import zipfile
    from importlib.metadata import distribution

    path = distribution("jionlp").locate_file("jionlp/dictionary/word_distribution.zip")
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(str(path)) as archive, archive.open("word_distribution.json") as lines:
        for line in lines:
            word, count = json.loads(line)
            if is_cjk_word(word):
                counts[word] += count
    return counts


def t2s_table(chars: list[str]) -> dict[str, str]:
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {t: s for t, s in zip(chars, converted, strict=True) if len(s) == 1 and s != t}


def build() -> tuple[dict[str, float], dict[str, str]]:
    counts = count_words()
    total = sum(counts.values())
    words = {
        w: math.log(n / total)
        for w, n in counts.items()
        if len(w) <= MAX_LEN and n >= MIN_COUNT and (len(w) == 1 or n >= MIN_COUNT)
    }
    chars = sorted({chr(c) for c in range(CJK_LO, CJK_HI + 1)})
    return words, t2s_table(chars)


def buckets(words: dict[str, float]) -> dict[str, str]:
    """Words by their first character: ``\\n`` + the rest + ``\\t`` + the value as one character."""
    out: dict[str, list[str]] = {}
    for word, logp in words.items():
        code = min(VALUE_SPAN - 1, round(-logp * SCALE))
        out.setdefault(word[0], []).append(f"\n{word[1:]}\t{chr(VALUE_BASE + code)}")
    return {first: "".join(entries) for first, entries in sorted(out.items())}


def main() -> None:
    words, t2s = build()
    table = buckets(words)
    firsts = "".join(table).encode("utf-32-le")
    lengths = array("I", (len(bucket) for bucket in table.values()))
    if sys.byteorder == "big":
        lengths.byteswap()
    blob = "".join(table.values()).encode("utf-8")
    pairs = "".join(t + s for t, s in t2s.items()).encode("utf-32-le")
    with OUT.open("wb") as out:
        out.write(MAGIC + struct.pack("<III", len(table), len(t2s), len(blob)))
        out.write(firsts)
        out.write(lengths.tobytes())
        out.write(pairs)
        out.write(blob)
    print(f"{len(words)} words, {len(t2s)} t2s characters -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
