"""The extractors the benchmarks compare, each called in this process on a page's bytes.

Two layers, shared by ``eval_extraction.py`` and ``bench_cleaner.py``:

* the calls themselves (``decode``, ``trafilatura_document``, ``readability_document``,
  ``gne_result``, ``clean``): what the throughput benchmark times;
* ``Extractor``: one of those calls mapped to the corpus scorer's prediction fields
  (title, publish_time, body, author, source, editor): what the quality benchmark scores.

A peer whose package is not installed is an ``Extractor`` with ``missing`` set, never an
import error: the runtime environment has no peers, the bench environment has them all.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import charset_normalizer
from lxml import etree, html

from bench.common import Page
from cleaner import Article, CleanerSettings, Rejection, clean_page, selectors
from cleaner.pipeline import Timings

# elements after which readability's summary text starts a new line: the cleaner's own block list
BLOCK_TAGS = selectors.BLOCK_TAGS


# ----------------------------------------------------------------------------- the calls


def decode(body: bytes) -> str:
    """The bytes as charset-normalizer reads them: how the peers get a ``str``."""
    best = charset_normalizer.from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", "replace")


def clean(page: Page, settings: CleanerSettings, timings: Timings | None = None) -> Article | Rejection:
    return clean_page(page.body, url=page.url, headers=page.headers, settings=settings, timings=timings)


def trafilatura_document(markup: bytes | str, url: str, *, with_metadata: bool = True) -> Any:
    import trafilatura

    return trafilatura.bare_extraction(markup, url=url, with_metadata=with_metadata)


def readability_document(markup: bytes | str) -> Any:
    from readability import Document

    return Document(markup)


@cache
def _gne() -> Any:
    from gne import GeneralNewsExtractor

    return GeneralNewsExtractor()


def gne_result(text: str) -> dict[str, Any]:
    return _gne().extract(text)


def lxml_parse(body: bytes) -> Any:
    """Parsing alone: the floor under any extractor that builds an lxml tree."""
    return html.fromstring(body)


def block_lines(markup: str) -> str:
    """The visible text of an HTML fragment, one line per block element, whitespace collapsed."""
    parts: list[str] = []
    for event, element in etree.iterwalk(html.fromstring(markup), events=("start", "end")):
        is_element = isinstance(element.tag, str)
        block = is_element and element.tag in BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n")
            if is_element and element.text and element.tag not in ("script", "style"):
                parts.append(element.text)
        else:
            if block:
                parts.append("\n")
            if element.tail:
                parts.append(element.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


# ----------------------------------------------------------------------------- predictions


@dataclass(frozen=True, slots=True)
class Prediction:
    """One extractor's answer for one page, in the scorer's fields; ``None`` = the extractor has no such field."""

    title: str = ""
    publish_time: str = ""
    body: str = ""
    author: str | None = None
    source: str | None = None
    editor: str | None = None
    field_sources: dict[str, str] = field(default_factory=dict)
    note: str = ""  # why it is empty: "rejected: …" or "error: …"

    def to_row(self, page_id: str) -> dict[str, str]:
        """A line of the scorer's predictions file."""
        row = {"id": page_id, "title": self.title, "publish_time": self.publish_time, "body": self.body}
        for name in ("author", "source", "editor"):
            value = getattr(self, name)
            if value is not None:
                row[name] = value
        return row


def newsflow_prediction(page: Page, settings: CleanerSettings) -> Prediction:
    result = clean(page, settings)
    if isinstance(result, Rejection):
        return Prediction(author="", source="", editor="", note=f"rejected: {result.reason} {result.detail}")
    return Prediction(
        title=result.title or "",
        publish_time=result.published_at or "",
        body=result.text,
        author=" ".join(result.authors),
        source=result.source or "",
        editor=result.editor or "",
        field_sources=dict(result.field_sources),
    )


def newsflow_converted_prediction(page: Page, settings: CleanerSettings) -> Prediction:
    """The cleaner with ``keep_native_traditional=False``: pages written in traditional script come out
    simplified too, while the corpus's ground truth (and every peer) keeps them as written."""
    return newsflow_prediction(page, replace(settings, keep_native_traditional=False))


