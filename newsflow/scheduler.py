"""The crawl scheduler: each site's crawl on its schedule, one at a time per site, each in a child process
(:class:`CrawlProcessLauncher`) or handed to the crawler role as a request (:class:`RequestLauncher`).

:meth:`Scheduler.tick` is the whole loop body, driven by an injected clock:
collect the children that finished (a non-zero exit is reported as a crash and
the service goes on), then start every site that is due. A site still crawling
when it is due again is skipped and logged, never run twice at once. The first
run of each site is spread by a random jitter (up to ``jitter`` of its interval
or ten minutes for cron), so a thousand sites do not start in the same second;
after a restart, the next runs kept from before (``resume``) stand instead.
``plan`` decides each next run (the schedule itself by default; the service
stretches or shortens interval schedules from what recent crawls found).
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

from crawler.schedule import next_run
from crawler.sites import SiteConfig
from sinks.log import Producer
from sinks.topics import CrawlOutcome, CrawlRequest, Topics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Child(Protocol):
    def poll(self) -> int | None: ...


class Launcher(Protocol):
    def start(self, site: SiteConfig) -> Child: ...


class CrawlProcessLauncher:
    """Each crawl is ``newsflow crawl --site ID`` in its own process: a crash stays there."""

    def __init__(self, sites_dir: Path | None = None, extra_args: Sequence[str] = ()) -> None:
        self.sites_dir = sites_dir
        self.extra_args = tuple(extra_args)

    def start(self, site: SiteConfig) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "newsflow.cli", "crawl", "--site", site.id, *self.extra_args]
        if self.sites_dir is not None:
            args += ["--sites-dir", str(self.sites_dir)]
        return subprocess.Popen(args, stdin=subprocess.DEVNULL)


def scheduled(site: SiteConfig, now: datetime) -> datetime:
    return next_run(site.schedule, now)


class Outcomes(Protocol):
    def outcome(self, request_id: str) -> CrawlOutcome | None: ...


@dataclass
class PendingCrawl:
    """A published request, running until a crawler reports it (or ``deadline`` passes)."""

    request: CrawlRequest
    outcomes: Outcomes
    clock: Clock
    deadline: datetime

    def poll(self) -> int | None:
        outcome = self.outcomes.outcome(self.request.id)
        if outcome is not None:
            return outcome.exit_code if outcome.outcome != "crashed" or outcome.exit_code else 1
        if self.clock() >= self.deadline:
            log.error(
                "no crawler reported the crawl of %s within its deadline; is a crawler running?", self.request.site
            )
            return 124
        return None


class RequestLauncher:
    """Starting a crawl is publishing a request on ``crawl-requests``; a crawler instance picks it up."""

    def __init__(
        self, producer: Producer, topics: Topics, outcomes: Outcomes, clock: Clock, timeout: timedelta
    ) -> None:
        self.producer = producer
        self.topics = topics
        self.outcomes = outcomes
        self.clock = clock
        self.timeout = timeout

    def start(self, site: SiteConfig) -> PendingCrawl:
        now = self.clock()
        request = CrawlRequest(site.start_urls[0], site.id, now.isoformat(timespec="milliseconds"))
        self.producer.send(request.to_record(self.topics.crawl_requests))
        self.producer.flush()
        return PendingCrawl(request, self.outcomes, self.clock, now + self.timeout)


@dataclass
class SiteRun:
    """What the scheduler knows of one site."""

    site: SiteConfig
    #: None: the site cannot be scheduled (its schedule gives no next run); it stays off, logged once
    next_due: datetime | None
    running: Child | None = None
    started_at: datetime | None = None
    last_exit: int | None = None
    last_finished: datetime | None = None
    runs: int = 0
    crashes: int = 0
    skipped: int = 0


@dataclass
class Scheduler:
    sites: Sequence[SiteConfig]
    clock: Clock
    launcher: Launcher
    #: share of an interval the first run is delayed by, at random (ServiceSettings.jitter has the default)
    jitter: float
    rng: random.Random = field(default_factory=random.Random)
    plan: Callable[[SiteConfig, datetime], datetime] = scheduled
    resume: Mapping[str, datetime] = field(default_factory=dict)
    on_skip: Callable[[SiteConfig], None] | None = None

    def __post_init__(self) -> None:
        now = self.clock()
        self.state = {
            site.id: SiteRun(site, self.resume.get(site.id) or self.guarded(site, partial(self.first_run, site, now)))
            for site in self.sites
        }

    def first_run(self, site: SiteConfig, now: datetime) -> datetime:
        period = site.schedule.interval_minutes or 10
        return now + timedelta(minutes=period * self.jitter * self.rng.random())

    @staticmethod
    def guarded(site: SiteConfig, when: Callable[[], datetime]) -> datetime | None:
        """A site whose next run cannot be computed is switched off, not the scheduler (nor the sites after it)."""
        try:
            return when()
        except (ValueError, OverflowError) as error:
            log.error("site %s cannot be scheduled (%s): it is not crawled until its file is fixed", site.id, error)
            return None

    def tick(self) -> list[str]:
        """Reap finished crawls, start the due ones; returns the ids started."""
        now = self.clock()
        for run in self.state.values():
            self.reap(run, now)
        started = []
        for run in self.state.values():
            if run.next_due is None or now < run.next_due:
                continue
            run.next_due = self.guarded(run.site, partial(self.plan, run.site, now))
            if run.running is not None:
                run.skipped += 1
                if self.on_skip is not None:
                    self.on_skip(run.site)
                log.warning(
                    "site %s is due but its last crawl (started %s) still runs: skipped", run.site.id, run.started_at
                )
                continue
            run.running, run.started_at = self.launcher.start(run.site), now
            run.runs += 1
            started.append(run.site.id)
            log.info("crawl of %s started; next due %s", run.site.id, run.next_due and run.next_due.isoformat())
        return started

    def reap(self, run: SiteRun, now: datetime) -> None:
        if run.running is None:
            return
        code = run.running.poll()
        if code is None:
            return
        run.running, run.last_exit, run.last_finished = None, code, now
        if code != 0:
            run.crashes += 1
            log.error("crawl of %s ended with exit code %s; the service goes on", run.site.id, code)

    def busy(self) -> list[str]:
        return [site_id for site_id, run in self.state.items() if run.running is not None]
