"""A character frequency model for scoring repair candidates.

Counts come from the word list jieba ships (``jieba/dict.txt``: 349,046 words
with corpus frequencies), so nothing is downloaded. A word of frequency ``f``
adds ``f`` to each of its characters and to each adjacent character pair; the
model interpolates bigram and unigram probabilities. It is not a language
model of running text (word boundaries are missing), but it separates real
Chinese from mojibake by a wide margin: on the seeds, clean lines score about
-7 nats per character and GBK/UTF-8 mojibake about -11.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from cleaner.charclass import CJK_PUNCT, is_cjk

BIGRAM_WEIGHT = 0.7
NEUTRAL = frozenset(CJK_PUNCT + "　\u3000\xa0■□●○◆◇★☆※→←↑↓①②③④⑤⑥⑦⑧⑨⑩")


@dataclass(frozen=True, slots=True)
class CharModel:
    unigram: dict[str, float]  # log P(c)
    bigram: dict[str, float]  # "ab" -> log P(b | a), only pairs seen
    floor: float  # log P of an unseen character

    def char_logp(self, prev: str | None, char: str) -> float:
        uni = self.unigram.get(char, self.floor)
        if prev is None:
            return uni
        bi = self.bigram.get(prev + char)
        if bi is None:
            return uni + math.log(1 - BIGRAM_WEIGHT)
        return math.log(BIGRAM_WEIGHT * math.exp(bi) + (1 - BIGRAM_WEIGHT) * math.exp(uni))

    def score(self, text: str) -> float:
        """Mean log-probability per scored character (0.0 when there is none).

        CJK characters are scored by the model; ASCII and CJK punctuation are
        neutral; any other character (Latin-1 letters, U+FFFD, symbols that
        mojibake produces) counts as an unseen character.
        """
        total = 0.0
        count = 0
        prev: str | None = None
        for char in text:
            if is_cjk(char):
                total += self.char_logp(prev, char)
                count += 1
                prev = char
                continue
            prev = None
            if not (char.isascii() or char in NEUTRAL):
                total += self.floor
                count += 1
        return total / count if count else 0.0

    def is_common(self, char: str, *, threshold: float = -13.0) -> bool:
        return self.unigram.get(char, self.floor) > threshold


@lru_cache(maxsize=1)
def load_char_model() -> CharModel:
    """Build the model from jieba's bundled dictionary (about 0.5 s, once)."""
    uni: Counter[str] = Counter()
    pair: Counter[str] = Counter()
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) < 2:
            continue
        word, freq = parts[0], int(parts[1]) + 1
        for i, char in enumerate(word):
            uni[char] += freq
            if i:
                pair[word[i - 1 : i + 1]] += freq
    total = sum(uni.values())
    unigram = {c: math.log(n / total) for c, n in uni.items()}
    bigram = {p: math.log(n / uni[p[0]]) for p, n in pair.items()}
    floor = math.log(0.5 / total)
    return CharModel(unigram=unigram, bigram=bigram, floor=floor)
