"""Reading ``Retry-After``: seconds, an HTTP date, or nothing usable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.backoff import retry_after_seconds

NOW = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Mon, 23 Nov 2026 08:01:30 GMT", 90.0),
        ("Mon, 23 Nov 2026 07:00:00 GMT", 0.0),  # in the past: at once
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
