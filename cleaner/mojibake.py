"""Byte-level mojibake repair: detect, then invert; lost bytes chosen by the character model.

Order per line (the repair stage applies them in this order):

1. **UTF-8 read as Latin-1 / cp1252** (``ä»Šå¤©``, strict and sloppy): ftfy's
   ``fix_encoding``, configured never to fold width, uncurl quotes or normalise, then
   a pass over the UTF-8 byte patterns ftfy leaves (a lone ``å¹´`` between digits).
   Detector: a Latin-1 letter ``à``–``ï`` followed by two UTF-8 continuation bytes.
2. **Codec inverses** on the spans a cheap detector flags, sentence by sentence (rare
   characters, U+FFFD, private-use characters, Latin-1 letters, kana or bopomofo beside Han):
   the span is encoded back with the codec it was wrongly read with and decoded with the
   right one: UTF-8 read as GBK (``銆傗€滅柅鎯``), GBK read as Latin-1, GBK read as Big5
   and Big5 read as GBK.
   A damaged span starts a line or follows a full stop or a semicolon; it ends where the decode fails
   or where the character model stops gaining. Each U+FFFD is one lost byte; it is
   enumerated over the values the surviving bytes allow, and the model chooses over
   the context. A span is replaced only when it gains ``repair_margin`` nats per
   character, so clean text comes back unchanged.
3. **GBK-run re-decode**, anchored on ``?!``/``?！``: a GBK byte stream cut one
   byte into ``。`` (``A1 A3``) decodes, one byte out of step, as ``?`` + ``！``
   + nonsense until an ASCII byte realigns it. Re-encoding the run and
   prepending the lost ``A1`` restores it: ``敲開門?!耙咔槊媲埃`` → ``敲開門。“疫情面前``.
   A ``?`` inside the run is a byte the decoder dropped; its value is chosen by the
   model (``侥?,`` → ``您,``). A pair the wrong decoder read as a private-use character
   vanished: the two characters it joined are split again (``“誓五”`` → ``“十四五”``),
   and where two vanished in a row, three (``落实Ｃ工作`` → ``落实，经济工作``); the run is
   read as a whole, a beam of readings carried through it (:func:`restore_vanished_pairs`).

Lost characters and vanished pairs are chosen by how the text around them reads
(:func:`reading_score`): the word model's best segmentation plus the context model's
trigrams of running news text (``cleaner/contextlm.py``), the character model ranking
the candidates first.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from heapq import heappush, heapreplace
from itertools import accumulate, product, repeat
from operator import add
from typing import NamedTuple

from ftfy import TextFixerConfig, fix_encoding

from cleaner.charlm import MAX_WORD, CharModel, Known, WordModel, load_char_model, load_word_model
from cleaner.contextlm import SCALE, load_context_model
from cleaner.script import count_script_chars, load_tables

# --- 1. UTF-8 read as Latin-1 / cp1252 --------------------------------------------
# bytes 0x80-0xBF as Latin-1 or cp1252 show them (the sloppy variant keeps 0x81, 0x8D, ...)
CONT = "\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
LATIN1_UTF8_RE = re.compile(f"[à-ï][{CONT}]{{2}}")
LATIN1_RUN_RE = re.compile(f"(?:[à-ï][{CONT}]{{2}}|[Â-ß][{CONT}])+")
LATIN1_ANY_RE = re.compile(f"[\xa0-\xff{CONT}]")
UTF8_SHARE = 0.5  # of the Latin-1 characters that must form UTF-8 sequences
FTFY_CONFIG = TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=False,
    decode_inconsistent_utf8=True,
    fix_c1_controls=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
CP1252_BYTES = {bytes((b,)).decode("cp1252"): b for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def _latin1_bytes(text: str) -> bytes | None:
    out = bytearray()
    for char in text:
        code = ord(char)
        if code < 0x100:
            out.append(code)
        elif char in CP1252_BYTES:
            out.append(CP1252_BYTES[char])
        else:
            return None
    return bytes(out)


def _decode_latin1_run(match: re.Match[str]) -> str:
    raw = _latin1_bytes(match.group())
    if raw is None:
        return match.group()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group()


def fix_utf8_as_latin1(line: str) -> str:
    """Undo UTF-8 read as Latin-1/cp1252; a line without the byte pattern comes back as is."""
    if not LATIN1_UTF8_RE.search(line):
        return line
    # GBK read as Latin-1 also shows these patterns, but most of its letters fit none
    in_sequences = sum(len(run) for run in LATIN1_RUN_RE.findall(line))
    if in_sequences < UTF8_SHARE * len(LATIN1_ANY_RE.findall(line)):
        return line
    fixed = fix_encoding(line, FTFY_CONFIG)
    fixed = LATIN1_RUN_RE.sub(_decode_latin1_run, fixed)
    return fixed if fixed.strip() else line


# --- 2. codec inverses over flagged spans ------------------------------------------
HOLE = "\ufffd"
PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff]")
# GBK's ，。、 (A3AC, A1A3, A1A2) read as Big5 are ㄛ﹝﹜; bopomofo and small forms next to
# Han characters are how GBK read as Big5 shows when its characters are all common ones. Big5's
# commonest row (A4: 一 中 不 之) read as GBK is hiragana (中 is い) and the next (A5) katakana:
# kana beside Han characters or a lost byte is how Big5 read as GBK shows
MARKS = "\u3105-\u3129\ufe50-\ufe6b\u3041-\u30ff"
BIG5_MARKS_RE = re.compile(f"[\u4e00-\u9fff\ufffd][{MARKS}]|[{MARKS}][\u4e00-\u9fff\ufffd]")
LATIN1_LETTERS_RE = re.compile("[\xa0-\xff]")
SPAN_START_RE = re.compile("(?<=[。！？；])")
# a sentence's end as Big5 shows read as GBK (A1 43 for 。, its lead byte replaced) and as GBK
# shows read as Big5 (A1 A3 for 。 is ﹝): where a damaged sentence runs on into a clean one
DAMAGED_END_RE = re.compile("(?<=[﹝ㄐˋ˙])|(?<=\ufffd[CIHF])")
SENTENCE_RE = re.compile(f"{SPAN_START_RE.pattern}|{DAMAGED_END_RE.pattern}")  # the detectors look at each
UTF8_RUN_RE = re.compile(b"(?:[\xe0-\xef][\x80-\xbf]{2}){4}")  # four CJK characters' worth of UTF-8
MIN_LATIN1_LETTERS = 4
FILL_BYTES = tuple(bytes((b,)) for b in range(0x80, 0xFF))
HOLE_LOGP = -6.0  # what a lost byte's character is worth when a span's gain is reckoned
MARKED_RE = re.compile("[\ufffd\ue000-\uf8ff]")
MIN_SPAN_CHARS = 3  # characters, not lost and not private-use, a span needs to be decoded
MAX_HOLE_SHARE = 0.4  # of a span's characters lost, beyond which it is not tried
MAX_PAIR_FILLS = 16  # two lost bytes in a row are enumerated (24,000 candidates) this often per span
LOOKAHEAD = 8  # bytes after a hole that decide which fillers decode
CONTEXT = 3  # characters after a hole that the model scores
LISTED_WORD = 3  # characters of a listed word that make a runner-up of a lost byte worth reading
KNOWN_REACH = 3  # characters before a lost byte that may make a known word with it (words have up to 4)
WORD_CONTEXT = 6  # characters before a hole that the word model sees
WORD_BEAM = 16  # candidates for a hole, best by the character model, that the word model rescores
SPLIT_BEAM = 32  # splits of a character, best by the character model, that the context model rescores
READ_BEAM = 16  # ... and of those, the best by the context model, read with the word model too


def _gbk_bytes(char: str) -> bytes | None:
    """A character as a WHATWG GBK decoder read it: ``€`` is 0x80, private use is GB18030's user area."""
    if char == "€":
        return b"\x80"
    try:
        return char.encode("gbk")
    except UnicodeEncodeError:
        return char.encode("gb18030")


