"""The crawler role: crawl requests from ``crawl-requests``, as one consumer group, in child processes.

Each instance reads its share of the request partitions and keeps up to
``max_crawls`` crawl children running, each crawling up to ``sites_per_crawl``
sites at once (one Scrapy process holds many sites cheaply; per-site politeness
still applies). When a child ends, its summary becomes one report per request on
``crawl-reports``; then the request offsets are committed, contiguously per
partition. The loop, with its commit point::

    reap finished children ─► publish their reports ─► flush ─► commit the requests
        done below the first one still open ─► poll new requests ─► start children

A request is committed only after its report is acknowledged, so an instance
that dies mid-crawl leaves its requests uncommitted and the group hands them to
another instance, which crawls them again (the crawl state makes that cheap).
Requests of a site already crawling here wait for that crawl to end. Children die
with the thread that started them (``PR_SET_PDEATHSIG``), so a killed instance leaves no crawl behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from crawler.run import utc_iso
from crawler.sites import SiteConfig
from sinks.backends import open_producer, topics_for
from sinks.log import CommitFailed, Consumer, Log, Message, Producer, TopicPartition
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, CrawlRequest, Outcome, Topics

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):  # not Linux: children outlive a killed parent
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class CrawlChildren:
    """Starts ``newsflow crawl --site … --report FILE`` children; the settings reach them by environment."""

    def __init__(
        self,
        sites_dir: Path | None,
        workdir: Path,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.sites_dir = sites_dir
        self.workdir = workdir
        self.extra_args = tuple(extra_args)
        self.env = {**os.environ, **env} if env else None  # settings the children get on top of ours

    def start(self, site_ids: Sequence[str]) -> tuple[subprocess.Popen[bytes], Path]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="crawl-", suffix=".json", dir=self.workdir)
        os.close(fd)
        report = Path(name)
        args = [sys.executable, "-m", "newsflow.cli", "crawl", "--quiet", "--report", str(report), *self.extra_args]
        for site_id in site_ids:
            args += ["--site", site_id]
        if self.sites_dir is not None:
            args += ["--sites-dir", str(self.sites_dir)]
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=self.env, preexec_fn=die_with_parent
        )
        return process, report


def publish_reports(log_: Log, streams: StreamSettings, reports: Sequence[CrawlOutcome], *, source: str) -> None:
    """Crawls run outside the crawler role (a one-off ``crawl``, the demo) report themselves as it would."""
    topic = topics_for(streams).crawl_reports
    producer = open_producer(log_, streams)
    try:
        for report in reports:
            claimed = replace(report, request_id=f"{source}-{report.crawl_id}", crawler=socket.gethostname())
            producer.send(claimed.to_record(topic))
        producer.flush()
    finally:
        producer.close()


@dataclass
class Taken:
    """A request this instance read and has not committed yet."""

    message: Message
    request: CrawlRequest | None  # None: the record is not a crawl request
    done: bool = False


@dataclass
class Running:
    requests: list[Taken]
    process: subprocess.Popen[bytes]
    report: Path
    started_at: str
    began: float = field(default_factory=time.monotonic)
    overdue: bool = False  # killed at the deadline


@dataclass
class CrawlerRole:
    log: Log
    producer: Producer
    topics: Topics
    sites: Mapping[str, SiteConfig]
    children: CrawlChildren
    stop: threading.Event
    #: seconds a crawl child may run; then it is killed and its requests reported timed_out
    crawl_deadline: float = field(kw_only=True)
    group: str = "newsflow-crawlers"
    max_crawls: int = 2
    sites_per_crawl: int = 25
    poll_timeout: float = 0.5
    on_outcome: Callable[[CrawlOutcome], None] | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    def __post_init__(self) -> None:
        self.taken: dict[TopicPartition, dict[int, Taken]] = {}
        self.running: list[Running] = []
        self.committed: dict[TopicPartition, int] = {}
        self.unflushed = 0
        self.assignment: set[TopicPartition] = set()

    def run(self) -> None:
        consumer = self.log.consumer([self.topics.crawl_requests], group=self.group)
        try:
            while not self.stop.is_set():
                self.step(consumer)
            self.shut_down(consumer)
        finally:
            self.end_children()  # after an error: no crawl left running that nobody will report
            consumer.close()

    def step(self, consumer: Consumer) -> None:
        self.reap()
        self.take(consumer.poll(self.poll_timeout, 50), consumer.assignment())
        self.launch()
        if self.unflushed:  # the scheduler is waiting for these reports
            self.producer.flush()
            self.unflushed = 0
        self.commit(consumer)

    # -- requests in ----------------------------------------------------------------------------
    def take(self, batch: Sequence[Message], assignment: set[TopicPartition]) -> None:
        if assignment != self.assignment:
            self.assignment = set(assignment)
            log.info("this crawler now reads %d partition(s) of crawl requests", len(assignment))
        for tp in [tp for tp in self.taken if tp not in assignment]:  # moved to another instance
            waiting = [t for t in self.taken[tp].values() if not t.done and not self.is_running(t)]
            for t in waiting:
                del self.taken[tp][t.message.offset]
            if waiting:
                log.info("%d request(s) of %s/%s moved to another crawler", len(waiting), *tp)
        for message in batch:
            tp = (message.topic, message.partition)
            known = self.taken.setdefault(tp, {})
            if message.offset in known or message.offset < self.committed.get(tp, 0):
                continue  # read again after a rebalance
            known[message.offset] = Taken(message, self.parse(message))

    def parse(self, message: Message) -> CrawlRequest | None:
        try:
            return CrawlRequest.from_dict(json.loads(message.value or b""))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.error("%s is not a crawl request (%s): skipped", message.ref, error)
            return None

    def is_running(self, taken: Taken) -> bool:
        return any(taken in run.requests for run in self.running)

    # -- crawls ---------------------------------------------------------------------------------
    def launch(self) -> None:
        busy = {t.request.site for run in self.running for t in run.requests if t.request}
        while len(self.running) < self.max_crawls:
            chosen: list[Taken] = []
            for tp in sorted(self.taken):
                for t in self.taken[tp].values():
                    if t.done or self.is_running(t) or t in chosen:
                        continue
                    if t.request is None:
                        t.done = True
                    elif t.request.site not in self.sites:
                        self.finish(t, self.unknown_site(t.request))
                    elif t.request.site not in busy and len(chosen) < self.sites_per_crawl:
                        chosen.append(t)
                        busy.add(t.request.site)
            if not chosen:
                return
            process, report = self.children.start([t.request.site for t in chosen if t.request])
            self.running.append(Running(chosen, process, report, utc_iso()))
            log.info("crawl started for %s", ", ".join(t.request.site for t in chosen if t.request))

    def unknown_site(self, request: CrawlRequest) -> CrawlOutcome:
        log.error("crawl request for unknown site %s: no site config here", request.site)
        now = utc_iso()
        return CrawlOutcome(request.site, request.id, now, now, Outcome.FAILED, 2, finish_reason="unknown site")

    def end_overdue(self) -> None:
        """A child past its deadline is stuck (it closes itself before, see ``crawl_timeout``): killed."""
        now = time.monotonic()
        for run in self.running:
            if not run.overdue and now - run.began > self.crawl_deadline and run.process.poll() is None:
                sites = ", ".join(t.request.site for t in run.requests if t.request)
                log.error("crawl of %s passed its deadline of %.0f s: killed", sites, self.crawl_deadline)
                run.process.kill()
                run.process.wait()
                run.overdue = True

    def reap(self) -> None:
        self.end_overdue()
        for run in [r for r in self.running if r.process.poll() is not None]:
            self.running.remove(run)
            code = int(run.process.returncode)
            summaries = self.read_report(run.report)
            run.report.unlink(missing_ok=True)
            for t in run.requests:
                if t.request is not None:
                    self.finish(t, self.outcome(t.request, run, code, summaries.get(t.request.site)))

    def read_report(self, path: Path) -> dict[str, CrawlOutcome]:
        try:
            outcomes = [CrawlOutcome.from_dict(s) for s in json.loads(path.read_text(encoding="utf-8") or "[]")]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        return {outcome.site: outcome for outcome in outcomes}

    def outcome(self, request: CrawlRequest, run: Running, code: int, summary: CrawlOutcome | None) -> CrawlOutcome:
        """The child's own outcome for the site, claimed by the request; without one, the child crashed."""
        if summary is None:
            ended = Outcome.TIMED_OUT if run.overdue else Outcome.CRASHED
            if not run.overdue:
                log.error("crawl of %s ended with exit code %s and no report", request.site, code)
            return CrawlOutcome(request.site, request.id, run.started_at, utc_iso(), ended, code, crawler=self.name)
        return replace(summary, request_id=request.id, exit_code=code, crawler=self.name)

    def finish(self, taken: Taken, outcome: CrawlOutcome) -> None:
        self.producer.send(outcome.to_record(self.topics.crawl_reports))
        self.unflushed += 1
        taken.done = True
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        log.info(
            "crawl of %s %s: %d fetched, %d new or changed",
            outcome.site,
            outcome.outcome,
            outcome.fetched,
            outcome.emitted,
            extra={"site": outcome.site, "crawl_id": outcome.crawl_id, "seconds": outcome.seconds},
        )

    # -- commits --------------------------------------------------------------------------------
    def commit(self, consumer: Consumer) -> None:
        """Commit, per partition, up to the first request not yet done (after its reports are flushed)."""
        offsets: dict[TopicPartition, int] = {}
        for tp, known in self.taken.items():
            upto = self.committed.get(tp, 0)
            for offset in sorted(known):
                if not known[offset].done:
                    break
                upto = offset + 1
            if upto > self.committed.get(tp, 0):
                offsets[tp] = upto
        if not offsets:
            return
        try:
            consumer.commit(offsets)
        except CommitFailed as error:
            log.warning("%s", error)
            return
        for tp, upto in offsets.items():
            self.committed[tp] = upto
            for offset in [o for o in self.taken[tp] if o < upto]:
                del self.taken[tp][offset]

    def shut_down(self, consumer: Consumer) -> None:
        """Stop: running crawls get SIGTERM (Scrapy closes them cleanly), are reaped, reported and committed."""
        self.end_children()
        self.reap()
        self.producer.flush()
        self.commit(consumer)

    def end_children(self, grace: float = 60.0) -> None:
        for run in self.running:
            if run.process.poll() is None:
                run.process.send_signal(signal.SIGTERM)
        for run in self.running:
            try:
                run.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()
