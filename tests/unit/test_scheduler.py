"""The scheduler with an injected clock: schedules fire when due, overlaps are skipped, crashes are reported."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.schedule import CHINA, CronError, next_cron
from crawler.sites import SiteConfig
from newsflow.scheduler import RequestLauncher, Scheduler
from sinks.log import Start
from sinks.topics import CrawlOutcome, CrawlRequest, Topics
from tests.conftest import embedded_log

START = datetime(2026, 11, 23, 8, 0, tzinfo=CHINA)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class FakeChild:
    def __init__(self) -> None:
        self.code: int | None = None

    def poll(self) -> int | None:
        return self.code


class FakeLauncher:
    def __init__(self) -> None:
        self.started: list[tuple[str, FakeChild]] = []

    def start(self, site: SiteConfig) -> FakeChild:
        child = FakeChild()
        self.started.append((site.id, child))
        return child

    def finish_all(self) -> None:
        for _, child in self.started:
            child.code = 0 if child.code is None else child.code


def site(site_id: str, **schedule: object) -> SiteConfig:
    return SiteConfig(
        id=site_id,
        name=site_id,
        region={"province": "吉林省"},
        start_urls=("http://www.example.gov.cn/",),
        allowed_domains=("www.example.gov.cn",),
        article_url_patterns=(r"/t\d+\.html$",),
        schedule=schedule,
    )


def test_interval_schedules_fire_when_due_and_not_before() -> None:
    clock, launcher = Clock(), FakeLauncher()
    scheduler = Scheduler([site("a", interval_minutes=30), site("b", interval_minutes=60)], clock, launcher, jitter=0)
    assert scheduler.tick() == ["a", "b"]  # the first run of each is due at once (no jitter)
    launcher.finish_all()
    clock.advance(29)
    assert scheduler.tick() == []
    clock.advance(1)
    assert scheduler.tick() == ["a"]
    launcher.finish_all()
    clock.advance(30)
    assert sorted(scheduler.tick()) == ["a", "b"]
    assert scheduler.state["a"].runs == 3 and scheduler.state["b"].runs == 2


def test_an_overlapping_run_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock, launcher = Clock(), FakeLauncher()
    scheduler = Scheduler([site("slow", interval_minutes=10)], clock, launcher, jitter=0)
    scheduler.tick()
    clock.advance(10)
    with caplog.at_level(logging.WARNING):
        assert scheduler.tick() == []
    assert "still runs: skipped" in caplog.text
    assert scheduler.state["slow"].skipped == 1 and len(launcher.started) == 1
    launcher.started[0][1].code = 0
    clock.advance(10)
    assert scheduler.tick() == ["slow"]


def test_a_crashed_crawl_is_reported_and_the_service_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    clock, launcher = Clock(), FakeLauncher()
    scheduler = Scheduler(
        [site("bad", interval_minutes=5), site("good", interval_minutes=5)], clock, launcher, jitter=0
    )
    scheduler.tick()
    launcher.started[0][1].code = -9  # killed
    launcher.started[1][1].code = 0
    clock.advance(5)
    with caplog.at_level(logging.ERROR):
        assert sorted(scheduler.tick()) == ["bad", "good"]
    assert "crawl of bad ended with exit code -9" in caplog.text
    assert scheduler.state["bad"].crashes == 1 and scheduler.state["good"].crashes == 0


def test_jitter_spreads_first_runs_within_a_share_of_the_interval() -> None:
    clock = Clock()
    sites = [site(f"s{i}", interval_minutes=60) for i in range(50)]
    scheduler = Scheduler(sites, clock, FakeLauncher(), jitter=0.1)
    delays = [(run.next_due - START).total_seconds() / 60 for run in scheduler.state.values()]
    assert all(0 <= d <= 6 for d in delays) and len(set(delays)) > 40


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "08:07", "2026-11-23 08:15"),
        ("20 7-21/2 * * *", "08:00", "2026-11-23 09:20"),
        ("20 7-21/2 * * *", "21:30", "2026-11-24 07:20"),
        ("0 9 * * 0", "08:00", "2026-11-29 09:00"),  # Sunday
        ("0 9 * * 7", "08:00", "2026-11-29 09:00"),  # 7 is Sunday too
        ("30 6 1 * *", "08:00", "2026-12-01 06:30"),
        ("0 0 1 1 *", "08:00", "2027-01-01 00:00"),
    ],
)
def test_cron(expression: str, after: str, expected: str) -> None:
    hour, minute = map(int, after.split(":"))
    got = next_cron(expression, START.replace(hour=hour, minute=minute))
    assert got.strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize("expression", ["* * *", "61 * * * *", "*/0 * * * *", "a * * * *", "0 0 31 2 *"])
def test_bad_or_impossible_cron_is_an_error(expression: str) -> None:
    with pytest.raises(CronError):
        next_cron(expression, START)


def test_a_real_child_that_crashes_is_reaped(tmp_path: Path) -> None:
    """The default launcher's contract with a real process: poll() gives the exit code."""
    import subprocess

    class Crashing:
        def start(self, site: SiteConfig) -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    clock = Clock()
    scheduler = Scheduler([site("x", interval_minutes=1)], clock, Crashing(), jitter=0)
    scheduler.tick()
    deadline = time.monotonic() + 10
    while scheduler.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
        scheduler.tick()
    assert scheduler.state["x"].last_exit == 3 and scheduler.state["x"].crashes == 1