def _big5_bytes(char: str) -> bytes | None:
    readable = _gbk_readable_big5().get(char)
    if readable is not None:
        return readable
    for codec in ("cp950", "big5hkscs"):
        try:
            return char.encode(codec)
        except UnicodeEncodeError:
            continue
    return None


@lru_cache(maxsize=1)
def _gbk_readable_big5() -> dict[str, bytes]:
    """The characters Big5 has twice (十 is A2 CC and A4 51) whose code cp950 encodes them to GBK
    cannot read, by the other code, which it can: GBK text read as Big5 held that one."""
    codes: dict[str, list[bytes]] = {}
    for lead in range(0xA1, 0xFA):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            pair = bytes((lead, trail))
            try:
                codes.setdefault(pair.decode("cp950"), []).append(pair)
            except UnicodeDecodeError:
                continue
    out: dict[str, bytes] = {}
    for char, pairs in codes.items():
        if len(pairs) < 2 or _gbk_reads(char.encode("cp950")):
            continue
        readable = [pair for pair in pairs if _gbk_reads(pair)]
        if readable:
            out[char] = readable[0]
    return out


def _gbk_reads(pair: bytes) -> bool:
    try:
        pair.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


def _latin1_char_bytes(char: str) -> bytes | None:
    return _latin1_bytes(char)


def _utf8_in_gbk(text: str, model: CharModel, rare_share: float) -> bool:
    """UTF-8 read as GBK: its GBK bytes hold runs of UTF-8 sequences (clean GBK text does not)."""
    return bool(UTF8_RUN_RE.search(text.encode("gb18030", errors="ignore")))


def _latin1_letters(text: str, model: CharModel, rare_share: float) -> bool:
    return len(LATIN1_LETTERS_RE.findall(text)) >= MIN_LATIN1_LETTERS


def _rare_characters(text: str, model: CharModel, rare_share: float) -> bool:
    """GBK and Big5 read as each other: many rare characters, or private-use ones (GB18030's user area)."""
    if len(PRIVATE_USE_RE.findall(text)) >= 2 or BIG5_MARKS_RE.search(text):
        return True
    return model.cjk_share_rare(text) >= rare_share


@dataclass(frozen=True, slots=True)
class CodecInverse:
    name: str
    encode: Callable[[str], bytes | None]  # one character back to the bytes it was read from
    decode_as: str
    read_as: str | None  # the wrong codec, where it loses bytes it cannot read
    smells: Callable[[str, CharModel, float], bool]  # the cheap detector: is this worth a try?


INVERSES: tuple[CodecInverse, ...] = (
    CodecInverse("utf8_as_gbk", _gbk_bytes, "utf-8", "gb18030", _utf8_in_gbk),
    CodecInverse("gbk_as_latin1", _latin1_char_bytes, "gb18030", None, _latin1_letters),
    CodecInverse("gbk_as_big5", _big5_bytes, "gb18030", "cp950", _rare_characters),
    CodecInverse("big5_as_gbk", _gbk_bytes, "cp950", "gbk", _rare_characters),
)


@lru_cache(maxsize=16)
def _fillers(codec: str, holes: int, read_as: str | None) -> tuple[bytes, ...]:
    """Byte strings ``holes`` long that could have been lost: non-ASCII; for two, one whole
    character of ``codec`` that ``read_as`` cannot read from its first byte."""
    if holes == 1:
        return FILL_BYTES
    out = []
    for lead in range(0x80, 0xFF):
        for trail in range(0x40, 0xFF):
            pair = bytes((lead, trail))
            try:
                pair.decode(codec)
            except UnicodeDecodeError:
                continue
            if read_as is not None and not _unreadable(pair[:1], pair[1:], read_as):
                continue
            out.append(pair)
    return tuple(out)


def _unreadable(filler: bytes, following: bytes, read_as: str | None) -> bool:
    """Whether the wrong codec fails at every lost byte: that is how the bytes were lost."""
    if read_as is None:
        return True
    for i in range(len(filler)):
        try:
            codecs.decode(filler[i:] + following[:3], read_as)
        except UnicodeDecodeError as error:
            if error.start != 0:
                return False
            continue
        return False
    return True


