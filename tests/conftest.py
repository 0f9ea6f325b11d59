"""Shared test helpers: where the seeds live, default settings; char_f1 is the benchmarks' metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import char_f1
from cleaner import CleanerSettings
from sinks.settings import StreamSettings
from sinks.sqlite import SqliteLog

ROOT = Path(__file__).resolve().parent.parent
# the issue's own copy beside the repository wins; the vendored copy serves clean clones
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
SEEDS = SHARED_SEEDS if (SHARED_SEEDS / "expected").is_dir() else ROOT / "tests" / "data" / "seeds"
CMS_FIXTURES = ROOT / "tests" / "fixtures" / "cms"
__all__ = ["CMS_FIXTURES", "ROOT", "SEEDS", "char_f1", "embedded_log"]
DEFAULT_STREAMS = StreamSettings()


def embedded_log(path: Path, settings: StreamSettings = DEFAULT_STREAMS) -> SqliteLog:
    """The embedded log in ``path`` with the client settings of ``settings`` (the defaults unless given)."""
    return SqliteLog(
        path,
        max_message_bytes=settings.max_message_bytes,
        session_timeout_ms=settings.session_timeout_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
    )


@pytest.fixture(scope="session")
def settings() -> CleanerSettings:
    return CleanerSettings()
