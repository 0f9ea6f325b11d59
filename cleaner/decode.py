"""Decode body bytes to text: declared charset checked against the bytes.

Order of evidence: BOM, then the HTTP ``Content-Type`` charset, then
``<meta charset>`` / ``http-equiv``, each *verified* against the bytes, then
charset-normalizer. ``gb2312``/``gbk`` labels decode as GB18030 and ``big5``
as cp950 (then Big5-HKSCS), because real pages use characters outside the
labelled set. A declaration is wrong when the bytes are valid UTF-8 but the
page says GBK (UTF-8 multi-byte runs are practically never valid by chance),
when they are not valid in the declared codec, or when a GB/Big5 reading
scores far better under the character model than the declared one.
Nothing is replaced silently: :class:`EncodingInfo` records declared,
detected, used, confidence and the share of U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

import charset_normalizer

from cleaner.charlm import load_char_model
from cleaner.reasons import Reason, Reject
from cleaner.records import EncodingInfo
from cleaner.script import convert_script
from cleaner.settings import CleanerSettings

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
BINARY_MAGIC = (
    (b"\x89PNG", "PNG image"),
    (b"%PDF", "PDF document"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP/Office document"),
    (b"\xd0\xcf\x11\xe0", "Office document"),
    (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "RIFF media"),
    (b"\x00\x00\x01\x00", "icon"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7z archive"),
)
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml")
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)
HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-]+)", re.IGNORECASE)
HOPELESS_RE = re.compile("锟斤拷|烫烫烫|屯屯屯")  # U+FFFD or uninitialised memory, re-encoded upstream
HOPELESS_RUNS = 3
SNIFF = 4096
PLAUSIBLE = -10.0  # nats per CJK character: real text scores about -7, mojibake below -11
SAMPLE = 3000  # CJK characters scored per reading ...
SAMPLE_SCAN = 60_000  # ... taken from this far into the page
CJK_RUN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff，。、；：？！“”（）《》]+")
# label → codecs to try, strictest first
CODEC_FAMILIES: dict[str, tuple[str, ...]] = {
    "gb18030": ("gb18030",),
    "gbk": ("gb18030",),
    "gb2312": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "euc-cn": ("gb18030",),
    "hz-gb-2312": ("hz",),
    "big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "x-x-big5": ("cp950", "big5hkscs"),
    "cn-big5": ("cp950", "big5hkscs"),
    "utf-8": ("utf-8",),
    "utf8": ("utf-8",),
}
CJK_CODECS = ("gb18030", "cp950", "big5hkscs")


def header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def codecs_for(label: str | None) -> tuple[str, ...]:
    if not label:
        return ()
    label = label.strip().lower().replace("_", "-")
    if label in CODEC_FAMILIES:
        return CODEC_FAMILIES[label]
    try:
        return (codecs.lookup(label).name,)
    except LookupError:
        return ()


def reject_non_text(body: bytes, content_type: str | None, settings: CleanerSettings) -> None:
    if not body.strip():
        raise Reject(Reason.EMPTY_BODY, "the response body is empty")
    if len(body) > settings.max_body_bytes:
        raise Reject(Reason.TOO_LARGE, f"{len(body):,} bytes (> {settings.max_body_bytes:,})")
    for magic, what in BINARY_MAGIC:
        if body.startswith(magic):
            raise Reject(Reason.BINARY, f"the body is a {what}, not a page")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and not mime.startswith(HTML_TYPES):
        raise Reject(Reason.NOT_HTML, f"content type {mime!r} is not a web page")
    head = body[:SNIFF]
    if not any(head.startswith(bom) for bom, _ in BOMS) and head.count(b"\x00") > len(head) // 100:
        raise Reject(Reason.BINARY, "the body contains NUL bytes: binary data, not a page")


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _plausibility(text: str) -> float:
    """Nats per character of the reading's Chinese text (its CJK runs, not the markup around them)."""
    sample = " ".join(CJK_RUN_RE.findall(text, 0, SAMPLE_SCAN))[:SAMPLE]
    model = load_char_model()
    return max(model.score(sample), model.score(convert_script(sample, "zh-Hans")))


def _best_cjk_reading(body: bytes, preferred: tuple[str, ...]) -> tuple[str, str] | None:
    """Strict GB18030 and Big5 readings compared by the character model."""
    readings: list[tuple[float, int, str, str]] = []
    for rank, codec in enumerate(dict.fromkeys((*preferred, *CJK_CODECS))):
        if codec not in CJK_CODECS:
            continue
        text = _strict(body, codec)
        if text is not None:
            bonus = 1.0 if codec in preferred else 0.0  # a declaration is worth one nat
            readings.append((_plausibility(text) + bonus, -rank, codec, text))
    if not readings:
        return None
    _, _, codec, text = max(readings)
    return codec, text


