"""Byte-level mojibake repair: codec inverses and the GBK-run re-decode.

Order per line (the repair stage applies them in this order):

1. **Codec inverses.** Text that was decoded with the wrong codec is encoded
   back with that codec and decoded with the right one: UTF-8 read as GBK
   (``銆傗€滅柅鎯``), UTF-8 or GBK read as Latin-1/cp1252 (``ä¸­`` / ``ÖÐ¹ú``),
   GBK read as Big5 and Big5 read as GBK. A candidate replaces the line only
   when the character model scores it better by ``repair_margin`` nats per
   character, so clean text comes back unchanged (its inverses either fail to
   encode or score far worse).
2. **GBK-run re-decode**, anchored on ``?!``/``?！``: a GBK byte stream cut one
   byte into ``。`` (``A1 A3``) decodes, one byte out of step, as ``?`` + ``！``
   + nonsense until an ASCII byte realigns it. Re-encoding the run and
   prepending the lost ``A1`` restores it: ``敲開門?!耙咔槊媲埃`` → ``敲開門。“疫情面前``.
   When the run ends on a lost byte (``侥?,``) the missing trail byte is chosen
   by the character model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cleaner.charlm import CharModel

# characters that almost only occur in mojibake of UTF-8 read as GBK or Latin-1
SMELL_RE = re.compile("[銆鈥锛锟€Ã Â¤¸­¹ú]|â€|ï¼|å|æ|ç|è|é[^\\u0300]")
HOPELESS_RE = re.compile("(锟斤拷)+|\ufffd{3,}")
ANCHOR_RE = re.compile("\\?[!！]")
QUOTES = "“”‘’「」"
LOST_LEAD = 0xA1  # first byte of 。 (A1A3), cut off by the misalignment
FULLWIDTH_BANG = b"\xa3\xa1"  # ！ in GBK; width-folded to "!" in many extractions


@dataclass(frozen=True, slots=True)
class CodecInverse:
    name: str
    encode_as: tuple[str, ...]
    decode_as: str


INVERSES: tuple[CodecInverse, ...] = (
    CodecInverse("utf8_as_gbk", ("cp936", "gb18030"), "utf-8"),
    CodecInverse("utf8_as_latin1", ("cp1252", "latin-1"), "utf-8"),
    CodecInverse("gbk_as_latin1", ("cp1252", "latin-1"), "gb18030"),
    CodecInverse("gbk_as_big5", ("cp950", "big5hkscs"), "gb18030"),
    CodecInverse("big5_as_gbk", ("cp936", "gb18030"), "cp950"),
)
MAX_CANDIDATE_FFFD = 0.2
LOST = "\x1a"


def encode_as(text: str, codec: str) -> bytes:
    """``text.encode(codec)``, with Windows cp936's ``€`` = 0x80 that Python's gbk lacks."""
    if codec == "cp936":
        return b"\x80".join(part.encode("gbk") for part in text.split("€"))
    return text.encode(codec)


def _candidates(line: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    # a byte lost in the first decode stays lost: carry it through as SUB, back as U+FFFD
    line = line.replace("\ufffd", LOST)
    for inverse in INVERSES:
        for codec in inverse.encode_as:
            try:
                raw = encode_as(line, codec)
            except UnicodeEncodeError:
                continue
            text = raw.decode(inverse.decode_as, errors="replace").replace(LOST, "\ufffd")
            if text != line and text.count("\ufffd") <= MAX_CANDIDATE_FFFD * max(len(text), 1):
                out.append((inverse.name, text))
            break
    return out


def looks_damaged(line: str, model: CharModel, score: Callable[[str], float]) -> bool:
    """Cheap gate: only lines that smell or score like mojibake are tried."""
    return bool(SMELL_RE.search(line)) or score(line) < -10.0


def invert_codec(line: str, model: CharModel, score: Callable[[str], float], margin: float) -> tuple[str, str | None]:
    """Best codec inverse of ``line`` if it beats the line by ``margin``, with its kind."""
    if line.isascii() or not looks_damaged(line, model, score):
        return line, None
    base = score(line)
    best, best_kind, best_score = line, None, base + margin
    for kind, text in _candidates(line):
        cand_score = score(text)
        if cand_score > best_score:
            best, best_kind, best_score = text, kind, cand_score
    return best, best_kind


def _fill_lost_trail(prefix: str, lead: int, following: str, model: CharModel) -> str | None:
    """Choose the trail byte of an orphan GBK lead byte by the character model."""
    prev = prefix[-1] if prefix else None
    nxt = following[:1]
    best: tuple[float, str] | None = None
    for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
        try:
            char = bytes((lead, trail)).decode("gbk")
        except UnicodeDecodeError:
            continue
        logp = model.char_logp(prev, char)
        if nxt and model.is_common(nxt):
            logp += model.char_logp(char, nxt)
        if best is None or logp > best[0]:
            best = (logp, char)
    return best[1] if best else None


def _redecode_at(line: str, start: int, model: CharModel) -> tuple[str, int] | None:
    """Re-decode the run whose ``?`` is at ``start``; return (text, end index)."""
    buf = bytearray((LOST_LEAD,)) + FULLWIDTH_BANG
    j = start + 2  # past "?!"
    gap = False
    while j < len(line):
        char = line[j]
        if char.isascii():
            if char == "?":
                gap, j = True, j + 1
            elif 0x40 <= ord(char) <= 0x7E:
                buf.append(ord(char))
                j += 1
            else:
                gap = True
            break
        try:
            encoded = char.encode("gbk")
        except UnicodeEncodeError:
            return None
        if len(encoded) != 2:
            return None
        buf += encoded
        j += 1
    if len(buf) % 2 and not buf[-1] < 0x80:
        # an orphan lead byte is left: its trail byte was lost with the "?"
        try:
            prefix = bytes(buf[:-1]).decode("gbk")
        except UnicodeDecodeError:
            return None
        filled = _fill_lost_trail(prefix, buf[-1], line[j:], model) if gap or j >= len(line) else None
        if filled is None:
            return None
        return prefix + filled, j
    try:
        text = bytes(buf).decode("gbk")
    except UnicodeDecodeError:
        return None
    return text, j


def redecode_gbk_runs(line: str, model: CharModel) -> tuple[str, int]:
    """Repair every ``?!`` run that re-decodes into better text; return (line, count)."""
    if "?" not in line:
        return line, 0
    out: list[str] = []
    pos = count = 0
    for match in ANCHOR_RE.finditer(line):
        if match.start() < pos:
            continue
        result = _redecode_at(line, match.start(), model)
        if result is None:
            continue
        text, end = result
        # the anchor, a strict decode and 。 before a quote or CJK are the evidence
        if not text.startswith("。") or len(text) < 2 or not (text[1] in QUOTES or model.is_common(text[1])):
            continue
        out.append(line[pos : match.start()])
        out.append(text)
        pos = end
        count += 1
    out.append(line[pos:])
    return "".join(out), count
