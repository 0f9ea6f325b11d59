"""The crawler role: crawl requests from ``crawl-requests``, as one consumer group, in child processes.

Each instance reads its share of the request partitions and keeps up to
``max_crawls`` crawl children running, each crawling up to ``sites_per_crawl``
sites at once (one Scrapy process holds many sites cheaply; per-site politeness
still applies). When a child ends, its summary becomes one report per request on
``crawl-reports``; then the request offsets are committed, contiguously per
partition. It runs the one consumer loop (:class:`~sinks.loop.ConsumerLoop`)::

    poll new requests ─► reap finished children, take the requests, start children
        ─► publish the reports ─► flush: acknowledged, the spool empty ─► commit the
        requests done below the first one still open

A request is committed only after its report is acknowledged (not while it waits
in the spool), so an instance that dies mid-crawl leaves its requests uncommitted
and the group hands them to another instance, which crawls them again (the crawl
state makes that cheap). When the group moves a partition elsewhere, its requests
are that instance's: one still crawling here is not reported here, and no commit
names the partition, so the partitions still owned keep committing.
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
from sinks.log import Consumer, Log, Message, Producer, TopicPartition
from sinks.loop import BatchHandler, ConsumerLoop, Handled, Output
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
    #: its partition moved to another instance while it ran: that one crawls and reports it
    abandoned: bool = False


@dataclass
class Running:
    requests: list[Taken]
    process: subprocess.Popen[bytes]
    report: Path
    started_at: str
    began: float = field(default_factory=time.monotonic)
    overdue: bool = False  # killed at the deadline


@dataclass
class CrawlerRole(BatchHandler):
    """The crawler role as a :class:`~sinks.loop.BatchHandler`: a request is done when its report is out."""

    log: Log
    producer: Producer
    topics: Topics
    sites: Mapping[str, SiteConfig]
    children: CrawlChildren
    stop: threading.Event
    group: str
    max_crawls: int
    sites_per_crawl: int
    poll_timeout: float
    retry_backoff: float
    #: seconds a crawl child may run; then it is killed and its requests reported timed_out
    crawl_deadline: float
    on_outcome: Callable[[CrawlOutcome], None] | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    #: requests read per poll
    BATCH = 50

    def __post_init__(self) -> None:
        self.waiting: list[Taken] = []
        self.running: list[Running] = []
        self._outputs: list[Output] = []
        self._done: list[Message] = []
        self._loop: ConsumerLoop | None = None

    def loop(self, consumer: Consumer) -> ConsumerLoop:
        """The one consumer loop over ``consumer``, with this role as its handler."""
        if self._loop is None or self._loop.consumer is not consumer:
            self._loop = ConsumerLoop(
                consumer,
                self,
                producer=self.producer,
                stop=self.stop,
                batch_size=self.BATCH,
                poll_timeout=self.poll_timeout,
                retry_backoff=self.retry_backoff,
            )
        return self._loop

    def run(self) -> None:
        consumer = self.log.consumer([self.topics.crawl_requests], group=self.group)
        try:
            self.loop(consumer).run()  # on stop: finish() ends the crawls, reports and commits them
        finally:
            self.end_children()  # after an error: no crawl left running that nobody will report
            consumer.close()

    def step(self, consumer: Consumer) -> None:
        self.loop(consumer).step()

    # -- the loop's handler ---------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> Handled:
        self.reap()
        self.take(batch)
        self.launch()
        return self._handed()

    def finish(self) -> Handled:
        """Stop: running crawls get SIGTERM (Scrapy closes them cleanly), are reaped and reported."""
        self.end_children()
        self.reap()
        return self._handed()

    def _handed(self) -> Handled:
        handled = Handled(self._outputs, self._done)
        self._outputs, self._done = [], []
        return handled

    def assigned(self, partitions: set[TopicPartition]) -> None:
        log.info("this crawler now reads %d partition(s) of crawl requests", len(partitions))

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Requests of partitions now read by another instance are its to crawl and report."""
        moved = [t for t in self.waiting if (t.message.topic, t.message.partition) in partitions]
        self.waiting = [t for t in self.waiting if t not in moved]
        for run in self.running:
            for t in run.requests:
                if (t.message.topic, t.message.partition) in partitions:
                    t.abandoned = True
                    moved.append(t)
        if moved:
            log.info("%d request(s) moved to another crawler; it crawls and reports them", len(moved))

    # -- requests in ----------------------------------------------------------------------------
    def take(self, batch: Sequence[Message]) -> None:
        for message in batch:
            taken = Taken(message, self.parse(message))
            if taken.request is None:
                self._done.append(message)
            else:
                self.waiting.append(taken)

    def parse(self, message: Message) -> CrawlRequest | None:
        try:
            return CrawlRequest.from_dict(json.loads(message.value or b""))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.error("%s is not a crawl request (%s): skipped", message.ref, error)
            return None

    # -- crawls ---------------------------------------------------------------------------------
    def launch(self) -> None:
        busy = {t.request.site for run in self.running for t in run.requests if t.request}
        for t in [t for t in self.waiting if t.request and t.request.site not in self.sites]:
            self.waiting.remove(t)
            self.finish_request(t, self.unknown_site(t.request))  # type: ignore[arg-type]
        while len(self.running) < self.max_crawls:
            chosen: list[Taken] = []
            for t in self.waiting:
                assert t.request is not None
                if t.request.site not in busy and len(chosen) < self.sites_per_crawl:
                    chosen.append(t)
                    busy.add(t.request.site)
            if not chosen:
                return
            self.waiting = [t for t in self.waiting if t not in chosen]
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
                if t.request is not None and not t.abandoned:
                    self.finish_request(t, self.outcome(t.request, run, code, summaries.get(t.request.site)))

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

    def finish_request(self, taken: Taken, outcome: CrawlOutcome) -> None:
        """The request's report goes out; the request is done (committed) once the report is acknowledged."""
        self._outputs.append((outcome.to_record(self.topics.crawl_reports), None))
        self._done.append(taken.message)
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