def declared_charset(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """The charset the HTTP header (first) or a ``<meta>`` declares, and which one said it."""
    http_label = HEADER_CHARSET_RE.search(content_type or "")
    if http_label:
        return http_label.group(1), "http"
    meta_label = CHARSET_RE.search(body[:SNIFF])
    if meta_label:
        return meta_label.group(1).decode("ascii", "replace"), "meta"
    return None, None


def decode_body(
    body: bytes, headers: Mapping[str, str], settings: CleanerSettings, *, encoding_hint: str | None = None
) -> tuple[str, EncodingInfo]:
    """Return (text, how it was decoded) or raise a ``decode.*`` rejection.

    ``encoding_hint`` (a site config's) is tried first and used when the bytes decode
    cleanly in it; otherwise the general rules below decide.
    """
    content_type = header(headers, "content-type")
    reject_non_text(body, content_type, settings)
    hinted = _hinted(body, content_type, encoding_hint, settings)
    if hinted is not None:
        return hinted
    for bom, codec in BOMS:
        if body.startswith(bom):
            text = body.decode(codec, errors="replace")
            return _checked(text, EncodingInfo(codec, codec, codec, 1.0, 0.0, "bom"), settings)
    declared, source = declared_charset(body, content_type)
    declared_codecs = codecs_for(declared)
    declared_name = declared.lower() if declared else None

    if body.isascii():
        text = body.decode("ascii")
        return _checked(text, EncodingInfo(declared_name, "ascii", "ascii", 1.0, 0.0, source or "validation"), settings)
    utf8 = _strict(body, "utf-8")
    if utf8 is not None:
        wrong = bool(declared_codecs) and "utf-8" not in declared_codecs
        info = EncodingInfo(
            declared_name, "utf-8", "utf-8", 0.99, 0.0, "validation" if wrong else source or "validation", wrong
        )
        return _checked(utf8, info, settings)
    if declared_codecs and declared_codecs[0] in CJK_CODECS:
        best = _best_cjk_reading(body, declared_codecs)
        if best is not None:
            codec, text = best
            wrong = codec not in declared_codecs
            info = EncodingInfo(declared_name, codec, codec, 0.9, 0.0, "detector" if wrong else source or "meta", wrong)
            return _checked(text, info, settings)
    elif declared_codecs:
        # a Western single-byte label reads any bytes; a clean CJK reading beats it
        best = _best_cjk_reading(body, ())
        if best is not None and _plausibility(best[1]) > PLAUSIBLE:
            codec, text = best
            return _checked(text, EncodingInfo(declared_name, codec, codec, 0.85, 0.0, "detector", True), settings)
        text = _strict(body, declared_codecs[0])
        if text is not None:
            info = EncodingInfo(declared_name, declared_codecs[0], declared_codecs[0], 0.8, 0.0, source or "meta")
            return _checked(text, info, settings)
    best = _best_cjk_reading(body, ())
    if best is not None:
        codec, text = best
        wrong = bool(declared_codecs) and codec not in declared_codecs
        return _checked(text, EncodingInfo(declared_name, codec, codec, 0.85, 0.0, "detector", wrong), settings)
    return _detect(body, declared_name, declared_codecs, settings)


def _hinted(
    body: bytes, content_type: str | None, hint: str | None, settings: CleanerSettings
) -> tuple[str, EncodingInfo] | None:
    for codec in codecs_for(hint) if hint else ():
        text = _strict(body, codec)
        if text is not None:
            declared, _ = declared_charset(body, content_type)
            wrong = bool(declared) and codec not in codecs_for(declared)
            info = EncodingInfo(declared.lower() if declared else None, codec, codec, 0.95, 0.0, "site-hint", wrong)
            return _checked(text, info, settings)
    return None


def _detect(
    body: bytes, declared: str | None, declared_codecs: tuple[str, ...], settings: CleanerSettings
) -> tuple[str, EncodingInfo]:
    """No codec reads the bytes cleanly: ask charset-normalizer, decode with replacement."""
    match = charset_normalizer.from_bytes(body[:200_000]).best()
    detected = match.encoding if match else None
    family = codecs_for(detected) or declared_codecs or ("gb18030",)
    codec = family[0]
    if declared_codecs and codec not in CJK_CODECS and declared_codecs[0] in CJK_CODECS:
        codec = declared_codecs[0]  # a detector guess of cp1252 on broken GBK helps no one
    text = body.decode(codec, errors="replace")
    ratio = text.count("\ufffd") / max(len(text), 1)
    confidence = round(1.0 - (match.chaos if match else 1.0), 3)
    wrong = bool(declared_codecs) and codec not in declared_codecs
    info = EncodingInfo(declared, detected, codec, confidence, round(ratio, 5), "detector", wrong)
    return _checked(text, info, settings)


def _checked(text: str, info: EncodingInfo, settings: CleanerSettings) -> tuple[str, EncodingInfo]:
    if info.replacement_ratio > settings.max_replacement_ratio:
        raise Reject(
            Reason.HOPELESS_MOJIBAKE,
            f"{info.replacement_ratio:.1%} of characters are undecodable in {info.used} "
            f"(> {settings.max_replacement_ratio:.0%}); declared {info.declared or 'nothing'}",
            info,
        )
    if len(HOPELESS_RE.findall(text)) >= HOPELESS_RUNS:
        raise Reject(Reason.HOPELESS_MOJIBAKE, "runs of 锟斤拷/烫烫烫: the bytes were already destroyed upstream", info)
    return text, info