def _fill(
    decoder: codecs.IncrementalDecoder,
    holes: int,
    following: bytes,
    context: str,
    model: CharModel,
    read_as: str | None,
    known: Known | None = None,
) -> tuple[bytes, tuple[str, ...]] | None:
    """The bytes for ``holes`` lost bytes that decode with what follows and read best after ``context``,
    and the characters the runners-up put in the same place (the rest of their reading alike).

    A candidate must decode (with the bytes after it, as far as they decode) and must be
    one the wrong codec could not read, since that is why it was lost. A runner-up further down
    is among the characters too where it makes a word with its neighbours: a listed word of
    ``LISTED_WORD`` characters or more (the character model sees one character back: 谷神星), or
    a word the text uses elsewhere (``known``).
    """
    state = decoder.getstate()
    codec = decoder.encoding  # type: ignore[attr-defined]
    probe = codecs.getincrementaldecoder(codec)()
    scored: list[tuple[float, bytes, str]] = []
    before = context[-1:]
    for filler in _fillers(codec, holes, read_as):
        probe.setstate(state)
        try:
            text = probe.decode(filler)
        except UnicodeDecodeError:
            continue
        ends_here = not following  # the damaged span may end at the hole: its bytes were read alone
        if following:
            try:
                text += probe.decode(following)
            except UnicodeDecodeError as error:
                # the span may end a few bytes on (a damaged sentence before a clean one): what decodes counts
                readable = error.start - (len(error.object) - len(following))
                if readable > 0:
                    probe.setstate(state)
                    text = probe.decode(filler + following[:readable])
                if probe.getstate()[0] and not text:
                    continue
                ends_here = True
        elif probe.getstate()[0]:
            continue
        if not text or HOLE in text:
            continue
        if not (_unreadable(filler, following, read_as) or (ends_here and _unreadable(filler, b"", read_as))):
            continue
        scored.append((sum(model.logps(before + text[:CONTEXT])[len(before) :]), filler, text))
    if not scored:
        return None
    scored.sort(key=lambda item: item[0], reverse=True)
    _, filler, text = scored[0]
    alternatives = tuple(other[0] for _, _, other in scored[:WORD_BEAM] if other[1:] == text[1:])
    words = load_word_model()
    alternatives += tuple(
        other[0]
        for _, _, other in scored[WORD_BEAM:]
        if other[1:] == text[1:]
        and (
            words.joins(context, other[0], other[1:], shortest=LISTED_WORD)
            or (known is not None and known.joins(context, other[0], other[1:]))
        )
    )
    return filler, alternatives


def _new_decoder(codec: str) -> codecs.IncrementalDecoder:
    decoder = codecs.getincrementaldecoder(codec)()
    decoder.encoding = codec  # type: ignore[attr-defined]
    return decoder


def decode_with_holes(
    raw: list[bytes | None],
    codec: str,
    model: CharModel,
    *,
    read_as: str | None,
    after: bytes = b"",
    before: str = "",
    after_text: str | None = None,
    max_hole_share: float = MAX_HOLE_SHARE,
    known: Known | None = None,
) -> list[tuple[int, str]]:
    """Decode ``raw`` (None: a lost byte) as far as it goes: (items consumed, text) at each aligned point.

    Lost bytes are filled one at a time where one byte completes a character, else two
    at a time; ``after`` is what follows ``raw`` in the line (context for the last hole).
    The characters lost bytes left open are then chosen again over the whole reading
    (:func:`rechoose`), with ``before`` and ``after_text`` (the line around ``raw``) as context
    and the words of the whole text (``known``).
    """
    decoder = _new_decoder(codec)
    text = ""
    points: list[tuple[int, str]] = []
    if raw.count(None) > max_hole_share * len(raw):
        return points  # more lost than kept: a page decoded with losses, not one read with the wrong codec
    pairs_left = MAX_PAIR_FILLS
    filled: list[tuple[int, tuple[str, ...]]] = []
    i = 0
    while i < len(raw):
        encoded = raw[i]
        width = 1
        if encoded is None:
            run = 1
            while i + run < len(raw) and raw[i + run] is None:
                run += 1
            nxt = i + run
            following = b"".join(_until_hole(raw[nxt:]))[:LOOKAHEAD] if nxt < len(raw) else after
            found = _fill(decoder, 1, following if run == 1 else b"", text[-KNOWN_REACH:], model, read_as, known)
            if found is None and run >= 2 and pairs_left:
                pairs_left -= 1
                following = following if run == 2 else b""
                found = _fill(decoder, 2, following, text[-KNOWN_REACH:], model, read_as, known)
                width = 2
            if found is None:
                break
            encoded, alternatives = found
            filled.append((len(text), alternatives))
        try:
            text += decoder.decode(encoded)
        except UnicodeDecodeError:
            break
        i += width
        if not decoder.getstate()[0]:
            points.append((i, text))
    if i == len(raw) and decoder.getstate()[0] and after:
        found = _fill(decoder, 1, after, text[-KNOWN_REACH:], model, read_as, known)
        if found is not None:
            filled.append((len(text), found[1]))
            text += decoder.decode(found[0])
            points.append((i, text))
    if not points or not filled:
        return points
    if after_text is None:
        after_text = after.decode(codec, errors="ignore")
    final = rechoose(points[-1][1], filled, after=after_text, before=before, known=known)
    return [(used, final[: len(prefix)]) for used, prefix in points]


PAIRS = {"“": "”", "（": "）", "《": "》", "‘": "’", "(": ")"}
CLOSERS = {close: open_ for open_, close in PAIRS.items()}
PAIR_GAIN = 10.0  # nats for a quote or bracket that opens or closes what the text around it needs


def _pairing(before: str, char: str, following: str) -> float:
    """What a quote or bracket gains where it stands: a closer after an opener left open, an opener
    where none is open and its closer follows; the opposite loses as much."""
    if char in CLOSERS:
        open_ = CLOSERS[char]
        return PAIR_GAIN if before.count(open_) > before.count(char) else -PAIR_GAIN
    if char in PAIRS:
        close = PAIRS[char]
        if before.count(char) > before.count(close):
            return -PAIR_GAIN
        return PAIR_GAIN if close in following else 0.0
    return 0.0


def _paired(before: str, chars: str, following: str) -> float:
    """:func:`_pairing` of every quote or bracket in ``chars``, standing between ``before`` and ``following``."""
    return sum(
        _pairing(before + chars[:i], char, chars[i + 1 :] + following)
        for i, char in enumerate(chars)
        if char in PAIRS or char in CLOSERS
    )


