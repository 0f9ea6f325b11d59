"""SQLite files the way every part of newsflow opens them: WAL, explicit transactions, headers as JSON.

The embedded log, the spool, the near-duplicate index, the crawl state and the
site monitor each keep one file; these helpers are what they share.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sinks.log import Headers


def connect(path: Path, *, timeout: float = 30.0, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, fully synchronous by default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: one writer at a time, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def pack_headers(headers: Headers) -> str:
    return json.dumps([[k, v.decode("latin-1")] for k, v in headers], ensure_ascii=False)


def unpack_headers(text: str) -> Headers:
    return tuple((k, v.encode("latin-1")) for k, v in json.loads(text))


def reclaim(conn: sqlite3.Connection) -> None:
    """Give the pages of deleted rows back to the file system, and empty the WAL.

    A file made before incremental vacuum was switched on is vacuumed once (that
    switches it on); after that each call frees only the pages that became free.
    """
    (mode,) = conn.execute("PRAGMA auto_vacuum").fetchone()
    if mode != 2:  # 2: INCREMENTAL
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    else:
        conn.execute("PRAGMA incremental_vacuum")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
