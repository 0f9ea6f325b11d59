"""String the stages together: ``clean_page``, ``clean_text`` and ``repair_text``.

bytes ─ decode ─ extract ─┐
                text ─────┴─ repair ─ normalise ─ layout (furniture, metadata) ─ quality ─ identity

One page travels as one :class:`Draft`: decoding adds how the bytes became text; ``extract``
parses and walks the page once and adds the tree with its chosen lines and the fields the page
states (and their sources); ``normalise_text`` adds those lines repaired, in the output script
and, once, in the simplified view the patterns match; ``lay_out`` reads the body's own lines into
the same fields; ``build_article`` puts every field into the output script once.

A stage adds to the draft or raises :class:`~cleaner.reasons.Reject`; this module is the one
place that turns a rejection into a :class:`Rejection`. Anything unforeseen becomes
``<stage>.internal_error`` (the stage it happened in: ``decode``, ``extract`` — repair and layout
included — or ``quality``) with the exception in the detail, so ``clean_page`` never raises on bad
input.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from cleaner import __version__
from cleaner.charlm import Known
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
from cleaner.script import as_written, convert_script, detect_script, output_script, written_in_traditional
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

    lines: tuple[str, ...]  # in the output script
    original: tuple[str, ...]  # in the page's own script
    views: tuple[str, ...]  # simplified, for pattern matching
    script: str  # the script the page is written in
    target: str  # what the lines were put into: zh-Hans, zh-Hant, or keep (the page's own)
    repairs: dict[str, int]

    @property
    def text_script(self) -> str:
        return self.script if self.target == "keep" else self.target


@dataclass(slots=True)
class Draft:
    """One page on its way through the cleaner. Each stage adds its part or raises
    :class:`~cleaner.reasons.Reject`; :func:`build_article` reads them all."""

    url: str | None
    settings: CleanerSettings
    timings: Timings | None = None
    encoding: EncodingInfo | None = None  # decode: how the bytes became text
    page: Extracted | None = None  # extract: the tree, its chosen lines, the headline, the fields the page states
    text: TextDraft | None = None  # repair + normalise: the lines in the output script, as written, and the view
    title: str | None = None  # the headline, repaired, in the page's script ...
    title_view: str | None = None  # ... and simplified, as the lines it is matched against
    layout: Layout | None = None  # layout: the body's lines, furniture out, every field with its source

    @property
    def written(self) -> str:
        """The page's text as written: where a field read from a simplified view is found again."""
        if self.page is not None:
            return self.page.page_text
        return "\n".join(self.text.original) if self.text is not None else ""


def repair_and_normalise(
    text: str,
    settings: CleanerSettings,
    timings: Timings | None = None,
    *,
    language: str | None = None,
    host: str | None = None,
    page_text: str | None = None,
) -> TextDraft:
    """Repair each line, normalise it and put it into the output script; ``language`` (as the page
    declares it), ``host`` and the page's quoting (``page_text``, else the lines) tell a page written
    in traditional script from a converted one."""
    repairs: Counter[str] = Counter()
    with timed(timings, "repair"):
        # line breaks only: str.splitlines also splits on U+0085 and U+001C-001E, bytes of Latin-1 mojibake
        known = Known(text, settings.repair_known_word_logp)  # its words are found if a lost byte needs them
        repaired = [repair_line(line, settings, repairs, known) for line in LINE_BREAK_RE.split(text)]
    with timed(timings, "normalise"):
        original = [normalise_spacing(fullwidth_punctuation(line)) for line in repaired]
        joined = "\n".join(original)
        script = detect_script(joined)
        # glued pinyin is a converter's mark: such a page was simplified before it was converted
        native = not repairs["pinyin"] and written_in_traditional(page_text or joined, language=language, host=host)
        target = output_script(
            settings.target_script, script, native=native, keep_native=settings.keep_native_traditional
        )
        converted = convert_script(joined, target).split("\n") if target != "keep" else original
        views = converted if target == "zh-Hans" else convert_script(joined, "zh-Hans").split("\n")
        if converted != original:
            repairs["script"] += sum(a != b for a, b in zip(converted, original, strict=True))
    return TextDraft(tuple(converted), tuple(original), tuple(views), script, target, dict(repairs))