def reading_score(text: str, *, ends: bool = False, known: Known | None = None) -> float:
    """How well ``text`` reads: its best segmentation into words (:class:`WordModel`, with the words
    of the text it is part of: ``known``) plus its characters given the two before them in running
    text (:class:`ContextModel`), in nats; with ``ends``, the line ends after it."""
    return load_word_model().score(text, known) + load_context_model().total(text, ends=ends)


SCRIPT_EVIDENCE = 3  # characters of one script only a text shows, at least four times the other's, to say its script


def _other_script(text: str) -> frozenset[str]:
    """The characters of the script ``text`` is clearly not written in (none when it is not clear).

    The models read text folded to simplified script, so to them 爲 is 为; but a lost
    character in a simplified text is simplified like its neighbours, and one in a
    traditional text traditional.
    """
    trad, simp = count_script_chars(text)
    if simp >= SCRIPT_EVIDENCE and trad * 4 <= simp:
        return load_tables().traditional_only
    if trad >= SCRIPT_EVIDENCE and simp * 4 <= trad:
        return load_tables().simplified_only
    return frozenset()


def rechoose(
    text: str,
    filled: list[tuple[int, tuple[str, ...]]],
    *,
    after: str = "",
    before: str = "",
    known: Known | None = None,
) -> str:
    """Choose again, by how the words around them read (:func:`reading_score`), the characters lost bytes left open.

    ``filled`` holds each lost character's position and the characters it may be (the
    character model's best few); characters lost next to each other are chosen together.
    A quote or bracket among them is weighed by the ones around it (:func:`_pairing`); none
    is of the other script than the text around it (:func:`_other_script`).
    """
    chars = list(text)
    lost = {at for at, _ in filled}
    other = _other_script(before + "".join(c for i, c in enumerate(chars) if i not in lost) + after)
    options = []
    for at, alts in filled:
        if at >= len(chars) or chars[at] not in alts:
            continue
        alts = tuple(char for char in alts if char not in other) or alts
        chars[at] = chars[at] if chars[at] in alts else alts[0]
        if len(alts) > 1:
            options.append((at, alts))
    groups: list[list[tuple[int, tuple[str, ...]]]] = []
    for item in options:
        if groups and item[0] - groups[-1][-1][0] <= 2 and len(groups[-1]) < 2:
            groups[-1].append(item)
        else:
            groups.append([item])
    for group in groups:
        lo = max(0, group[0][0] - WORD_CONTEXT)
        hi = group[-1][0] + WORD_CONTEXT + 1
        best: tuple[float, tuple[str, ...]] | None = None
        for combo in product(*(alts for _, alts in group)):
            for (at, _), char in zip(group, combo, strict=True):
                chars[at] = char
            ends = hi >= len(chars) and len(after) <= WORD_CONTEXT
            window = "".join(chars[lo:hi]) + (after[:WORD_CONTEXT] if hi >= len(chars) else "")
            score = reading_score(window, ends=ends, known=known)
            for at, char in zip((at for at, _ in group), combo, strict=True):
                score += _paired(before + "".join(chars[:at]), char, "".join(chars[at + 1 :]) + after)
            if best is None or score > best[0]:
                best = (score, combo)
        for (at, _), char in zip(group, best[1], strict=True):  # type: ignore[index]
            chars[at] = char
    return "".join(chars)


def _until_hole(raw: list[bytes | None]) -> list[bytes]:
    out: list[bytes] = []
    for encoded in raw:
        if encoded is None:
            break
        out.append(encoded)
    return out


def decode_span(
    chars: str, inverse: CodecInverse, model: CharModel, known: Known | None = None
) -> list[tuple[int, str]]:
    """Decode ``chars`` through ``inverse`` as far as it goes: (characters consumed, text) at each aligned point."""
    raw: list[bytes | None] = []
    for char in chars:
        if char == HOLE:
            raw.append(None)
            continue
        encoded = inverse.encode(char)
        if encoded is None:
            break
        raw.append(encoded)
    return decode_with_holes(raw, inverse.decode_as, model, read_as=inverse.read_as, known=known)


def _best_prefix(
    chunk: str, inverse: CodecInverse, model: CharModel, margin: float, known: Known | None = None
) -> tuple[int, str] | None:
    """The prefix of ``chunk`` whose decode gains most over the original, if it gains ``margin`` per character."""
    points = decode_span(chunk, inverse, model, known)
    if not points:
        return None
    consumed, text = points[-1]
    # a lost byte scores as a common character: filling it is no gain, reading the characters
    # around it right is; a span of lost bytes and private-use characters (icon fonts) alone is none
    logps = [
        HOLE_LOGP if char == HOLE else logp for char, logp in zip(chunk, model.logps(chunk[:consumed]), strict=False)
    ]
    original = list(accumulate(logps, initial=0.0))
    decoded = list(accumulate(model.logps(text), initial=0.0))
    readable = list(accumulate((not (c.isascii() or MARKED_RE.match(c)) for c in chunk[:consumed]), initial=0))
    best: tuple[float, int, str] | None = None
    for used, prefix in points:
        if readable[used] < MIN_SPAN_CHARS or HOLE in prefix:
            continue
        gain = decoded[len(prefix)] - original[used]
        if gain >= margin * used and (best is None or gain > best[0]):
            best = (gain, used, prefix)
    return (best[1], best[2]) if best else None


def _run_spans(line: str) -> list[tuple[int, int]]:
    """Where the misaligned GBK runs of ``line`` stand: from a ``?!`` to the ASCII character that ends
    it (:func:`_run_bytes`), for step 3 to re-decode."""
    spans = []
    for match in ANCHOR_RE.finditer(line):
        end = next((i for i in range(match.end(), len(line)) if line[i].isascii()), len(line))
        spans.append((match.start(), end + 1))
    return spans


