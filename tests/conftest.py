"""Shared test helpers: where the seeds live, default settings; char_f1 is the benchmarks' metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import char_f1
from cleaner import CleanerSettings

ROOT = Path(__file__).resolve().parent.parent
# the issue's own copy beside the repository wins; the vendored copy serves clean clones
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
SEEDS = SHARED_SEEDS if (SHARED_SEEDS / "expected").is_dir() else ROOT / "tests" / "data" / "seeds"
CMS_FIXTURES = ROOT / "tests" / "fixtures" / "cms"
__all__ = ["CMS_FIXTURES", "ROOT", "SEEDS", "char_f1"]


@pytest.fixture(scope="session")
def settings() -> CleanerSettings:
    return CleanerSettings()
