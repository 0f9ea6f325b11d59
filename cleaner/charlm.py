"""A character model for scoring repair candidates, loaded from precomputed tables.

``cleaner/data/charlm.bin`` is built once by ``tools/build_char_model.py`` from word
lists with frequencies (jieba's ``dict.txt`` and wordfreq's Chinese list), in both
scripts, plus priors for punctuation and for the words around numerals; nothing is
downloaded and loading takes a few tens of milliseconds. A character scores
``log P(c)`` plus, after a character it often follows inside words, the pair's gain
over that backoff. It is not a language model of running text (word boundaries are
missing), but it separates real Chinese from mojibake by a wide margin: clean lines
score about -7 nats per character, GBK/UTF-8 mojibake about -11.

Scoring is table-driven: ``map`` over the characters and over adjacent pairs, no
Python loop per character.

The character model ranks the characters a lost byte may have been; the word model
(:class:`WordModel`, ``cleaner/data/wordlm.bin`` from ``tools/build_word_model.py``)
chooses among its best few by the words around them: a max-probability segmentation
over jieba's and wordfreq's word lists, as jieba's DAG does. It loads (about 25 ms)
only when a lost byte is filled.
"""

from __future__ import annotations

import re
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate, repeat
from operator import add

from cleaner.charclass import CJK_RE

MAGIC = b"NLOG"
SCALE = 100.0
BACKOFF = -1.2  # log(0.3): the unigram's share when a pair is not in the table
ASCII_LOGP = -4.0  # an ASCII letter or digit: as likely as a common character
BLANKS = {" ": -3.0, "\t": -3.0, "\u3000": -10.0, "\xa0": -10.0}  # a lost byte is rarely a blank
NEUTRAL_RE = re.compile(r"[\s\u3000]")


@dataclass(frozen=True, slots=True)
class CharModel:
    unigram: dict[str, float]  # log P(c), punctuation included
    pairs: dict[str, float]  # "ab" -> what b gains after a, in nats (only pairs that gain)
    floor: float  # log P of an unseen character

    def logps(self, text: str) -> list[float]:
        """Log-probability of every character of ``text`` given the one before it."""
        uni = list(map(self.unigram.get, text, repeat(self.floor)))
        if len(text) > 1:
            gains = map(self.pairs.get, map(add, text, text[1:]), repeat(0.0))
            uni[1:] = map(add, uni[1:], gains)
        return uni

    def total(self, text: str) -> float:
        return sum(self.logps(text))

    def score(self, text: str) -> float:
        """Mean log-probability per character, blanks not counted (0.0 when there is none)."""
        count = len(text) - len(NEUTRAL_RE.findall(text))
        return self.total(text) / count if count > 0 else 0.0

    def char_logp(self, prev: str | None, char: str) -> float:
        uni = self.unigram.get(char, self.floor)
        return uni if prev is None else uni + self.pairs.get(prev + char, 0.0)

    def is_common(self, char: str, *, threshold: float = -13.0) -> bool:
        """``log P(char)`` above ``threshold``."""
        return self.unigram.get(char, self.floor) - BACKOFF > threshold

    def cjk_share_rare(self, text: str, *, threshold: float = -13.0) -> float:
        """Share of CJK characters in ``text`` rarer than ``threshold`` (0.0 when there is none)."""
        cjk = CJK_RE.findall(text)
        if not cjk:
            return 0.0
        limit = threshold + BACKOFF
        rare = sum(1 for logp in map(self.unigram.get, cjk, repeat(self.floor)) if logp <= limit)
        return rare / len(cjk)


def _read_tables(data: bytes) -> tuple[dict[str, float], dict[str, float]]:
    if data[:4] != MAGIC:
        raise ValueError("not a character model table")
    n_uni, n_pairs = struct.unpack_from("<II", data, 4)
    offset = 12
    uni_keys = data[offset : offset + 4 * n_uni].decode("utf-32-le")
    offset += 4 * n_uni
    pair_keys = data[offset : offset + 8 * n_pairs].decode("utf-32-le")
    offset += 8 * n_pairs
    values = array("h")
    values.frombytes(data[offset : offset + 2 * (n_uni + n_pairs)])
    if sys.byteorder == "big":
        values.byteswap()
    scaled = [v / SCALE for v in values]
    unigram = dict(zip(uni_keys, scaled[:n_uni], strict=True))
    pairs = dict(zip(re.findall("..", pair_keys, re.DOTALL), scaled[n_uni:], strict=True))
    return unigram, pairs


@lru_cache(maxsize=1)
def load_char_model() -> CharModel:
    """Load the precomputed tables (``cleaner/data/charlm.bin``), once per process."""
    data = resources.files("cleaner").joinpath("data/charlm.bin").read_bytes()
    unigram, pairs = _read_tables(data)
    floor = min(unigram.values()) - 1.0
    for code in range(0x21, 0x7F):
        unigram.setdefault(chr(code), ASCII_LOGP)
    unigram.update(BLANKS)
    # the pair table holds gains over a backoff that already costs log(0.3)
    unigram_backoff = {c: v + BACKOFF for c, v in unigram.items()}
    return CharModel(unigram=unigram_backoff, pairs=pairs, floor=floor + BACKOFF)


