"""Build ``cleaner/data/wordlm.bin``: a word unigram model for choosing lost characters, precomputed.

The character model (``tools/build_char_model.py``) sees one character back, inside
words only. Choosing a character a lost byte leaves open needs the words around it
(乌美俄, not 乌全俄; 为乌克兰, not 城乌克兰), so this table holds word frequencies for a
max-probability segmentation, as jieba's DAG does: a text scores the best sum of
``log P(w)`` over the ways to cut it into words.

Counts come from jieba's ``dict.txt`` and wordfreq's Chinese list (``pip install
wordfreq==3.1.1``, the ``tools`` extra), scaled to jieba's total, as for the character
model. Words of two to ``MAX_LEN`` characters with a count of at least ``MIN_COUNT``
are kept; single characters get ``log P`` of the character as a word (or the character
model's unigram less a penalty at load time). Only simplified words are stored: a text
is folded to simplified script character by character (a table of OpenCC's t2s
single-character mappings ships in the same file) before it is segmented.

File layout (little-endian): ``NWLM`` magic, word count, t2s pair count (uint32
each), the words joined by ``\\n`` (UTF-8, length-prefixed by a uint32 byte count),
the t2s pairs (UTF-32, two code points each), then the values as int16 in hundredths
of a nat. Run: ``python tools/build_word_model.py``.
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


def main() -> None:
    words, t2s = build()
    keys = "\n".join(words).encode("utf-8")
    pairs = "".join(t + s for t, s in t2s.items()).encode("utf-32-le")
    values = array("h", (max(-32768, round(v * SCALE)) for v in words.values()))
    if sys.byteorder == "big":
        values.byteswap()
    with OUT.open("wb") as out:
        out.write(MAGIC + struct.pack("<III", len(words), len(t2s), len(keys)))
        out.write(keys)
        out.write(pairs)
        out.write(values.tobytes())
    print(f"{len(words)} words, {len(t2s)} t2s characters -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
