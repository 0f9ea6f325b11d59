"""``newsflow demo`` end to end, as a newcomer runs it: a fresh folder, no Kafka, no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsflow.demo import demo_root
from sinks.backends import open_log
from sinks.settings import StreamSettings
from tests.conftest import ROOT, char_f1
from tests.contracts import read_all, validate

pytestmark = pytest.mark.timeout(120)


def expected_summary() -> dict[str, object]:
    """What the demo must report, derived from the demo site's manifest."""
    manifest = json.loads((demo_root() / "manifest.json").read_text(encoding="utf-8"))
    kinds = Counter(entry["kind"] for entry in manifest.values())
    raw = kinds["article"] + kinds["attachment"] + kinds["missing"]  # continuation pages travel with page 1
    too_short = sum(1 for e in manifest.values() if (e.get("expected") or {}).get("rejected"))
    reposts = sum(1 for e in manifest.values() if e.get("duplicate_of"))
    return {
        "raw pages": raw,
        "articles": kinds["article"] - too_short,
        "reposts": reposts,
        "rejections": {
            "decode.binary": kinds["attachment"],
            "fetch.gone": kinds["missing"],
            "quality.too_short": too_short,
        },
    }


def newsflow(cwd: Path, *args: str) -> str:
    """Run a command as a newcomer does, in a fresh folder with no NEWSFLOW_* settings; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_demo_crawls_cleans_and_summarises(tmp_path: Path) -> None:
    out = newsflow(tmp_path, "demo")
    want = expected_summary()
    assert f"raw pages       {want['raw pages']}\n" in out
    assert f"articles        {want['articles']}  ({want['reposts']} marked as reposts)" in out
    rejections = want["rejections"]
    assert isinstance(rejections, dict)
    assert f"rejections      {sum(rejections.values())}\n" in out
    for reason, count in rejections.items():
        assert f"  {reason:<26}{count}\n" in out
    assert (tmp_path / "data" / "demo" / "newsflow.db").exists()
    # the README shows what the demo prints (its time aside)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme.split("What it prints", 1)[1].split("```\n", 2)[1].splitlines()
    printed = out.splitlines()[: len(sample)]
    assert [re.sub(r"\d+\.\d s$", "N s", line) for line in printed] == [
        re.sub(r"\d+\.\d s$", "N s", line) for line in sample
    ]
    sample = json.loads(out[out.index("{") :])
    # the multi-page articles were fetched whole and joined: their text is every page's
    manifest = json.loads((demo_root() / "manifest.json").read_text(encoding="utf-8"))
    log = open_log(StreamSettings(db_path=str(tmp_path / "data" / "demo" / "newsflow.db")))
    articles = {urlsplit(a["url"]).path: a for a in (validate(m)["value"] for m in read_all(log, "newsflow.articles"))}
    log.close()
    multipage = {path: entry for path, entry in manifest.items() if entry.get("pages")}
    assert multipage
    for path, entry in multipage.items():
        assert char_f1(articles[path]["text"], entry["expected"]["body"]) > 0.99, path
    assert sample["site"] == "qinghe_demo" and sample["region"] == "河北省/清河市" and sample["title"]

    # status after the demo shows the numbers the demo printed
    [site] = json.loads(newsflow(tmp_path, "status", "--demo", "--json"))["sites"]
    last = site["last_crawl"]
    printed = dict(re.findall(r"^(pages fetched|raw pages|articles|rejections) +(\d+)", out, re.M))
    assert printed == {
        "pages fetched": str(last["fetched"]),
        "raw pages": str(last["emitted"]),
        "articles": str(last["articles"]),
        "rejections": str(last["rejections"]),
    }
    assert last["outcome"] == "finished" and site["site"] == "qinghe_demo"

    # the summary's own advice reads the demo's articles back
    assert "read it with    newsflow consume articles --demo --pretty\n" in out
    assert len(newsflow(tmp_path, "consume", "articles", "--demo").splitlines()) == want["articles"]