def invert_codecs(
    line: str, model: CharModel, *, margin: float, rare_share: float, known: Known | None = None
) -> tuple[str, list[str]]:
    """Replace every flagged span by its best codec inverse; return the line and the kinds repaired
    (``known``: the words of the whole text, for the characters lost bytes leave open)."""
    if line.isascii():
        return line, []
    # a damaged span may be one sentence of a long clean line: the detectors look at each
    sentences = [sentence for sentence in SENTENCE_RE.split(line) if sentence]
    if not any(inverse.smells(sentence, model, rare_share) for sentence in sentences for inverse in INVERSES):
        return line, []
    chunks = [chunk for chunk in SPAN_START_RE.split(line) if chunk]

    def smells(inverse: CodecInverse, chunk: str) -> bool:
        parts = DAMAGED_END_RE.split(chunk)
        return any(inverse.smells(part, model, rare_share) for part in parts if part)

    out: list[str] = []
    kinds: list[str] = []
    runs = _run_spans(line)
    at = 0
    for chunk in chunks:
        at += len(chunk)
        if any(start < at and at - len(chunk) < end for start, end in runs):  # the re-decode's (step 3)
            out.append(chunk)
            continue
        best: tuple[float, int, str, str] | None = None
        for inverse in INVERSES:
            if not smells(inverse, chunk):
                continue
            found = _best_prefix(chunk, inverse, model, margin, known)
            if found is None:
                continue
            used, text = found
            gain = model.total(text) - model.total(chunk[:used])
            if best is None or gain > best[0]:
                best = (gain, used, text, inverse.name)
        if best is None:
            out.append(chunk)
            continue
        _, used, text, kind = best
        out.append(text + chunk[used:])
        kinds.append(kind)
    return "".join(out), kinds


# --- 3. misaligned GBK runs ---------------------------------------------------------
ANCHOR_RE = re.compile("\\?[!！]")
QUOTES = "“”‘’「」"
LOST_LEAD = b"\xa1"  # first byte of 。 (A1A3), cut off by the misalignment
FULLWIDTH_BANG = b"\xa3\xa1"  # ！ in GBK; width-folded to "!" in many extractions
MAX_FOLDED = 4  # readings of a folded run tried: its first k ASCII characters as fullwidth forms


def _run_bytes(line: str, start: int, *, folded: int = 0) -> tuple[list[bytes | None], int] | None:
    """The bytes of the run after ``?!`` at ``start`` (None for a dropped byte) and where it ends.

    The run ends in step again: after a ``?`` (the decoder dropped a byte it could not
    pair), after an ASCII ``@``-``~`` (the trail byte of a character whose lead the run
    took) or before any other ASCII character. In width-folded text the first ``folded``
    ASCII characters of the run are taken for the fullwidth forms they were folded from
    (GBK ``A3`` + the ASCII byte with its high bit set) and the run goes on.
    """
    raw: list[bytes | None] = [LOST_LEAD + FULLWIDTH_BANG]
    j = start + 2
    while j < len(line):
        char = line[j]
        if char == "?":
            raw.append(None)
            return raw, j + 1
        if char.isascii():
            if folded and "!" <= char <= "~":
                folded -= 1
                raw.append(bytes((0xA3, ord(char) | 0x80)))
                j += 1
                continue
            if 0x40 <= ord(char) <= 0x7E:
                raw.append(char.encode("ascii"))
                j += 1
            return raw, j
        try:
            encoded = char.encode("gb18030")
        except UnicodeEncodeError:
            return None
        if len(encoded) != 2:
            return None
        raw.append(encoded)
        j += 1
    return raw, j


def _best_run(
    line: str, start: int, model: CharModel, known: Known | None = None
) -> tuple[list[bytes | None], str, int] | None:
    """The run at ``start`` decoded; in width-folded text (an ASCII ``?!``) the reading of its
    ASCII characters (folded fullwidth forms or the byte that realigns) that scores best."""
    options = range(MAX_FOLDED + 1) if line[start + 1] == "!" else range(1)
    decoded: list[tuple[list[bytes | None], str, int]] = []
    for folded in options:
        found = _run_bytes(line, start, folded=folded)
        if found is None:
            continue
        raw, end = found
        after = _gbk_context(line[end : end + LOOKAHEAD])
        text = _decode_run(raw, after, model, around=(line[:start], line[end:]), known=known)
        if text is not None:
            decoded.append((raw, text, end))
        ends_on_ascii = line[found[1] - 1].isascii() or (found[1] < len(line) and line[found[1]].isascii())
        if not ends_on_ascii or line[found[1] - 1] == "?":
            break  # no ASCII character left in the run to read another way
    if not decoded:
        return None
    reach = max(end for _, _, end in decoded)
    return max(decoded, key=lambda item: model.total(item[1] + line[item[2] : reach]))


def _gbk_context(text: str) -> bytes:
    return text.encode("gbk", errors="ignore")[:LOOKAHEAD]


def _decode_run(
    raw: list[bytes | None],
    after: bytes,
    model: CharModel,
    *,
    around: tuple[str, str] = ("", ""),
    known: Known | None = None,
) -> str | None:
    """Decode a realigned run; a dropped byte (or a lead left without its trail) is chosen by the model."""
    # the anchor is the evidence: a run may be short and end on its lost byte (``?!?`` is 。 + a quote)
    before, following = around
    points = decode_with_holes(
        raw,
        "gbk",
        model,
        read_as="gbk",
        after=after,
        before=before,
        after_text=following,
        max_hole_share=1.0,
        known=known,
    )
    if not points or points[-1][0] != len(raw):
        return None
    return points[-1][1]


# A pair the misaligned decoder read in GBK's user-defined area (a private-use character in
# gb18030) vanished without a trace: in step again, the character before it and the one after
# it were read as one (p, q) that really is (p, x)(y, q), x the trail byte and y the lead byte
# the vanished pair took.
ALL_TRAILS = (*range(0x40, 0x7F), *range(0x80, 0xFF))
SPLIT_RARE = -12.0  # log P below which a character is never one of the two a split restores


@lru_cache(maxsize=1)
def gbk_table() -> tuple[str | None, ...]:
    """Every two-byte GBK character by ``lead << 8 | trail``, decoded once (a fixed table, not a cache
    that grows page by page)."""
    table: list[str | None] = [None] * 65536
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            try:
                char = bytes((lead, trail)).decode("gbk")
            except UnicodeDecodeError:
                continue
            if len(char) == 1:
                table[lead << 8 | trail] = char
    return tuple(table)


