"""newsflow cleaner: raw page bytes in, a clean, labelled Chinese article out.

A pure library: no network, no Kafka, no SQLite, no clock.

>>> from cleaner import CleanerSettings, clean_page
>>> result = clean_page(body, url=url, headers=headers, settings=CleanerSettings())
"""

from __future__ import annotations

__version__ = "0.1.0"

from cleaner.hints import PageHints
from cleaner.pipeline import clean_page, clean_text, repair_text, warm_up
from cleaner.reasons import Reason, Reject, Stage
from cleaner.records import Article, EncodingInfo, Quality, Rejection
from cleaner.settings import CleanerSettings

__all__ = [
    "Article",
    "CleanerSettings",
    "EncodingInfo",
    "PageHints",
    "Quality",
    "Reason",
    "Reject",
    "Rejection",
    "Stage",
    "clean_page",
    "clean_text",
    "repair_text",
    "warm_up",
]
