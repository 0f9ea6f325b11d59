"""Incremental crawl state: what each site's pages looked like when they were last emitted.

For every article URL of a site it keeps the ETag, Last-Modified, a hash of
the body, and when it was first and last seen. The crawler sends conditional
requests from it and emits a page only when it is new or its body changed.

With the embedded log the state lives in the log's own SQLite file and is
written in the same transaction as the raw record (:meth:`CrawlState.record_in`),
so a kill can never leave a page emitted but unrecorded, or recorded but not
emitted. With Kafka it lives in ``data/crawl/<site>.db`` and is written right
after the record is acknowledged; a kill between the two re-emits that one page
on the next crawl (at-least-once). Either way a restarted crawl revisits the list
pages (always fetched), skips what was emitted and fetches the rest, so it ends
with the same pages as an uninterrupted crawl.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sinks.sqlitedb import connect, transaction

STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawl_pages (
    site TEXT NOT NULL, url TEXT NOT NULL, etag TEXT, last_modified TEXT, body_sha256 TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, PRIMARY KEY (site, url));
"""


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


#: what is recorded for an emitted page: url, body version, etag, last-modified, time emitted
Entry = tuple[str, bytes, str | None, str | None, str]


@dataclass(frozen=True, slots=True)
class PageState:
    url: str
    etag: str | None
    last_modified: str | None
    body_sha256: str
    first_seen: str
    last_seen: str


class CrawlState:
    def __init__(self, path: Path, site: str) -> None:
        self.path = Path(path)
        self.site = site
        self._conn = connect(self.path)
        self._conn.executescript(STATE_SCHEMA)

    def get(self, url: str) -> PageState | None:
        row = self._conn.execute(
            "SELECT url, etag, last_modified, body_sha256, first_seen, last_seen FROM crawl_pages"
            " WHERE site = ? AND url = ?",
            (self.site, url),
        ).fetchone()
        return PageState(*row) if row else None

    def changed(self, url: str, body: bytes) -> bool:
        """True when the page is new or its body differs from what was last emitted."""
        known = self.get(url)
        return known is None or known.body_sha256 != body_hash(body)

    def record(self, entries: list[Entry], *, seen: Sequence[str] = (), now: str) -> None:
        """Remember emitted versions and seen pages (call after the raw records were acknowledged)."""
        with transaction(self._conn) as conn:
            self.record_in(conn, entries, seen=seen, now=now)

    def record_in(self, conn: sqlite3.Connection, entries: list[Entry], *, seen: Sequence[str] = (), now: str) -> None:
        """The same, inside a transaction of the caller's on a connection to this file.

        ``entries`` are (url, body version, etag, last-modified, time emitted); ``seen`` are
        pages that came back unchanged, whose last-seen time moves to ``now``.
        """
        conn.executemany(
            "INSERT INTO crawl_pages (site, url, etag, last_modified, body_sha256, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(site, url) DO UPDATE SET etag = excluded.etag,"
            " last_modified = excluded.last_modified, body_sha256 = excluded.body_sha256,"
            " last_seen = excluded.last_seen",
            [(self.site, url, etag, modified, body_hash(body), at, at) for url, body, etag, modified, at in entries],
        )
        conn.executemany(
            "UPDATE crawl_pages SET last_seen = ? WHERE site = ? AND url = ?", [(now, self.site, url) for url in seen]
        )

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM crawl_pages WHERE site = ?", (self.site,)).fetchone()
        return int(count)

    def close(self) -> None:
        self._conn.close()