AS_WRITTEN = ("meta:", "html:", "site:")  # field origins that read the page as written, not a simplified view


def _in_target(
    value: str | None, text: TextDraft, origin: str | None, written: str, *, name: bool = False
) -> str | None:
    """Fields come from text views (simplified) or straight from the markup (as the page wrote them).
    They go into the draft's output script, except where the page's own writing is kept: with
    ``keep``, and for people's names on a page written in simplified script (t2s would change the
    characters a name is written with, 王頔 → 王𬱖). A kept value read from a view is found again in
    ``written`` (the page's text as written), or converted back when it is not there."""
    if value is None:
        return None
    if text.target == "keep" or (name and text.script == "zh-Hans"):
        if (origin or "").startswith(AS_WRITTEN):
            return value
        if found := as_written(value, written):
            return found
        return convert_script(value, text.script) if text.script in ("zh-Hans", "zh-Hant") else value
    return convert_script(value, text.target)


def normalise_text(draft: Draft, text: str) -> None:
    """Repair and normalise the lines (and the headline) into the output script and the simplified view."""
    page = draft.page
    draft.text = repair_and_normalise(
        text,
        draft.settings,
        draft.timings,
        language=page.language if page is not None else None,
        host=page.host if page is not None else None,
        page_text=page.page_text if page is not None else None,
    )
    if page is not None and page.title:
        known = Known(text, draft.settings.repair_known_word_logp)  # the headline's words are the body's
        repaired = repair_line(page.title, draft.settings, Counter(), known)
        draft.title = normalise_spacing(fullwidth_punctuation(repaired))
        draft.title_view = convert_script(draft.title, "zh-Hans")


def lay_out(draft: Draft, page_breaks: frozenset[int] = frozenset()) -> None:
    """Walk the lines: furniture out, the body's own fields in, after what the page states around it."""
    assert draft.text is not None
    page = draft.page
    with timed(draft.timings, "layout"):
        fields = page.initial_fields(draft.title) if page is not None else None
        layout = walk_lines(
            list(draft.text.lines),
            list(draft.text.views),
            title=draft.title_view,
            fields=fields,
            page_breaks=page_breaks,
        )
        if page is not None:
            page.fill_fields(layout.fields)
        layout.fields.absorb(layout.guesses)
    draft.layout = layout


def build_article(draft: Draft) -> Article:
    """The article the draft has become: its quality judged, its identity computed, every field put
    into the output script once."""
    assert draft.text is not None and draft.layout is not None
    text_draft, layout, settings, timings = draft.text, draft.layout, draft.settings, draft.timings
    fields = layout.fields
    text = "\n".join(layout.body)
    text_original = None
    if settings.keep_original and text_draft.original != text_draft.lines:
        original = walk_lines(list(text_draft.original), list(text_draft.views), title=layout.title_hint)
        text_original = "\n".join(original.body)
        text_original = text_original if text_original != text else None
    with timed(timings, "quality"), in_stage(Stage.QUALITY):
        score, flags = assess(
            text,
            title=fields.title,
            published_at=fields.published_at,
            spam_lines=layout.spam_lines,
            total_lines=sum(1 for line in text_draft.lines if line.strip()),
            repairs=text_draft.repairs,
            settings=settings,
        )
    if text_draft.script == "mixed":
        flags = (*flags, "mixed_script")
    with timed(timings, "identity"), in_stage(Stage.QUALITY):
        digest = content_hash(text)
        signature = simhash(text)
    sources = dict(fields.sources)
    if draft.page is not None:
        sources["body"] = draft.page.body_source
    written = draft.written

    def target(value: str | None, field: str) -> str | None:
        return _in_target(value, text_draft, sources.get(field), written, name=field in ("authors", "editor"))

    return Article(
        id=article_id(draft.url, digest),
        url=draft.url,
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
        script=text_draft.script,
        text_script=text_draft.text_script,
        encoding=draft.encoding,
        repairs=text_draft.repairs,
        removed=tuple(layout.removed),
        quality=Quality(score=score, flags=flags),
        content_hash=digest,
        simhash=signature,
        cleaner_version=__version__,
        field_sources=sources,
    )


