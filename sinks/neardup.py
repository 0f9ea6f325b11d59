"""The persistent near-duplicate index: which published article a repost repeats.

Every article's 64-bit SimHash (``cleaner.identity.simhash``, character
4-grams) is stored with its four 16-bit bands. Two hashes at most 3 bits apart
share at least one band exactly (pigeonhole), so a lookup reads only the rows
that match a band and checks the Hamming distance. A match marks the new article
``duplicate_of`` the cluster's first article; nothing is dropped. Looking up an
article that is already in the index (a replay, a redelivery) gives the same
answer as the first time, because an article never matches itself and clusters
keep their first member.

The index also remembers which pages were published, so a page that later
answers 404/410 can be retracted with a tombstone (and which were retracted, so
asking twice gets the same answer). It is one SQLite file, shared
safely by the worker processes on a machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sinks.sqlitedb import connect, transaction

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, simhash INTEGER NOT NULL,
    b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL, b3 INTEGER NOT NULL,
    cluster TEXT NOT NULL, site TEXT);
CREATE INDEX IF NOT EXISTS by_b0 ON articles (b0);
CREATE INDEX IF NOT EXISTS by_b1 ON articles (b1);
CREATE INDEX IF NOT EXISTS by_b2 ON articles (b2);
CREATE INDEX IF NOT EXISTS by_b3 ON articles (b3);
CREATE TABLE IF NOT EXISTS retracted (id TEXT PRIMARY KEY) WITHOUT ROWID;
"""


def bands(value: int) -> tuple[int, int, int, int]:
    return (value & 0xFFFF, (value >> 16) & 0xFFFF, (value >> 32) & 0xFFFF, (value >> 48) & 0xFFFF)


def to_signed(value: int) -> int:
    """SQLite integers are signed 64-bit."""
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True, slots=True)
class Match:
    duplicate_of: str | None  # the cluster's first article, or None when this one is new
    distance: int | None


class NearDupIndex:
    def __init__(self, path: Path, *, max_distance: int) -> None:
        if not 0 <= max_distance <= 3:
            raise ValueError("max_distance must be 0..3: four 16-bit bands find at most 3 differing bits")
        self.path = Path(path)
        self.max_distance = max_distance
        # NORMAL: a power cut may forget the last few entries (a repost then goes unmarked once),
        # never corrupt the file; FULL would cost an fsync per article
        self._conn = connect(self.path, synchronous="NORMAL")
        self._conn.executescript(INDEX_SCHEMA)

    def add(self, article_id: str, simhash_hex: str, *, site: str | None = None) -> Match:
        """Record the article (once) and say which earlier article it repeats, if any."""
        value = int(simhash_hex, 16)
        parts = bands(value)
        with transaction(self._conn) as conn:
            row = conn.execute("SELECT seq FROM articles WHERE id = ?", (article_id,)).fetchone()
            limit = row[0] if row else None
            candidates = conn.execute(
                "SELECT seq, simhash, cluster FROM articles WHERE (b0 = ? OR b1 = ? OR b2 = ? OR b3 = ?) AND id != ?"
                " ORDER BY seq",
                (*parts, article_id),
            ).fetchall()
            best: tuple[int, str] | None = None
            for seq, other, cluster in candidates:
                if limit is not None and seq > limit:
                    break  # only articles indexed before this one can be what it repeats
                distance = (value ^ (other & 0xFFFFFFFFFFFFFFFF)).bit_count()
                if distance <= self.max_distance:
                    best = (distance, cluster)
                    break
            if row is None:
                conn.execute("DELETE FROM retracted WHERE id = ?", (article_id,))  # published again
                cluster = best[1] if best else article_id
                conn.execute(
                    "INSERT INTO articles (id, simhash, b0, b1, b2, b3, cluster, site) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (article_id, to_signed(value), *parts, cluster, site),
                )
        return Match(best[1], best[0]) if best else Match(None, None)

    def retract(self, article_id: str) -> bool:
        """Mark a published article as retracted; ``True`` if it had been published.

        Idempotent: the output of a retraction may be delivered again (the worker crashed
        before its commit), and asking again must again say "published", so the
        article leaves the index for good but its id is kept in ``retracted``.
        """
        with transaction(self._conn) as conn:
            removed = conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount > 0
            if removed:
                conn.execute("INSERT OR IGNORE INTO retracted (id) VALUES (?)", (article_id,))
                return True
            return conn.execute("SELECT 1 FROM retracted WHERE id = ?", (article_id,)).fetchone() is not None

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM articles").fetchone()
        return int(count)

    def close(self) -> None:
        self._conn.close()