WORD_MAGIC = b"NWLM"
MAX_WORD = 4  # characters in the longest word the table holds
TOKEN_COST = 3.0  # nats per word: a compound (多地) over the two characters it would otherwise be
SINGLE_PENALTY = -3.0  # a character no list has as a word: its unigram, less this


RECENT_LOOKUPS = 1 << 16  # word lookups remembered before the memory starts again
WORD_VALUE_BASE = 0xF0000  # a word's -log P in hundredths of a nat, stored as one character


def spans(before: str, chars: str, after: str, t2s: dict[int, str], *, shortest: int) -> Iterator[str]:
    """The strings of ``shortest`` to ``MAX_WORD`` characters of ``before + chars + after`` that take
    in one of ``chars`` at least, folded to simplified script (the words that ``chars`` could be part of)."""
    reach = MAX_WORD - 1
    left = before[-reach:]
    text = (left + chars + after[:reach]).translate(t2s)
    lo, hi = len(left), len(left) + len(chars)
    for i in range(hi):
        for j in range(max(i + shortest, lo + 1), min(len(text), i + MAX_WORD) + 1):
            yield text[i:j]


@dataclass(frozen=True, slots=True)
class WordModel:
    """Word unigrams for a max-probability segmentation (jieba's DAG), over simplified script.

    :meth:`score` is the best sum of ``log P(w)``, less ``TOKEN_COST`` a word, over the
    ways to cut a text into words; a CJK character no list has as a word scores its
    character unigram plus ``SINGLE_PENALTY``, punctuation and digits their unigram (and
    the character model's numeral pairs). A text is folded to simplified script
    character by character first (``t2s``). Words are stored by first character (see
    ``tools/build_word_model.py``): a lookup is one ``dict`` access and one ``str.find``.
    """

    buckets: dict[str, str]
    t2s: dict[int, str]
    chars: CharModel
    recent: dict[str, float | None] = field(default_factory=dict)  # a bucket is searched, not hashed

    def logp(self, word: str) -> float | None:
        """``log P(word)``, None when no list has it (the answers of recent lookups are kept)."""
        found = self.recent.get(word, self)
        if found is not self:
            return found  # type: ignore[return-value]
        if len(self.recent) >= RECENT_LOOKUPS:
            self.recent.clear()
        found = self.recent[word] = self._lookup(word)
        return found

    def _lookup(self, word: str) -> float | None:
        bucket = self.buckets.get(word[0])
        if bucket is None:
            return None
        key = f"\n{word[1:]}\t"
        at = bucket.find(key)
        if at < 0:
            return None
        return (WORD_VALUE_BASE - ord(bucket[at + len(key)])) / SCALE

    def score(self, text: str, known: Known | None = None) -> float:
        """The best segmentation's ``log P``; a word the text around uses (``known``) scores at least its ``logp``."""
        return self._lattice(text.translate(self.t2s), known)[0][-1]

    def joins(self, before: str, chars: str, after: str, *, shortest: int) -> bool:
        """Whether ``chars``, between ``before`` and ``after``, make a listed word of at least ``shortest``
        characters, alone or with their neighbours."""
        return any(self.logp(span) is not None for span in spans(before, chars, after, self.t2s, shortest=shortest))

    def words(self, text: str) -> list[str]:
        """``text`` (folded to simplified script) cut into the words of its best segmentation."""
        folded = text.translate(self.t2s)
        starts = self._lattice(folded, None)[1]
        out: list[str] = []
        end = len(folded)
        while end:
            out.append(folded[starts[end] : end])
            end = starts[end]
        return out[::-1]

    def prefix_scores(self, text: str, known: Known | None) -> list[float]:
        """The best score of each prefix of ``text`` (already folded), for :meth:`extend` to go on from."""
        return self._lattice(text, known)[0]

    def _lattice(self, text: str, known: Known | None) -> tuple[list[float], list[int]]:
        """The best score of each prefix of ``text`` (already folded) and where its last word starts."""
        best = [0.0]
        starts = [0]
        for _ in text:
            top, start = self.extend(text, best, known)
            best.append(top)
            starts.append(start)
        return best, starts

    def extend(self, text: str, best: list[float], known: Known | None) -> tuple[float, int]:
        """One step of the segmentation: the best score of ``text[:len(best)]`` (already folded), given
        the best of each shorter prefix (``best``), and where its last word starts."""
        end = len(best)
        char = text[end - 1]
        prev = text[end - 2] if end >= 2 else ""
        logp = self.logp(char)
        if logp is None:
            logp = self.chars.unigram.get(char, self.chars.floor)
            if CJK_RE.match(char):
                logp += SINGLE_PENALTY
        top = best[end - 1] + logp - TOKEN_COST
        start = end - 1
        if prev.isascii() or char.isascii():  # numerals: 5月, 约30 (the character model's pairs)
            top += self.chars.pairs.get(prev + char, 0.0)
        words, known_logp = (known.words, known.logp) if known is not None else (frozenset(), 0.0)
        for begin in range(max(0, end - MAX_WORD), end - 1):
            word = text[begin:end]
            logp = self.logp(word)
            if words and word in words and (logp is None or logp < known_logp):
                logp = known_logp
            if logp is not None and best[begin] + logp - TOKEN_COST > top:
                top = best[begin] + logp - TOKEN_COST
                start = begin
        return top, start