def _gbk_char(lead: int, trail: int) -> str | None:
    return gbk_table()[lead << 8 | trail] if 0 <= lead < 256 and 0 <= trail < 256 else None


@lru_cache(maxsize=1)
def vanishing_pairs() -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """(xs, ys): every pair (x, y) with x in xs and y in ys (a lead byte) that gb18030 reads as a
    private-use character, grouped by the leads y (a fixed table of eleven groups)."""
    by_leads: dict[tuple[int, ...], list[int]] = {}
    for x in range(0x40, 0xFF):
        leads = []
        for y in range(0x81, 0xFF):
            try:
                char = bytes((x, y)).decode("gb18030")
            except UnicodeDecodeError:
                continue
            if PRIVATE_USE_RE.fullmatch(char):
                leads.append(y)
        if leads:
            by_leads.setdefault(tuple(leads), []).append(x)
    return tuple((tuple(xs), leads) for leads, xs in by_leads.items())


@lru_cache(maxsize=16)
def _chars_with_leads(leads: tuple[int, ...]) -> tuple[str, ...]:
    """Common GBK characters whose lead byte is in ``leads`` (candidates for a character lost whole)."""
    model = load_char_model()
    out = []
    for lead in leads:
        for trail in ALL_TRAILS:
            char = _gbk_char(lead, trail)
            if char is not None and model.is_common(char, threshold=-11.0):
                out.append(char)
    return tuple(out)


@lru_cache(maxsize=4096)  # bounded by its keys: 190 trails by eleven groups of leads
def _with_trail(trail: int, leads: tuple[int, ...]) -> tuple[str, ...]:
    """Characters, not rare, with this trail byte and one of ``leads``."""
    model = load_char_model()
    chars = (_gbk_char(lead, trail) for lead in leads)
    return tuple(char for char in chars if char is not None and model.is_common(char, threshold=SPLIT_RARE))


@lru_cache(maxsize=4096)  # bounded by its keys: 126 leads by eleven groups of trails, and all trails
def _with_lead(lead: int, trails: tuple[int, ...]) -> tuple[str, ...]:
    """Characters, not rare, with this lead byte and one of ``trails``."""
    model = load_char_model()
    chars = (_gbk_char(lead, trail) for trail in trails)
    return tuple(char for char in chars if char is not None and model.is_common(char, threshold=SPLIT_RARE))


def _split_candidates(char: str, *, trail_lost: bool) -> list[tuple[str, str]]:
    """(A, B) that ``char`` may really be when a pair vanished inside it (see above)."""
    encoded = char.encode("gbk", errors="ignore")
    if len(encoded) != 2:
        return []
    lead, trail = encoded
    out: list[tuple[str, str]] = []
    for xs, leads in vanishing_pairs():
        firsts = _with_lead(lead, xs)
        if not firsts:
            continue
        seconds = _chars_with_leads(leads) if trail_lost else _with_trail(trail, leads)
        out.extend((first, second) for first in firsts for second in seconds)
    return out


MIDDLE_BEAM = 128  # characters lost whole between two vanished pairs, the most common first, that are tried
TRIPLE_BEAM = 8  # readings of a character across two vanished pairs, best by the character model, that are read


@lru_cache(maxsize=128)  # bounded by its keys: eleven groups of leads by eleven groups of trails
def _middles(leads: tuple[int, ...], trails: tuple[int, ...]) -> tuple[str, ...]:
    """The most common characters with a lead byte in ``leads`` and a trail byte in ``trails``: what
    two vanished pairs in a row took whole."""
    model = load_char_model()
    chars = {char for lead in leads for trail in trails if (char := _gbk_char(lead, trail)) is not None}
    common = [char for char in chars if model.is_common(char, threshold=SPLIT_RARE)]
    common.sort(key=lambda char: (-model.unigram[char], char))
    return tuple(common[:MIDDLE_BEAM])


@lru_cache(maxsize=128)  # as _middles
def _middle_set(leads: tuple[int, ...], trails: tuple[int, ...]) -> frozenset[str]:
    return frozenset(_middles(leads, trails))


@lru_cache(maxsize=1)
def _pair_index() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The character model's pairs by their first character and by their second (built on first need)."""
    after: dict[str, dict[str, float]] = {}
    before: dict[str, dict[str, float]] = {}
    for pair, gain in load_char_model().pairs.items():
        after.setdefault(pair[0], {})[pair[1]] = gain
        before.setdefault(pair[1], {})[pair[0]] = gain
    return after, before


def _best_beside(scored: dict[str, float], gains: dict[str, float] | None, top: tuple[float, str]) -> tuple[float, str]:
    """The best of ``scored`` with each one's pair gain (``gains``) added; ``top`` is the best without
    them (pair gains are never negative)."""
    if not gains:
        return top
    best = top
    small, large = (scored, gains) if len(scored) < len(gains) else (gains, scored)
    for char, value in small.items():
        other = large.get(char)
        if other is not None and value + other > best[0]:
            best = (value + other, char)
    return best


def _triple_candidates(char: str, prev: str, nxt: str) -> list[tuple[float, str]]:
    """The best ``TRIPLE_BEAM`` (score, A + M + C) that ``char`` may really be when two pairs vanished
    inside it in a row: A keeps its lead byte, C its trail byte and M was lost whole; the best A and C
    for each M by the character model (its pairs with ``prev`` and ``nxt`` included). An M that gains
    beside none of the A and C can do no better than the most common such, so only those are tried."""
    encoded = char.encode("gbk", errors="ignore")
    if len(encoded) != 2:
        return []
    lead, trail = encoded
    model = load_char_model()
    uni, pairs, floor = model.unigram, model.pairs, model.floor
    after, before = _pair_index()
    groups = vanishing_pairs()
    heads = [{a: uni.get(a, floor) + pairs.get(prev + a, 0.0) for a in _with_lead(lead, xs)} for xs, _ in groups]
    tails = [{c: uni.get(c, floor) + pairs.get(c + nxt, 0.0) for c in _with_trail(trail, leads)} for _, leads in groups]
    # the characters that gain after one of the heads, or before one of the tails: the only middles
    # whose best head or tail is not simply the best one
    linked_heads = [set().union(*(after.get(a, {}).keys() for a in scored)) for scored in heads]
    linked_tails = [set().union(*(before.get(c, {}).keys() for c in scored)) for scored in tails]
    best: list[tuple[float, str]] = []  # a heap of the best so far
    for g, (_, leads) in enumerate(groups):
        if not heads[g]:
            continue
        top_head = max((score, a) for a, score in heads[g].items())
        for h, (xs, _) in enumerate(groups):
            if not tails[h]:
                continue
            top_tail = max((score, c) for c, score in tails[h].items())
            middles = _middles(leads, xs)
            linked = (linked_heads[g] | linked_tails[h]) & _middle_set(leads, xs)
            for middle in {*middles[:TRIPLE_BEAM], *linked}:
                head, a = _best_beside(heads[g], before.get(middle), top_head)
                tail, c = _best_beside(tails[h], after.get(middle), top_tail)
                found = (head + uni.get(middle, floor) + tail, a + middle + c)
                if len(best) < TRIPLE_BEAM:
                    heappush(best, found)
                elif found > best[0]:
                    heapreplace(best, found)
    return sorted(best, reverse=True)


