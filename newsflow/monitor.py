"""What each site's crawls did, read back from the topics: the history behind status and the canaries.

:class:`SiteMonitor` follows ``crawl-reports``, ``articles`` and ``rejected``
(outputs name their crawl in ``ce_crawlid``) and keeps, in a small SQLite
file, one row per crawl and one per cleaned raw record. A crawl is *judged*
once its report is in and every page it emitted has its output (or ``settle``
seconds after the report, whichever comes first): its :class:`~newsflow.canary.CrawlSample`
is checked against the site's earlier crawls and any alarm is logged, kept for
status and shown on ``/metrics``.

Reading is at-least-once through a consumer group of the monitor's own (one per
state file), committed after the rows are written; outputs are stored by raw
reference and reports by request and crawl, so a record read twice counts once.
The scheduler also keeps each site's next run here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsflow.canary import Alarm, CanaryRules, CrawlSample, check, usable
from sinks.log import Consumer, Log, Message
from sinks.loop import BatchHandler, ConsumerLoop, Handled
from sinks.sqlitedb import transaction
from sinks.topics import CRAWL_REPORT_SCHEMA, CrawlOutcome, MalformedRecord, Topics

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crawls (
    crawl_id TEXT PRIMARY KEY, site TEXT NOT NULL, request_id TEXT, report TEXT,
    finished_at TEXT, judged INTEGER NOT NULL DEFAULT 0, checked INTEGER NOT NULL DEFAULT 0, alarms TEXT, sample TEXT
);
CREATE INDEX IF NOT EXISTS crawls_site ON crawls (site, finished_at);
CREATE INDEX IF NOT EXISTS crawls_request ON crawls (request_id);
CREATE TABLE IF NOT EXISTS outputs (
    raw_ref TEXT PRIMARY KEY, crawl_id TEXT NOT NULL, kind TEXT NOT NULL,
    body INTEGER NOT NULL DEFAULT 0, dated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outputs_crawl ON outputs (crawl_id);
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, next_run TEXT, alarms TEXT);
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CrawlRow:
    """One crawl as status shows it: the crawler's report and what the cleaner made of its pages."""

    crawl_id: str
    site: str
    report: CrawlOutcome | None
    articles: int
    clean_rejected: int
    judged: bool
    checked: bool  # judged against enough history (else the site's baseline is still being learnt)
    alarms: tuple[dict[str, Any], ...]

    @property
    def rejections(self) -> int:
        return self.clean_rejected + (self.report.rejections if self.report else 0)

    def to_dict(self) -> dict[str, Any]:
        report = self.report.to_dict() if self.report else {}
        return {
            "crawl_id": self.crawl_id,
            "site": self.site,
            "finished_at": report.get("finished_at"),
            "outcome": report.get("outcome"),
            "seconds": report.get("seconds"),
            "fetched": report.get("fetched", 0),
            "emitted": report.get("emitted", 0),
            "articles": self.articles,
            "rejections": self.rejections,
            "judged": self.judged,
            "checked": self.checked,
            "alarms": list(self.alarms),
        }