def _guarded(draft: Draft, run: Callable[[], Article]) -> Article | Rejection:
    """Run the stages: a rejection they raise, or anything unforeseen, becomes the page's Rejection."""
    try:
        return run()
    except Reject as reject:
        encoding = reject.encoding or draft.encoding
        return Rejection(url=draft.url, reason=reject.reason, detail=reject.detail, encoding=encoding)
    except StageFailed as failed:
        return Rejection(
            url=draft.url, reason=Reason.internal(failed.stage), detail=str(failed), encoding=draft.encoding
        )
    except Exception as error:
        return Rejection(
            url=draft.url,
            reason=Reason.INTERNAL_ERROR,
            detail=f"{type(error).__name__}: {error}",
            encoding=draft.encoding,
        )


def clean_text(
    text: str, *, url: str | None = None, settings: CleanerSettings, timings: Timings | None = None
) -> Article | Rejection:
    """Clean text that was already extracted from a page (one line per block)."""
    draft = Draft(url, settings, timings)

    def run() -> Article:
        normalise_text(draft, text)
        lay_out(draft)
        return build_article(draft)

    return _guarded(draft, run)


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
    draft = Draft(url, settings, timings)
    content_type = header_value(headers or {}, "content-type")

    def extract(part_body: bytes, part_headers: Mapping[str, str]) -> Extracted:
        with timed(timings, "decode"), in_stage(Stage.DECODE):
            html, encoding = decode_body(
                part_body, part_headers, settings, encoding_hint=hints.encoding if hints else None
            )
        draft.encoding = draft.encoding or encoding  # the first page's
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
        draft.page = pages[0]
        lines = list(draft.page.lines)
        breaks = []
        for page in pages[1:]:  # each later page is walked from its own head: its title and info lines go
            breaks.append(len(lines))
            lines.extend(page.lines)
        normalise_text(draft, "\n".join(lines))
        lay_out(draft, frozenset(breaks))
        return build_article(draft)

    return _guarded(draft, run)


WARM_UP_PAGE = "<html><head><title>市政府召开常务会议</title></head><body><p>会议研究部署了工作。</p></body></html>"


def warm_up(settings: CleanerSettings) -> None:
    """Load now what the cleaner otherwise loads on its first pages: the character, word and context
    models, the OpenCC tables, the GBK table, the pinyin readings and the lazy imports of a first page."""
    from cleaner.charlm import load_char_model, load_word_model
    from cleaner.contextlm import load_context_model
    from cleaner.mojibake import gbk_table
    from cleaner.pinyin import load_readings
    from cleaner.script import load_tables

    load_char_model()
    load_word_model()
    load_context_model()
    load_tables()
    gbk_table()
    load_readings()
    clean_page(WARM_UP_PAGE.encode("utf-8"), url="http://warm-up.invalid/", settings=settings)


def repair_text(text: str, *, settings: CleanerSettings) -> str:
    """Repair, normalise and drop furniture lines of a body-text fragment (no metadata).

    A fragment's lines are its paragraphs: spaces between CJK text stay (a byline
    ``（记者 石河芳 通讯员 赵敬）``), unlike a flattened page's.
    """
    draft = repair_and_normalise(text, settings)
    return "\n".join(drop_furniture(list(draft.lines), list(draft.views)))