def _spellings(simplified: str) -> tuple[str, ...]:
    """``simplified`` and the traditional characters that fold to it (the word model's t2s table)."""
    return (simplified, *_traditional_of().get(simplified, ()))


@lru_cache(maxsize=1)
def _traditional_of() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for trad, simp in load_word_model().t2s.items():
        found.setdefault(simp, []).append(chr(trad))
    return {simp: tuple(trads) for simp, trads in found.items()}


@lru_cache(maxsize=4)
def _pairs_by_lead(words: frozenset[str]) -> dict[int, list[tuple[str, str]]]:
    """The two-character words, in each spelling, by the GBK lead byte of their first character."""
    found: dict[int, list[tuple[str, str]]] = {}
    for word in words:
        if len(word) != 2:
            continue
        for first in _spellings(word[0]):
            encoded = first.encode("gbk", errors="ignore")
            if len(encoded) == 2:
                found.setdefault(encoded[0], []).extend((first, second) for second in _spellings(word[1]))
    return found


def _is_split(char: str, first: str, second: str, *, trail_lost: bool) -> bool:
    """Whether ``first`` and ``second`` are one of :func:`_split_candidates` of ``char``."""
    try:
        lead, trail = char.encode("gbk")
        (first_lead, x), (y, second_trail) = first.encode("gbk"), second.encode("gbk")
    except (UnicodeEncodeError, ValueError):
        return False
    if first_lead != lead or not (trail_lost or second_trail == trail):
        return False
    for xs, leads in vanishing_pairs():
        if x in xs and y in leads:
            seconds = _chars_with_leads(leads) if trail_lost else _with_trail(trail, leads)
            return first in _with_lead(lead, xs) and second in seconds
    return False


def _known_splits(char: str, known: Known, behind: str, ahead: str, trail_lost: bool) -> list[str]:
    """The replacements of ``char`` (two characters across a vanished pair, or where its trail byte
    was lost one with its lead byte) that make one of the words the text uses (``known``)."""
    lead = char.encode("gbk")[0]
    pairs = [
        (first, second)
        for pair in known.fits(behind, ahead, 2)
        for first in _spellings(pair[0])
        for second in _spellings(pair[1])
    ]
    pairs += _pairs_by_lead(known.words).get(lead, [])  # a word of two, alone
    out = [first + second for first, second in pairs if _is_split(char, first, second, trail_lost=trail_lost)]
    if trail_lost:
        out += [
            single
            for fit in known.fits(behind, ahead, 1)
            for single in _spellings(fit)
            if single != char and single in _with_lead(lead, ALL_TRAILS)
        ]
    return out


def _pair_scores(model: CharModel, prev: str, firsts: list[str], seconds: list[str], nxt: str) -> list[float]:
    """The character model's score of each ``prev + first + second + nxt``, table-wise."""
    uni, pairs, floor = model.unigram, model.pairs, model.floor
    scores = list(map(uni.get, firsts, repeat(floor)))
    for part in (
        map(pairs.get, map(add, repeat(prev), firsts), repeat(0.0)) if prev else (),
        map(uni.get, seconds, repeat(floor)),
        map(pairs.get, map(add, firsts, seconds), repeat(0.0)),
        map(add, map(pairs.get, map(add, seconds, repeat(nxt)), repeat(0.0)), repeat(uni.get(nxt, floor)))
        if nxt
        else (),
    ):
        if part:
            scores = list(map(add, scores, part))
    return scores


@lru_cache(maxsize=1024)  # once per character of a run; a text's runs share characters and neighbours
def _ranked_splits(char: str, prev: str, nxt: str, *, trail_lost: bool) -> tuple[str, ...] | None:
    """The character model's best splits of ``char`` between ``prev`` and ``nxt`` (:func:`_split_candidates`),
    table-wise, and where its trail byte was lost its best replacements with the same lead byte;
    None when it has no split."""
    candidates = _split_candidates(char, trail_lost=trail_lost)
    if not candidates:
        return None
    model = load_char_model()
    firsts = [first for first, _ in candidates]
    seconds = [second for _, second in candidates]
    scores = _pair_scores(model, prev, firsts, seconds, nxt)
    beam = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:SPLIT_BEAM]
    options = [firsts[i] + seconds[i] for i in beam]
    if not trail_lost:
        options += [triple for _, triple in _triple_candidates(char, prev, nxt)]
    if trail_lost:
        lead = char.encode("gbk")[0]
        singles = [single for single in _with_lead(lead, ALL_TRAILS) if single != char]
        singles.sort(key=lambda single: model.total(prev + single + nxt), reverse=True)
        options += singles[:WORD_BEAM]
    return tuple(options)


RUN_BEAM = 32  # readings of a run kept as it is read character by character (and no more than BEAM_GAP behind)


