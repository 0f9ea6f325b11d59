"""``newsflow demo`` end to end, as a newcomer runs it: a fresh folder, no Kafka, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from newsflow.demo import demo_root
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(120)


def expected_summary() -> dict[str, object]:
    """What the demo must report, derived from the demo site's manifest."""
    manifest = json.loads((demo_root() / "manifest.json").read_text(encoding="utf-8"))
    kinds = Counter(entry["kind"] for entry in manifest.values())
    raw = kinds["article"] + kinds["continuation"] + kinds["attachment"] + kinds["missing"]
    too_short = sum(1 for e in manifest.values() if (e.get("expected") or {}).get("rejected"))
    reposts = sum(1 for e in manifest.values() if e.get("duplicate_of"))
    return {
        "raw pages": raw,
        "articles": kinds["article"] + kinds["continuation"] - too_short,
        "reposts": reposts,
        "rejections": {
            "decode.binary": kinds["attachment"],
            "fetch.gone": kinds["missing"],
            "quality.too_short": too_short,
        },
    }


def test_demo_crawls_cleans_and_summarises(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "demo"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    want = expected_summary()
    out = done.stdout
    assert f"raw pages       {want['raw pages']}\n" in out
    assert f"articles        {want['articles']}  ({want['reposts']} marked as reposts)" in out
    rejections = want["rejections"]
    assert isinstance(rejections, dict)
    assert f"rejections      {sum(rejections.values())}\n" in out
    for reason, count in rejections.items():
        assert f"  {reason:<26}{count}\n" in out
    assert (tmp_path / "data" / "demo" / "newsflow.db").exists()
    sample = json.loads(out[out.index("{") :])
    assert sample["site"] == "qinghe_demo" and sample["region"] == "河北省/清河市" and sample["title"]
