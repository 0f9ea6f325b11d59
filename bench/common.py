"""Shared by the benchmarks: loading a folder of ``<id>.html`` + ``<id>.json`` pages."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    body: bytes
    url: str
    headers: dict[str, str]
    expected: dict


def load_pages(folder: Path) -> list[Page]:
    pages = []
    for html in sorted(folder.glob("*.html")):
        meta_path = html.with_suffix(".json")
        expected = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        url = expected.get("url") or html.resolve().as_uri()
        pages.append(Page(html.stem, html.read_bytes(), url, expected.get("headers") or {}, expected))
    return pages


def char_f1(got: str, expected: str) -> float:
    a = Counter(c for c in got if not c.isspace())
    b = Counter(c for c in expected if not c.isspace())
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)
