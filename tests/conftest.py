"""Shared test helpers: where the seeds live, character-level F1, default settings."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cleaner import CleanerSettings

ROOT = Path(__file__).resolve().parent.parent
# the issue's own copy beside the repository wins; the vendored copy serves clean clones
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
SEEDS = SHARED_SEEDS if (SHARED_SEEDS / "expected").is_dir() else ROOT / "tests" / "data" / "seeds"
CMS_FIXTURES = ROOT / "tests" / "fixtures" / "cms"


def char_f1(got: str, expected: str) -> float:
    """Character-level F1 (multiset overlap), ignoring whitespace."""
    a = Counter(c for c in got if not c.isspace())
    b = Counter(c for c in expected if not c.isspace())
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="session")
def settings() -> CleanerSettings:
    return CleanerSettings()