class Known:
    """The words a text uses (:func:`known_words`), for choosing what its damaged parts lost.

    A news text names the same ship, place or slogan more than once (“雪龙2”号, 一带一路),
    and a word newer than the lists is a string of single characters to the word model. Where
    a choice makes a word the text uses elsewhere, the word scores at least ``logp`` (a cache
    model). The words are found on first use: most texts never have a lost byte to choose.
    """

    __slots__ = ("_by_char", "_text", "_words", "logp")

    def __init__(self, text: str, logp: float) -> None:
        self._text = text
        self._words: frozenset[str] | None = None
        self._by_char: dict[str, list[str]] = {}
        self.logp = logp

    @property
    def words(self) -> frozenset[str]:
        if self._words is None:
            self._words = known_words(self._text, load_word_model())
            for word in sorted(self._words):
                for char in set(word):
                    self._by_char.setdefault(char, []).append(word)
        return self._words

    def with_char(self, char: str) -> list[str]:
        """The words that have ``char`` in them."""
        return self._by_char.get(char, []) if self.words else []

    def joins(self, before: str, chars: str, after: str) -> bool:
        """Whether ``chars``, between ``before`` and ``after``, make one of the words with their neighbours."""
        words = self.words
        return any(span in words for span in spans(before, chars, after, load_word_model().t2s, shortest=2))

    def fits(self, before: str, after: str, width: int) -> set[str]:
        """The ``width`` characters (simplified) that, between ``before`` and ``after``, make one of the
        words with a neighbour, every one of the ``width`` given by the word."""
        reach = MAX_WORD - 1
        t2s = load_word_model().t2s
        left, right = before[-reach:].translate(t2s), after[:reach].translate(t2s)
        near = {*self.with_char(left[-1:]), *self.with_char(right[:1])}
        lo, hi = len(left), len(left) + width
        out: set[str] = set()
        for word in near:
            for start in range(max(0, lo - len(word) + width), min(lo, hi + len(right) - len(word)) + 1):
                end = start + len(word)
                with_neighbour = start < lo or end > hi
                fits_left = left[start:lo] == word[: max(0, lo - start)]
                if with_neighbour and fits_left and right[: max(0, end - hi)] == word[hi - start :]:
                    out.add(word[lo - start : hi - start])
        return out


def known_words(text: str, model: WordModel) -> frozenset[str]:
    """The words of ``text``, folded to simplified script: those of its best segmentation, and the runs of
    two to ``MAX_WORD`` characters that it cuts into single CJK characters (a name, a newer word: 雪龙)."""
    found: set[str] = set()
    run: list[str] = []
    for word in [*model.words(text), ""]:
        if len(word) == 1 and CJK_RE.match(word):
            run.append(word)
            continue
        if len(word) > 1 and all(map(CJK_RE.match, word)):
            found.add(word)
        found.update("".join(run[i : i + n]) for n in range(2, MAX_WORD + 1) for i in range(len(run) - n + 1))
        run = []
    return frozenset(found)


def _read_word_tables(data: bytes) -> tuple[dict[str, str], dict[int, str]]:
    if data[:4] != WORD_MAGIC:
        raise ValueError("not a word model table")
    n_firsts, n_t2s, n_bytes = struct.unpack_from("<III", data, 4)
    offset = 16
    firsts = data[offset : offset + 4 * n_firsts].decode("utf-32-le")
    offset += 4 * n_firsts
    lengths = array("I")
    lengths.frombytes(data[offset : offset + 4 * n_firsts])
    if sys.byteorder == "big":
        lengths.byteswap()
    offset += 4 * n_firsts
    pairs = data[offset : offset + 8 * n_t2s].decode("utf-32-le")
    offset += 8 * n_t2s
    blob = data[offset : offset + n_bytes].decode("utf-8")
    ends = list(accumulate(lengths))
    starts = [0, *ends[:-1]]
    buckets = dict(zip(firsts, map(blob.__getitem__, map(slice, starts, ends)), strict=True))
    t2s = {ord(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}
    return buckets, t2s


@lru_cache(maxsize=1)
def load_word_model() -> WordModel:
    """Load the word tables (``cleaner/data/wordlm.bin``, built by ``tools/build_word_model.py``), once."""
    data = resources.files("cleaner").joinpath("data/wordlm.bin").read_bytes()
    buckets, t2s = _read_word_tables(data)
    return WordModel(buckets=buckets, t2s=t2s, chars=load_char_model())
