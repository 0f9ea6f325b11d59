"""String the stages together: ``clean_page``, ``clean_text`` and ``repair_text``.

bytes ─ decode ─ extract ─┐
                text ─────┴─ repair ─ normalise ─ layout (furniture, metadata) ─ quality ─ identity

A stage returns its result or raises :class:`~cleaner.reasons.Reject`; this
module is the one place that turns a rejection into a :class:`Rejection`.
Anything unforeseen becomes ``extract.internal_error`` with the exception in
the detail, so ``clean_page`` never raises on bad input.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from cleaner import __version__
from cleaner.decode import decode_body
from cleaner.decode import header as header_value
from cleaner.extract import Extracted, extract_html
from cleaner.furniture import drop_furniture
from cleaner.hints import PageHints
from cleaner.identity import article_id, content_hash, simhash
from cleaner.layout import Layout, walk_lines
from cleaner.multipart import is_multipart, unpack_parts
from cleaner.normalise import fullwidth_punctuation, normalise_spacing
from cleaner.quality import assess
from cleaner.reasons import Reason, Reject
from cleaner.records import Article, EncodingInfo, Quality, Rejection
from cleaner.repair import repair_line
from cleaner.script import convert_script, detect_script
from cleaner.settings import CleanerSettings

Timings = dict[str, float]
LINE_BREAK_RE = re.compile(r"\r\n|[\r\n]")


@contextmanager
def timed(timings: Timings | None, stage: str) -> Iterator[None]:
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class TextDraft:
    """Lines after repair and normalisation, in both scripts."""

    lines: tuple[str, ...]  # in the target script
    original: tuple[str, ...]  # in the page's own script
    views: tuple[str, ...]  # simplified, for pattern matching
    script: str
    repairs: dict[str, int]


def repair_and_normalise(text: str, settings: CleanerSettings, timings: Timings | None = None) -> TextDraft:
    repairs: Counter[str] = Counter()
    with timed(timings, "repair"):
        # line breaks only: str.splitlines also splits on U+0085 and U+001C-001E, bytes of Latin-1 mojibake
        repaired = [repair_line(line, settings, repairs) for line in LINE_BREAK_RE.split(text)]
    with timed(timings, "normalise"):
        original = [normalise_spacing(fullwidth_punctuation(line)) for line in repaired]
        joined = "\n".join(original)
        script = detect_script(joined)
        target = settings.target_script
        converted = convert_script(joined, target).split("\n") if target != "keep" else original
        views = converted if target == "zh-Hans" else convert_script(joined, "zh-Hans").split("\n")
        if converted != original:
            repairs["script"] += sum(a != b for a, b in zip(converted, original, strict=True))
    return TextDraft(tuple(converted), tuple(original), tuple(views), script, dict(repairs))


def _in_target(value: str | None, settings: CleanerSettings) -> str | None:
    """Fields come from text views (simplified) or straight from ``<meta>`` (as the page wrote them)."""
    if value is None or settings.target_script == "keep":
        return value
    return convert_script(value, settings.target_script)


def build_article(
    draft: TextDraft,
    layout: Layout,
    *,
    url: str | None,
    extracted: Extracted | None,
    encoding: EncodingInfo | None,
    settings: CleanerSettings,
    timings: Timings | None,
) -> Article:
    fields = layout.fields
    text = "\n".join(layout.body)
    text_original = None
    if settings.keep_original and draft.original != draft.lines:
        original = walk_lines(list(draft.original), list(draft.views), title=layout.title_hint)
        text_original = "\n".join(original.body)
        text_original = text_original if text_original != text else None
    with timed(timings, "quality"):
        score, flags = assess(
            text,
            title=fields.title,
            published_at=fields.published_at,
            spam_lines=layout.spam_lines,
            total_lines=sum(1 for line in draft.lines if line.strip()),
            repairs=draft.repairs,
            settings=settings,
        )
    if draft.script == "mixed":
        flags = (*flags, "mixed_script")
    with timed(timings, "identity"):
        digest = content_hash(text)
        signature = simhash(text)
    sources = dict(fields.sources)
    if extracted is not None:
        sources["body"] = extracted.body_source
    return Article(
        id=article_id(url, digest),
        url=url,
        title=_in_target(fields.title, settings),
        subtitle=_in_target(fields.subtitle, settings),
        summary=_in_target(fields.summary, settings),
        authors=tuple(_in_target(a, settings) or a for a in fields.authors),
        source=_in_target(fields.source, settings),
        editor=_in_target(fields.editor, settings),
        keywords=tuple(_in_target(k, settings) or k for k in fields.keywords or ()),
        published_at=fields.published_at,
        text=text,
        text_original=text_original,
        script=draft.script,
        encoding=encoding,
        repairs=draft.repairs,
        removed=tuple(layout.removed),
        quality=Quality(score=score, flags=flags),
        content_hash=digest,
        simhash=signature,
        cleaner_version=__version__,
        field_sources=sources,
    )


def _clean_lines(
    text: str,
    *,
    url: str | None,
    settings: CleanerSettings,
    extracted: Extracted | None = None,
    encoding: EncodingInfo | None = None,
    timings: Timings | None = None,
) -> Article:
    draft = repair_and_normalise(text, settings, timings)
    title = None
    if extracted is not None and extracted.title:
        title = convert_script(repair_line(extracted.title, settings, Counter()), "zh-Hans")
        title = normalise_spacing(fullwidth_punctuation(title))
    with timed(timings, "layout"):
        fields = extracted.initial_fields(title) if extracted is not None else None
        layout = walk_lines(list(draft.lines), list(draft.views), title=title, fields=fields)
        if extracted is not None:
            extracted.fill_fields(layout.fields)
    return build_article(
        draft, layout, url=url, extracted=extracted, encoding=encoding, settings=settings, timings=timings
    )


def _guarded(url: str | None, run: object, encoding: EncodingInfo | None = None) -> Article | Rejection:
    try:
        return run()  # type: ignore[operator]
    except Reject as reject:
        return Rejection(url=url, reason=reject.reason, detail=reject.detail, encoding=reject.encoding or encoding)
    except Exception as error:
        return Rejection(
            url=url, reason=Reason.INTERNAL_ERROR, detail=f"{type(error).__name__}: {error}", encoding=encoding
        )


def clean_text(
    text: str, *, url: str | None = None, settings: CleanerSettings, timings: Timings | None = None
) -> Article | Rejection:
    """Clean text that was already extracted from a page (one line per block)."""
    return _guarded(url, lambda: _clean_lines(text, url=url, settings=settings, timings=timings))


def clean_page(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    settings: CleanerSettings,
    hints: PageHints | None = None,
    timings: Timings | None = None,
) -> Article | Rejection:
    """Clean one fetched page: raw body bytes, the response headers that matter, its URL,
    and the site's hints (encoding, selectors) when its config gives any.

    A ``multipart/mixed`` body is a multi-page article (see :mod:`cleaner.multipart`):
    each page is decoded and extracted on its own, the bodies are joined in order and the
    metadata comes from the first page.
    """
    decoded: list[EncodingInfo] = []
    content_type = header_value(headers or {}, "content-type")

    def extract(part_body: bytes, part_headers: Mapping[str, str]) -> Extracted:
        with timed(timings, "decode"):
            html, encoding = decode_body(
                part_body, part_headers, settings, encoding_hint=hints.encoding if hints else None
            )
        decoded.append(encoding)
        with timed(timings, "extract"):
            return extract_html(html, url=url, settings=settings, hints=hints)

    def run() -> Article:
        if is_multipart(content_type):
            try:
                parts = unpack_parts(body, str(content_type))
            except ValueError as error:
                raise Reject(Reason.NOT_HTML, f"unreadable multi-page container: {error}") from error
            pages = [extract(p.body, {"content-type": p.content_type or ""}) for p in parts]
        else:
            pages = [extract(body, headers or {})]
        first = pages[0]
        lines = list(first.lines)
        for page in pages[1:]:  # later pages repeat the title and page furniture: keep their body only
            lines.extend(line for line in page.lines if line.strip() and line.strip() != (first.title or "").strip())
        return _clean_lines(
            "\n".join(lines), url=url, settings=settings, extracted=first, encoding=decoded[0], timings=timings
        )

    result = _guarded(url, run)
    if isinstance(result, Rejection) and decoded and result.encoding is None:
        return Rejection(url=url, reason=result.reason, detail=result.detail, encoding=decoded[0])
    return result


def repair_text(text: str, *, settings: CleanerSettings) -> str:
    """Repair, normalise and drop furniture lines of a body-text fragment (no metadata).

    A fragment's lines are its paragraphs: spaces between CJK text stay (a byline
    ``（记者 石河芳 通讯员 赵敬）``), unlike a flattened page's.
    """
    draft = repair_and_normalise(text, settings)
    return "\n".join(drop_furniture(list(draft.lines), list(draft.views)))