@dataclass
class SiteMonitor:
    """The crawl history of every site, kept current from the topics."""

    path: Path
    topics: Topics
    rules: CanaryRules = field(default_factory=CanaryRules)
    settle: float = 600.0  # seconds after a report before a crawl is judged with what has arrived
    now: Callable[[], datetime] = utc_now
    #: told the alarms (often none) of every crawl judged: the service's gauges
    on_judged: Callable[[str, list[Alarm]], None] | None = None
    #: a monitor that followed within this many seconds is live: ``status`` reads instead of catching up
    live_within: float = 30.0

    #: records read per poll
    BATCH = 500

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('group', ?)", (f"newsflow-monitor-{uuid.uuid4().hex[:12]}",)
        )

    @property
    def group(self) -> str:
        """This state file's own consumer group: its read positions live in the log."""
        return str(self.db.execute("SELECT value FROM meta WHERE name = 'group'").fetchone()[0])

    def release(self) -> None:
        """The service stops following: ``status`` catches up by itself from now on."""
        self.db.execute("DELETE FROM meta WHERE name = 'followed_at'")

    def live(self) -> bool:
        """A service is following the topics into this file right now."""
        row = self.db.execute("SELECT value FROM meta WHERE name = 'followed_at'").fetchone()
        return row is not None and time.time() - float(row[0]) < self.live_within

    @property
    def followed(self) -> list[str]:
        return [self.topics.crawl_reports, self.topics.articles, self.topics.rejected]

    def close(self) -> None:
        self.db.close()

    # -- reading the topics -------------------------------------------------------------------
    def consumer(self, log_: Log) -> Consumer:
        return log_.consumer(self.followed, group=self.group)

    def loop(self, consumer: Consumer) -> ConsumerLoop:
        """The one consumer loop with this monitor as its handler: rows written, then the offsets committed."""
        return ConsumerLoop(
            consumer,
            MonitorHandler(self),
            producer=None,
            stop=threading.Event(),
            batch_size=self.BATCH,
            poll_timeout=0.5,
            retry_backoff=0.0,
        )

    def follow(self, loop: ConsumerLoop, timeout: float = 0.5) -> int:
        """The service's loop body: one step, and a mark that this file is being kept current."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('followed_at', ?)", (str(time.time()),))
        return loop.step(timeout=timeout)

    def catch_up(self, log_: Log, timeout: float = 30.0) -> int:
        """Read everything up to the current ends (for ``status`` and the demo); returns records read."""
        ends = {(t, p): end for t in self.followed for p, end in log_.end_offsets(t).items()}
        consumer = self.consumer(log_)
        loop = self.loop(consumer)
        read = 0
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                done = {tp: 0 for tp in ends}
                for topic in self.followed:
                    done.update({(topic, p): o for p, o in log_.committed(self.group, topic).items()})
                if all(done[tp] >= end for tp, end in ends.items()):
                    break
                read += loop.step(timeout=0.2)
        finally:
            consumer.close()
        self.judge_ready()
        return read

    def observe(self, batch: Sequence[Message]) -> None:
        with transaction(self.db):
            for message in batch:
                if message.topic == self.topics.crawl_reports:
                    self._report(message)
                else:
                    self._output(message)

    def _report(self, message: Message) -> None:
        if message.header("ce_type") != CRAWL_REPORT_SCHEMA:
            return
        try:
            outcome = CrawlOutcome.from_message(message)
        except MalformedRecord as error:
            log.warning("skipped a crawl report: %s", error)
            return
        crawl_id = outcome.crawl_id or f"request-{outcome.request_id}"
        self.db.execute(
            "INSERT INTO crawls (crawl_id, site, request_id, report, finished_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (crawl_id) DO UPDATE SET request_id = excluded.request_id, report = excluded.report,"
            " finished_at = excluded.finished_at",
            (crawl_id, outcome.site, outcome.request_id, json.dumps(outcome.to_dict()), outcome.finished_at),
        )

    def _output(self, message: Message) -> None:
        crawl_id, raw_ref, site = message.header("ce_crawlid"), message.header("ce_rawref"), message.header("ce_site")
        if not crawl_id or not raw_ref or not site:
            return  # a fetch failure (the crawl report counts it) or an output from before crawl ids
        body = dated = 0
        if message.value is None:
            kind = "tombstone"
        elif message.topic == self.topics.rejected:
            kind = "rejected"
        else:
            kind = "article"
            try:
                article = json.loads(message.value)
                body, dated = len(article.get("text") or ""), int(bool(article.get("published_at")))
            except (ValueError, AttributeError):
                log.warning("%s: article is not JSON; counted without its body", message.ref)
        self.db.execute("INSERT OR IGNORE INTO crawls (crawl_id, site) VALUES (?, ?)", (crawl_id, site))
        self.db.execute(
            "INSERT OR IGNORE INTO outputs (raw_ref, crawl_id, kind, body, dated) VALUES (?, ?, ?, ?, ?)",
            (raw_ref, crawl_id, kind, body, dated),
        )

    # -- judging ------------------------------------------------------------------------------
    def judge_ready(self) -> list[Alarm]:
        """Judge every reported crawl whose outputs are all in (or whose ``settle`` time is over)."""
        raised: list[Alarm] = []
        rows = self.db.execute(
            "SELECT c.crawl_id, c.site, c.report, c.finished_at, COUNT(o.raw_ref) FROM crawls c"
            " LEFT JOIN outputs o ON o.crawl_id = c.crawl_id WHERE c.judged = 0 AND c.report IS NOT NULL"
            " GROUP BY c.crawl_id ORDER BY c.finished_at"
        ).fetchall()
        for crawl_id, site, report, finished_at, outputs in rows:
            emitted = int(json.loads(report).get("emitted", 0))
            waited = (self.now() - datetime.fromisoformat(finished_at.replace("Z", "+00:00"))).total_seconds()
            if outputs >= emitted or waited >= self.settle:
                raised += self._judge(crawl_id, site)
        return raised

    def sample(self, crawl_id: str, site: str) -> CrawlSample:
        rows = self.db.execute("SELECT kind, body, dated FROM outputs WHERE crawl_id = ?", (crawl_id,)).fetchall()
        bodies = [body for kind, body, _ in rows if kind == "article"]
        return CrawlSample(
            site=site,
            crawl_id=crawl_id,
            pages=sum(1 for kind, _, _ in rows if kind in ("article", "rejected")),
            articles=len(bodies),
            median_body=float(statistics.median(bodies)) if bodies else 0.0,
            undated=sum(1 for kind, _, dated in rows if kind == "article" and not dated),
        )

    def history(self, site: str, before: str) -> list[CrawlSample]:
        rows = self.db.execute(
            "SELECT sample FROM crawls WHERE site = ? AND judged = 1 AND sample IS NOT NULL AND finished_at < ?"
            " ORDER BY finished_at DESC LIMIT ?",
            (site, before, self.rules.history * 3),
        ).fetchall()
        return [CrawlSample(**json.loads(s)) for (s,) in reversed(rows)]

    def _judge(self, crawl_id: str, site: str) -> list[Alarm]:
        sample = self.sample(crawl_id, site)
        (finished_at,) = self.db.execute("SELECT finished_at FROM crawls WHERE crawl_id = ?", (crawl_id,)).fetchone()
        history = self.history(site, finished_at)
        checked = usable(sample, self.rules) and sum(usable(h, self.rules) for h in history) >= self.rules.min_history
        alarms = check(sample, history, self.rules)
        found = [{"check": a.check, "value": a.value, "baseline": a.baseline, "message": a.message()} for a in alarms]
        with transaction(self.db):
            self.db.execute(
                "UPDATE crawls SET judged = 1, checked = ?, sample = ?, alarms = ? WHERE crawl_id = ?",
                (int(checked), json.dumps(dataclasses.asdict(sample)), json.dumps(found), crawl_id),
            )
            self._set_site(site, "alarms", json.dumps(found))
        for alarm in alarms:
            log.warning("%s", alarm.message(), extra={"site": site, "crawl_id": crawl_id, "check": alarm.check})
        if self.on_judged is not None:
            self.on_judged(site, alarms)
        return alarms

    # -- what status and the scheduler ask --------------------------------------------------------
    def _set_site(self, site: str, column: str, value: str) -> None:
        self.db.execute(
            f"INSERT INTO sites (site, {column}) VALUES (?, ?)"
            f" ON CONFLICT (site) DO UPDATE SET {column} = excluded.{column}",
            (site, value),
        )

    def set_next_run(self, site: str, when: datetime) -> None:
        self._set_site(site, "next_run", when.isoformat(timespec="seconds"))

    def next_runs(self) -> dict[str, str]:
        return {s: n for s, n in self.db.execute("SELECT site, next_run FROM sites WHERE next_run IS NOT NULL")}

    def site_alarms(self) -> dict[str, list[dict[str, Any]]]:
        return {s: json.loads(a) for s, a in self.db.execute("SELECT site, alarms FROM sites WHERE alarms IS NOT NULL")}

    def outcome(self, request_id: str) -> CrawlOutcome | None:
        """The report that answers a crawl request, once a crawler has published it."""
        row = self.db.execute(
            "SELECT report FROM crawls WHERE request_id = ? AND report IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
            (request_id,),
        ).fetchone()
        return _outcome(row[0]) if row else None

    def crawls(self, site: str | None = None, limit: int = 1) -> list[CrawlRow]:
        """The latest ``limit`` reported crawls of each site (or of one site), newest first."""
        query = (
            "SELECT crawl_id, site, report, judged, checked, alarms,"
            " (SELECT COUNT(*) FROM outputs o WHERE o.crawl_id = c.crawl_id AND kind = 'article'),"
            " (SELECT COUNT(*) FROM outputs o WHERE o.crawl_id = c.crawl_id AND kind = 'rejected'),"
            " ROW_NUMBER() OVER (PARTITION BY site ORDER BY finished_at DESC) AS n"
            " FROM crawls c WHERE report IS NOT NULL" + (" AND site = ?" if site else "")
        )
        rows = self.db.execute(
            f"SELECT * FROM ({query}) WHERE n <= ? ORDER BY site, n", (*([site] if site else []), limit)
        ).fetchall()
        return [
            CrawlRow(
                cid,
                s,
                _outcome(report),
                articles,
                rejected,
                bool(judged),
                bool(checked),
                tuple(json.loads(alarms or "[]")),
            )
            for cid, s, report, judged, checked, alarms, articles, rejected, _ in rows
        ]

    def recent_new(self, site: str, limit: int = 4) -> list[int]:
        """Pages the site's latest crawls emitted (new or changed), oldest first: the adaptive interval's input."""
        return [row.report.emitted for row in reversed(self.crawls(site, limit)) if row.report]


class MonitorHandler(BatchHandler):
    """Stores each batch (the offsets are committed after), then judges the crawls that are ready."""

    def __init__(self, monitor: SiteMonitor) -> None:
        self.monitor = monitor

    def handle(self, batch: Sequence[Message]) -> Handled:
        if batch:
            self.monitor.observe(batch)
        self.monitor.judge_ready()
        return Handled((), batch)


def _outcome(report: str) -> CrawlOutcome:
    return CrawlOutcome.from_dict(json.loads(report))