class Outcomes:
    """What the monitor would answer: the reports seen so far, by request id."""

    def __init__(self) -> None:
        self.reports: dict[str, CrawlOutcome] = {}

    def outcome(self, request_id: str) -> CrawlOutcome | None:
        return self.reports.get(request_id)


def test_a_request_is_open_until_its_report_arrives_or_its_deadline(tmp_path: Path) -> None:
    log = embedded_log(tmp_path / "log.db")
    log.create_topics(Topics().specs(1, max_message_bytes=100_000))
    clock, outcomes = Clock(), Outcomes()
    launcher = RequestLauncher(log.producer(), Topics(), outcomes, clock, timedelta(minutes=90))
    skipped: list[str] = []
    scheduler = Scheduler(
        [site("a", interval_minutes=60)], clock, launcher, jitter=0, on_skip=lambda s: skipped.append(s.id)
    )
    assert scheduler.tick() == ["a"]
    consumer = log.consumer([Topics().crawl_requests], start=Start("earliest"))
    [message] = consumer.poll(0.1, 10)
    consumer.close()
    request = CrawlRequest.from_dict(json.loads(message.value or b""))
    assert (request.site, request.url, message.header("ce_id")) == ("a", "http://www.example.gov.cn/", request.id)

    clock.advance(60)
    assert scheduler.tick() == [] and skipped == ["a"]  # no report yet: still running
    now = clock().isoformat()
    outcomes.reports[request.id] = CrawlOutcome("a", request.id, now, now, "finished", 0)
    clock.advance(60)
    assert scheduler.tick() == ["a"] and scheduler.state["a"].last_exit == 0

    clock.advance(91)  # nobody reports the second request: given up after the deadline, counted as a crash
    scheduler.tick()
    assert scheduler.state["a"].last_exit == 124 and scheduler.state["a"].crashes == 1
    log.close()


def test_plan_decides_the_next_run_and_resume_keeps_the_last_ones() -> None:
    clock, launcher = Clock(), FakeLauncher()
    resume = {"a": START + timedelta(minutes=5)}
    scheduler = Scheduler(
        [site("a", interval_minutes=60), site("b", interval_minutes=60)],
        clock,
        launcher,
        jitter=0,
        plan=lambda s, now: now + timedelta(minutes=15),
        resume=resume,
    )
    assert scheduler.tick() == ["b"]  # a resumes at 08:05, b (never run) is due now
    assert scheduler.state["b"].next_due == START + timedelta(minutes=15)
    clock.advance(5)
    assert scheduler.tick() == ["a"]