class _Reading(NamedTuple):
    """A reading of a realigned run so far."""

    score: float  # the context model's
    text: str
    words: str  # its last characters as the word model reads them (folded), as many as a word may reach back
    lattice: list[float]  # the word model's best score before each of ``words`` and after the last
    splits: int  # characters replaced by two or three

    def extended(self, folded: str, words: WordModel, known: Known | None) -> tuple[str, list[float]]:
        """``words`` and ``lattice`` after ``folded`` (for the word model) more characters."""
        tail, lattice = self.words, list(self.lattice)
        for char in folded:
            tail += char
            lattice.append(words.extend(tail, lattice, known)[0])
            tail, lattice = tail[1 - MAX_WORD :], lattice[-MAX_WORD:]
        return tail, lattice


RUN_SEARCHED = 512  # characters of a run searched (a few milliseconds each); a longer run's rest stays as realigned
BEAM_GAP = 15.0  # nats behind the best reading beyond which a reading is dropped
LOOK_AHEAD = 2  # characters after a character's options that rank them (the context model's)


def _options(text: str, at: int, filled: set[int], around: tuple[str, str], known: Known | None) -> list[str]:
    """What ``text[at]`` of a realigned run may have been, itself first: its splits across a vanished
    pair and, where its trail byte was lost (``filled``), the characters with its lead byte, best by the
    character model (:func:`_ranked_splits`), and the replacements that make a word the text uses."""
    char = text[at]
    if char.isascii():
        return [char]
    trail_lost = at in filled
    ranked = _ranked_splits(char, text[at - 1], text[at + 1 : at + 2] or around[1][:1], trail_lost=trail_lost)
    if ranked is None:
        return [char]
    options = [char, *ranked]
    if known is not None:
        behind, ahead = around[0] + text[:at], text[at + 1 :] + around[1]
        options += [option for option in _known_splits(char, known, behind, ahead, trail_lost) if option not in options]
    return options


def restore_vanished_pairs(
    text: str,
    filled: set[int],
    *,
    gain: float,
    limit: int,
    around: tuple[str, str] = ("", ""),
    known: Known | None = None,
) -> str:
    """The reading of a realigned run that reads best, each character kept or replaced (:func:`_options`).

    A beam of readings is carried through the run: each is extended by the options for the next
    character, the context model's best ``READ_BEAM`` of them read with the word model too (its
    segmentation goes on from where the reading's left off), and readings that end in the same two
    characters are merged. A split is worth ``-gain`` nats (it adds a character or two, which the
    models charge for); at most ``limit`` vanished pairs are restored. The readings left are scored
    whole, with the line ``around`` the run and its quotes and brackets (:func:`reading_score`,
    :func:`_paired`).
    """
    context, words = load_context_model(), load_word_model()
    fold, t2s = context.fold, words.t2s
    before, after = around[0][-WORD_CONTEXT:], around[1][:WORD_CONTEXT]
    bonus = -gain
    start = (before + text[:2]).translate(t2s)
    start_words = start[1 - MAX_WORD :]
    first = _Reading(0.0, text[:2], start_words, words.prefix_scores(start, known)[-len(start_words) - 1 :], 0)
    beam = {(before + text[:2])[-2:]: first}
    for at in range(2, len(text)):
        options = _options(text, at, filled, around, known) if at < RUN_SEARCHED else [text[at]]
        folded_options = [option.translate(fold) for option in options]
        ahead = (text[at + 1 :] + around[1])[:LOOK_AHEAD].translate(fold)  # what the options are ranked before
        grown: dict[str, tuple[float, _Reading]] = {}
        for tail, reading in beam.items():
            folded_tail = tail.translate(fold)
            pairs_left = limit - (len(reading.text) - at)  # each character a split adds is a vanished pair
            rank = {
                i: bonus - context.cost(folded_tail + folded_options[i] + ahead) / SCALE
                for i in range(1, len(options))
                if len(options[i]) - 1 <= pairs_left
            }
            read = sorted(rank, key=rank.__getitem__, reverse=True)[:READ_BEAM]
            tail_cost = context.cost(folded_tail)
            for i in (0, *read):
                option = options[i]
                split = len(option) > 1
                score = reading.score - (context.cost(folded_tail + folded_options[i]) - tail_cost) / SCALE
                word_tail, lattice = reading.extended(option.translate(t2s), words, known)
                key = (tail + option)[-2:]
                total = score + bonus * (reading.splits + split) + lattice[-1]
                if key not in grown or grown[key][0] < total:
                    longer = _Reading(score, reading.text + option, word_tail, lattice, reading.splits + split)
                    grown[key] = (total, longer)
        kept = sorted(grown.items(), key=lambda item: item[1][0], reverse=True)[:RUN_BEAM]
        floor = kept[0][1][0] - BEAM_GAP
        beam = {key: reading for key, (total, reading) in kept if total >= floor}

    def whole(reading: _Reading) -> float:
        return (
            reading_score(before + reading.text + after, known=known)
            + _paired(around[0], reading.text, around[1])
            + bonus * reading.splits
        )

    return max(beam.values(), key=whole).text


def redecode_gbk_runs(
    line: str, model: CharModel, *, pair_gain: float = 4.0, pair_limit: int = 4, known: Known | None = None
) -> tuple[str, int]:
    """Repair every ``?!`` run that re-decodes into better text; return (line, count).

    Vanished pairs inside a run are restored by :func:`restore_vanished_pairs` (a split worth
    ``-pair_gain`` nats, at most ``pair_limit`` per run); lost bytes are chosen with the words of
    the whole text (``known``).
    """
    if "?" not in line:
        return line, 0
    out: list[str] = []
    pos = count = 0
    for match in ANCHOR_RE.finditer(line):
        if match.start() < pos:
            continue
        found = _best_run(line, match.start(), model, known)
        if found is None:
            continue
        raw, text, end = found
        # the anchor, a strict decode and 。 before a quote or CJK are the evidence
        if text is None or len(text) < 2 or not (text[1] in QUOTES or model.is_common(text[1])):
            continue
        dropped = raw[-1] is None or sum(len(b) for b in raw if b is not None) % 2 == 1
        filled = {len(text) - 1} if dropped else set()
        around = (line[: match.start()][-WORD_CONTEXT:], line[end : end + WORD_CONTEXT])
        text = restore_vanished_pairs(text, filled, gain=pair_gain, limit=pair_limit, around=around, known=known)
        out.append(line[pos : match.start()])
        out.append(text)
        pos = end
        count += 1
    out.append(line[pos:])
    return "".join(out), count
