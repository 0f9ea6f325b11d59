"""String the stages together: ``clean_page``, ``clean_text`` and ``repair_text``.

bytes ─ decode ─ extract ─┐
                text ─────┴─ repair ─ normalise ─ layout (furniture, metadata) ─ quality ─ identity

One page travels as one draft: ``extract`` parses and walks the page once and hands on the
chosen lines with the fields the page states (and their sources); ``repair_and_normalise``
turns those lines into the target script and, once, into the simplified view the patterns
match; ``layout`` reads the body's own lines into the same fields; ``build_article`` puts
every field into the target script once.

A stage returns its result or raises :class:`~cleaner.reasons.Reject`; this
module is the one place that turns a rejection into a :class:`Rejection`.
Anything unforeseen becomes ``<stage>.internal_error`` (the stage it happened
in: ``decode``, ``extract`` — repair and layout included — or ``quality``) with the
exception in the detail, so ``clean_page`` never raises on bad input.
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
from cleaner.reasons import Reason, Reject, Stage, StageFailed, in_stage
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


AS_WRITTEN = ("meta:", "html:", "site:")  # field origins that read the page as written, not a simplified view


def _in_target(value: str | None, settings: CleanerSettings, script: str, origin: str | None) -> str | None:
    """Fields come from text views (simplified) or straight from the markup (as the page wrote them):
    into the target script; with ``keep``, a value read from a view goes back into the page's script."""
    target = settings.target_script
    if target == "keep":
        if (origin or "").startswith(AS_WRITTEN):
            return value
        target = script
    if value is None or target not in ("zh-Hans", "zh-Hant"):
        return value
    return convert_script(value, target)


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
    with timed(timings, "quality"), in_stage(Stage.QUALITY):
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
    with timed(timings, "identity"), in_stage(Stage.QUALITY):
        digest = content_hash(text)
        signature = simhash(text)
    sources = dict(fields.sources)
    if extracted is not None:
        sources["body"] = extracted.body_source

    def target(value: str | None, name: str) -> str | None:
        return _in_target(value, settings, draft.script, sources.get(name))

    return Article(
        id=article_id(url, digest),
        url=url,
        title=target(fields.title, "title"),
        subtitle=target(fields.subtitle, "subtitle"),
        summary=target(fields.summary, "summary"),
        authors=tuple(target(a, "authors") or a for a in fields.authors),
        source=target(fields.source, "source"),
        editor=target(fields.editor, "editor"),
        keywords=tuple(target(k, "keywords") or k for k in fields.keywords or ()),
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
    page_breaks: frozenset[int] = frozenset(),
) -> Article:
    draft = repair_and_normalise(text, settings, timings)
    title = title_view = None
    if extracted is not None and extracted.title:
        repaired = repair_line(extracted.title, settings, Counter())
        title = normalise_spacing(fullwidth_punctuation(repaired))  # in the page's script, as the field
        title_view = convert_script(title, "zh-Hans")  # simplified, as the lines it is matched against
    with timed(timings, "layout"):
        fields = extracted.initial_fields(title) if extracted is not None else None
        layout = walk_lines(
            list(draft.lines), list(draft.views), title=title_view, fields=fields, page_breaks=page_breaks
        )
        if extracted is not None:
            extracted.fill_fields(layout.fields)
        layout.fields.absorb(layout.guesses)
    return build_article(
        draft, layout, url=url, extracted=extracted, encoding=encoding, settings=settings, timings=timings
    )


def _guarded(url: str | None, run: object, encoding: EncodingInfo | None = None) -> Article | Rejection:
    try:
        return run()  # type: ignore[operator]
    except Reject as reject:
        return Rejection(url=url, reason=reject.reason, detail=reject.detail, encoding=reject.encoding or encoding)
    except StageFailed as failed:
        return Rejection(url=url, reason=Reason.internal(failed.stage), detail=str(failed), encoding=encoding)
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
        with timed(timings, "decode"), in_stage(Stage.DECODE):
            html, encoding = decode_body(
                part_body, part_headers, settings, encoding_hint=hints.encoding if hints else None
            )
        decoded.append(encoding)
        with timed(timings, "extract"), in_stage(Stage.EXTRACT):
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
        breaks = []
        for page in pages[1:]:  # each later page is walked from its own head: its title and info lines go
            breaks.append(len(lines))
            lines.extend(page.lines)
        return _clean_lines(
            "\n".join(lines),
            url=url,
            settings=settings,
            extracted=first,
            encoding=decoded[0],
            timings=timings,
            page_breaks=frozenset(breaks),
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
