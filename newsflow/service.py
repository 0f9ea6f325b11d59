"""``newsflow run``: the long-running service, one thread per role, supervised, with /metrics and /healthz.

Roles (any mix in one process; all three by default, on the embedded log):

- **scheduler**: publishes a crawl request per site when it is due (cron or
  interval, jittered, adaptive), never while that site's last request is open;
  follows the crawl reports and outputs into the state file (history, canaries,
  next runs) that ``newsflow status`` reads. Run exactly one.
- **crawler**: crawls the requests in child processes, as one consumer group
  (:mod:`newsflow.crawler_role`). Run as many as the sites need.
- **cleaner**: a cleaning worker on ``raw`` (:mod:`sinks.worker`). Run one per core.

A role that raises is logged and restarted after a pause; ``/healthz`` says
which roles run. SIGTERM/SIGINT stop every role at its next commit point and
the process exits 0.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cleaner import CleanerSettings
from crawler.schedule import CHINA, next_run
from crawler.settings import CrawlerSettings, ResolvedCrawl
from crawler.sites import SiteConfig
from newsflow.canary import adaptive_interval
from newsflow.crawler_role import CrawlChildren, CrawlerRole
from newsflow.metrics import LagCollector, Metrics, MetricsServer
from newsflow.monitor import SiteMonitor
from newsflow.scheduler import RequestLauncher, Scheduler, SiteRun
from newsflow.settings import ServiceSettings
from sinks.backends import await_topics, cleaning_worker, open_log, open_producer
from sinks.log import Log, Producer
from sinks.settings import StreamSettings
from sinks.topics import Topics

log = logging.getLogger(__name__)

RESTART_PAUSE = 5.0
CHILD_SHARE_OF_DEADLINE = 0.9  # of crawl_timeout_minutes: a crawl child's own limit


def china_now() -> datetime:
    return datetime.now(CHINA)


def in_words(seconds: float) -> str:
    """``now``, ``in 40 s``, ``in 29 min``, ``in 2 h 05 min``."""
    if seconds < 1:
        return "now"
    if seconds < 60:
        return f"in {seconds:.0f} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"in {hours} h {minutes:02d} min" if hours else f"in {minutes} min"


def announce_next(runs: Mapping[str, SiteRun], now: datetime) -> None:
    """Say when the first crawl is due, so that a service waiting for it is not taken for a stuck one."""
    due = {site_id: run.next_due for site_id, run in runs.items() if run.next_due is not None}
    if not due:
        return
    site_id, when = min(due.items(), key=lambda item: item[1])
    log.info(
        "next crawl: %s at %s (%s); %d site(s) scheduled, `newsflow status` shows every next run",
        site_id,
        when.isoformat(timespec="seconds"),
        in_words((when - now).total_seconds()),
        len(due),
        extra={"site": site_id, "next_run": when.isoformat(timespec="seconds")},
    )


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the roles need, resolved once by the command."""

    service: ServiceSettings
    streams: StreamSettings
    cleaner: CleanerSettings
    sites: tuple[SiteConfig, ...]
    #: what each ``newsflow crawl`` child crawls with, handed over as one resolved file
    crawler: CrawlerSettings
    sites_dir: Path | None = None


@dataclass
class RoleThread:
    """Runs a role's body until ``stop``; an exception is logged and the body restarted after a pause."""

    name: str
    body: Callable[[threading.Event], None]
    stop: threading.Event
    state: str = "starting"
    restarts: int = 0
    last_error: str | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.loop, name=self.name, daemon=True)

    def loop(self) -> None:
        while not self.stop.is_set():
            self.state = "running"
            try:
                self.body(self.stop)
            except Exception as error:  # a role must not take the others down
                self.restarts += 1
                self.state, self.last_error = "restarting", f"{type(error).__name__}: {error}"
                log.exception("role %s failed; restarting in %.0f s", self.name, RESTART_PAUSE)
                self.stop.wait(RESTART_PAUSE)
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error}


@contextmanager
def opened(streams: StreamSettings) -> Iterator[tuple[Log, Producer]]:
    log_ = open_log(streams)
    producer = open_producer(log_, streams)
    try:
        yield log_, producer
    finally:
        try:
            producer.close()
        finally:
            log_.close()


def planner(cfg: ServiceConfig, monitor: SiteMonitor) -> Callable[[SiteConfig, datetime], datetime]:
    """Interval schedules stretch or shrink with what recent crawls found; cron schedules stand."""

    def plan(site: SiteConfig, now: datetime) -> datetime:
        minutes = site.schedule.interval_minutes
        if cfg.service.adaptive and minutes:
            return now + adaptive_interval(timedelta(minutes=minutes), monitor.recent_new(site.id))
        return next_run(site.schedule, now)

    return plan