def trafilatura_prediction(page: Page, *, on_str: bool = True) -> Prediction:
    document = trafilatura_document(decode(page.body) if on_str else page.body, page.url)
    if document is None:
        return Prediction(author="", note="no document")
    return Prediction(
        title=document.title or "",
        publish_time=document.date or "",
        body=document.text or "",
        author=document.author or "",
    )


def readability_prediction(page: Page) -> Prediction:
    document = readability_document(page.body)
    return Prediction(title=document.short_title() or "", body=block_lines(document.summary()))


def gne_prediction(page: Page) -> Prediction:
    result = gne_result(decode(page.body))
    return Prediction(
        title=result.get("title") or "",
        publish_time=result.get("publish_time") or "",
        body=result.get("content") or "",
        author=result.get("author") or "",
    )


# ----------------------------------------------------------------------------- the extractors


@dataclass(frozen=True, slots=True)
class Extractor:
    name: str
    call: str  # what runs, for the tables' legend
    fields: frozenset[str]  # the prediction fields it produces
    predict: Callable[[Page], Prediction] | None
    version: str = ""
    missing: str | None = None  # why it cannot run here

    def run(self, page: Page) -> Prediction:
        """Its prediction for the page; an exception is an empty prediction whose note says what was raised."""
        assert self.predict is not None, f"{self.name} is {self.missing}"
        try:
            return self.predict(page)
        except Exception as exc:
            return self.empty(f"error: {type(exc).__name__}: {exc}")

    def empty(self, note: str) -> Prediction:
        blank = {name: "" for name in ("author", "source", "editor") if name in self.fields}
        return Prediction(note=note, **blank)


@dataclass(frozen=True, slots=True)
class _Spec:
    package: str  # distribution name, for the version
    module: str  # import name, to see whether it is installed
    call: str
    fields: tuple[str, ...]
    predict: Callable[..., Prediction]
    needs_settings: bool = False


_BASE = ("title", "publish_time", "body")


def _newsflow(call: str, predict: Callable[..., Prediction]) -> _Spec:
    """A newsflow column: every field scored, run with the settings handed in."""
    return _Spec("newsflow", "cleaner", call, (*_BASE, "author", "source", "editor"), predict, needs_settings=True)


_SPECS: dict[str, _Spec] = {
    "newsflow": _newsflow("clean_page(bytes, url=…, headers=…, settings=CleanerSettings())", newsflow_prediction),
    "newsflow-converted": _newsflow(
        "clean_page(…, settings=CleanerSettings(keep_native_traditional=False))", newsflow_converted_prediction
    ),
    "trafilatura": _Spec(
        "trafilatura",
        "trafilatura",
        "bare_extraction(charset-normalizer str, with_metadata=True)",
        (*_BASE, "author"),
        trafilatura_prediction,
    ),
    "trafilatura-bytes": _Spec(
        "trafilatura",
        "trafilatura",
        "bare_extraction(bytes, with_metadata=True)",
        (*_BASE, "author"),
        partial(trafilatura_prediction, on_str=False),
    ),
    "readability": _Spec(
        "readability-lxml",
        "readability",
        "Document(bytes): .short_title(), .summary() text by block",
        ("title", "body"),
        readability_prediction,
    ),
    "gne": _Spec(
        "gne",
        "gne",
        "GeneralNewsExtractor().extract(charset-normalizer str)",
        (*_BASE, "author"),
        gne_prediction,
    ),
}
NAMES = tuple(_SPECS)
DEFAULT_NAMES = ("newsflow", "newsflow-converted", "trafilatura", "readability", "gne")


def installed_version(package: str, module: str) -> str | None:
    """The package's version, or None when it cannot be imported here."""
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def extractors(names: Iterable[str], settings: CleanerSettings) -> list[Extractor]:
    """The named extractors, the ones that are not installed with ``missing`` set."""
    out = []
    for name in names:
        spec = _SPECS[name]
        found = installed_version(spec.package, spec.module)
        predict = partial(spec.predict, settings=settings) if spec.needs_settings else spec.predict
        extractor = Extractor(name, spec.call, frozenset(spec.fields), predict, found or "")
        out.append(extractor if found else replace(extractor, predict=None, missing="not installed"))
    return out
