"""Shared by the benchmarks: loading pages, the internal char-F1 metric, the reproduce line.

Pages come from either

* a corpus manifest (``*.jsonl``, one row per page: ``id``, ``html_file`` relative to the
  manifest's folder, ``url`` or null, ``encoding_hint``, ``page_kind`` and the expected fields), or
* a folder of ``<id>.html`` + ``<id>.json`` (the format of ``tests/fixtures/cms``).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    body: bytes
    url: str
    headers: dict[str, str]
    expected: dict[str, Any]
    encoding: str | None = None  # the true encoding as the ground truth records it
    kind: str | None = None  # page_kind (manifest) or template (folder)


def is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix == ".jsonl"


def load_pages(path: Path) -> list[Page]:
    """Every page of a manifest or of a folder, in a stable order."""
    return load_manifest(path) if is_manifest(path) else load_folder(path)


def load_manifest(manifest: Path) -> list[Page]:
    pages = []
    with manifest.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                pages.append(manifest_page(json.loads(line), manifest.parent))
    return pages


def manifest_page(row: dict[str, Any], root: Path) -> Page:
    html = root / row["html_file"]
    url = row.get("url") or html.resolve().as_uri()
    return Page(row["id"], html.read_bytes(), url, {}, row, row.get("encoding_hint"), row.get("page_kind"))


def load_folder(folder: Path) -> list[Page]:
    pages = []
    for html in sorted(folder.glob("*.html")):
        meta_path = html.with_suffix(".json")
        expected = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        url = expected.get("url") or html.resolve().as_uri()
        headers = expected.get("headers") or {}
        encoding, kind = expected.get("encoding"), expected.get("template")
        pages.append(Page(html.stem, html.read_bytes(), url, headers, expected, encoding, kind))
    return pages


def char_f1(got: str, expected: str) -> float:
    a = Counter(c for c in got if not c.isspace())
    b = Counter(c for c in expected if not c.isspace())
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def reproduce_command() -> str:
    """This run's command line, with the interpreter relative to the working directory when it is below it."""
    interpreter = os.path.relpath(sys.executable)
    if interpreter.startswith(".."):
        interpreter = "python"
    script = os.path.relpath(sys.argv[0])
    return shlex.join([interpreter, script, *sys.argv[1:]])