@dataclass
class Service:
    cfg: ServiceConfig
    stop: threading.Event
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        self.topics = Topics(self.cfg.streams.topic_prefix)
        bodies = {"scheduler": self.scheduler, "crawler": self.crawler, "cleaner": self.cleaner}
        self.roles = [RoleThread(name, bodies[name], self.stop) for name in self.cfg.service.role_list()]
        self.server: MetricsServer | None = None

    # -- the roles ------------------------------------------------------------------------------
    def scheduler(self, stop: threading.Event) -> None:
        cfg = self.cfg
        state = Path(cfg.service.state_path)
        monitor = SiteMonitor(
            state, self.topics, settle=cfg.service.settle_seconds, on_judged=self.metrics.observe_judged
        )
        with opened(cfg.streams) as (log_, producer):
            consumer = monitor.consumer(log_)
            loop = monitor.loop(consumer)
            try:
                timeout = timedelta(minutes=cfg.service.crawl_timeout_minutes)
                resume = {site: datetime.fromisoformat(when) for site, when in monitor.next_runs().items()}
                scheduler = Scheduler(
                    cfg.sites,
                    clock=china_now,
                    launcher=RequestLauncher(producer, self.topics, monitor, china_now, timeout),
                    jitter=cfg.service.jitter,
                    plan=planner(cfg, monitor),
                    resume=resume,
                    on_skip=lambda site: self.metrics.skipped.labels(site.id).inc(),
                )
                for site_id, run in scheduler.state.items():
                    if run.next_due is not None:
                        monitor.set_next_run(site_id, run.next_due)
                announce_next(scheduler.state, china_now())
                while not stop.is_set():
                    monitor.follow(loop, 1.0)  # a failed commit is read again; rows are stored idempotently
                    for site_id in scheduler.tick():
                        self.metrics.requests.labels(site_id).inc()
                        if (due := scheduler.state[site_id].next_due) is not None:
                            monitor.set_next_run(site_id, due)
            finally:
                consumer.close()
                monitor.release()
                monitor.close()

    def crawler(self, stop: threading.Event) -> None:
        cfg = self.cfg
        workdir = Path(cfg.service.state_path).parent / "reports"
        deadline = cfg.service.crawl_timeout_minutes * 60.0
        # a child closes itself (timed_out, with its report) before the role kills it at the deadline
        crawler = dataclasses.replace(cfg.crawler, crawl_timeout=deadline * CHILD_SHARE_OF_DEADLINE)
        workdir.mkdir(parents=True, exist_ok=True)
        settings_file = workdir / "crawl-settings.json"
        settings_file.write_text(ResolvedCrawl(crawler, cfg.streams).to_json(), encoding="utf-8")
        children = CrawlChildren(cfg.sites_dir, workdir, ("--settings-file", str(settings_file)))
        with opened(cfg.streams) as (log_, producer):
            CrawlerRole(
                log_,
                producer,
                self.topics,
                {site.id: site for site in cfg.sites},
                children,
                stop,
                crawl_deadline=deadline,
                group=cfg.service.crawler_group,
                max_crawls=cfg.service.max_crawls,
                sites_per_crawl=cfg.service.sites_per_crawl,
                poll_timeout=cfg.streams.poll_timeout,
                retry_backoff=cfg.streams.retry_backoff,
                on_outcome=self.metrics.observe_crawl,
            ).run()

    def cleaner(self, stop: threading.Event) -> None:
        log_ = open_log(self.cfg.streams)
        try:
            count = self.metrics.observe_outputs
            with cleaning_worker(
                log_, self.cfg.streams, self.cfg.cleaner, stop, lambda rs: count(rs, self.topics)
            ) as worker:
                worker.run()
        finally:
            log_.close()

    # -- the process ----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        roles = {role.name: role.health() for role in self.roles}
        ok = all(role.state == "running" for role in self.roles)
        return {"status": "ok" if ok else "degraded", "roles": roles}

    def lag_groups(self) -> Sequence[tuple[str, str]]:
        return [(self.cfg.streams.group, self.topics.raw), (self.cfg.service.crawler_group, self.topics.crawl_requests)]

    def start(self) -> None:
        """Declare the topics (waiting while Kafka is away), then serve /metrics and start the roles."""
        log_ = open_log(self.cfg.streams)
        try:
            if await_topics(log_, self.cfg.streams, self.stop) is None:
                return  # stopped while waiting for the broker
        finally:
            log_.close()
        settings = self.cfg.service
        if settings.metrics_port >= 0:
            lag = LagCollector(lambda: open_log(self.cfg.streams), self.lag_groups())
            self.metrics.registry.register(lag)
            self.server = MetricsServer(self.metrics, self.health, settings.metrics_host, settings.metrics_port)
            self.server.start()
        for role in self.roles:
            role.thread.start()
        log.info(
            "newsflow running: %s, %d site(s), backend %s%s",
            ", ".join(role.name for role in self.roles),
            len(self.cfg.sites),
            "embedded " + self.cfg.streams.db_path if self.cfg.streams.embedded else self.cfg.streams.bootstrap_servers,
            f", metrics on http://{settings.metrics_host}:{self.server.port}/metrics" if self.server else "",
            extra={"metrics_port": self.server.port if self.server else None},
        )

    def wait(self) -> None:
        """Until ``stop``; then every role finishes at its commit point."""
        while not self.stop.wait(0.5):
            pass
        log.info("stopping: each role finishes its current batch or crawl")
        for role in self.roles:
            role.thread.join()
        if self.server is not None:
            self.server.stop()
        log.info("stopped")
