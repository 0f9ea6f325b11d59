"""Every record that crosses a boundary is described field by field in its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cleaner import Article, CleanerSettings, clean_page
from tests.conftest import ROOT

SCHEMAS = sorted((ROOT / "sinks" / "schemas").glob("*.json"))


def undescribed(schema: dict[str, Any], path: str = "") -> list[str]:
    missing = []
    for name, prop in (schema.get("properties") or {}).items():
        if not prop.get("description"):
            missing.append(path + name)
        missing += undescribed(prop, f"{path}{name}.")
        if isinstance(prop.get("items"), dict):
            missing += undescribed(prop["items"], f"{path}{name}[].")
    return missing


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.stem)
def test_every_field_of_every_record_is_described(path: Path) -> None:
    assert undescribed(json.loads(path.read_text(encoding="utf-8"))) == []


def test_an_article_names_the_script_of_its_page_and_of_its_text() -> None:
    """``--script zh-Hant`` on a simplified page: the page is zh-Hans, the text zh-Hant, and both say so."""
    html = (
        "<html><head><meta charset='utf-8'><title>市政协召开专题协商会议</title></head><body>"
        "<h1>市政协召开专题协商会议</h1><div class='article'><p>"
        + "市政协召开专题协商会议，围绕优化营商环境建言献策，与会委员结合调研情况提出意见建议。" * 3
        + "</p></div></body></html>"
    ).encode()
    settings = CleanerSettings(target_script="zh-Hant")
    article = clean_page(html, url="http://example.invalid/a", settings=settings)
    assert isinstance(article, Article)
    assert (article.script, article.text_script) == ("zh-Hans", "zh-Hant")
    assert "協商會議" in article.text
    schema = json.loads((ROOT / "sinks" / "schemas" / "article.json").read_text(encoding="utf-8"))
    assert {"script", "text_script"} <= set(schema["properties"])
