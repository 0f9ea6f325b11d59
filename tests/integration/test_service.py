"""``newsflow run`` as deployed: real processes, real sites on 127.0.0.1, the embedded log or a real broker.

1. All roles in one process on the embedded log over the demo portal: ``/metrics``
   parses with prometheus_client's parser and its counters equal what the topics
   hold; ``/healthz`` is up; ``status`` shows the same crawl; SIGTERM exits 0.
2. Roles split over Kafka: one scheduler and two crawler processes; every crawl
   request is crawled and reported exactly once (noida), also when one crawler
   is SIGKILLed mid-crawl and the other takes its requests over (tansu).
3. A site whose template changes between two crawls trips the canary in status.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from newsflow.demo import demo_root
from newsflow.site_server import SiteServer
from sinks.backends import open_log, read_messages, topics_for
from sinks.log import Message
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, CrawlRequest
from tests.conftest import ROOT
from tests.integration.conftest import backend_settings
from tests.integration.test_crawl import build_news_site, site_config
from tests.integration.test_demo import expected_summary
from tests.integration.test_stream_cli import env_for

pytestmark = pytest.mark.timeout(300)

FAST_CRAWL = {
    "NEWSFLOW_CRAWLER_DOWNLOAD_DELAY": "0",
    "NEWSFLOW_CRAWLER_AUTOTHROTTLE": "false",
    "NEWSFLOW_CRAWLER_CONCURRENCY_PER_DOMAIN": "4",
    "NEWSFLOW_SERVICE_JITTER": "0",
    "NEWSFLOW_SERVICE_LOG_FORMAT": "json",
}


def service_env(settings: StreamSettings, tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return {
        **clean,
        **env_for(settings),
        **FAST_CRAWL,
        "NEWSFLOW_SERVICE_STATE_PATH": str(tmp_path / "service.db"),
        "NEWSFLOW_CRAWLER_STATE_DIR": str(tmp_path / "crawl"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Proc:
    """A ``newsflow`` process whose stderr goes to a file the test can search."""

    def __init__(self, args: list[str], env: dict[str, str], log_file: Path, cwd: Path = ROOT) -> None:
        self.log_file = log_file
        with log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsflow.cli", *args], cwd=cwd, env=env, stdout=out, stderr=out
            )

    def text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]

    def wait_for(self, found: Callable[[str], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found(self.text()):
                return
            assert self.process.poll() is None, f"{what}: the process exited\n{self.text()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"{what}: not within {timeout} s\n{self.text()[-3000:]}")

    def terminate(self, timeout: float = 90) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.kill()


def scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by name and labels, as prometheus_client's parser reads it."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def read_topic(settings: StreamSettings, topic: str, want: int, timeout: float = 30) -> list[Message]:
    log = open_log(settings)
    try:
        return read_messages(log, [topic], want=want, timeout=timeout)
    finally:
        log.close()


def write_sites(folder: Path, configs: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for config in configs:
        (folder / f"{config['id']}.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder


# -- 1. one process, every role, the embedded log ----------------------------------------------------
def test_run_serves_metrics_that_match_the_topics(tmp_path: Path, procs: list[Proc]) -> None:
    settings = StreamSettings(
        db_path=str(tmp_path / "log.db"), index_path=str(tmp_path / "index.db"), spool_path=str(tmp_path / "s.db")
    )
    demo = yaml.safe_load((ROOT / "newsflow" / "samples" / "qinghe_demo.yaml").read_text(encoding="utf-8"))
    with SiteServer(demo_root()) as server:
        demo["start_urls"] = [f"http://127.0.0.1:{server.port}/index.html"]
        sites = write_sites(tmp_path / "sites", [demo])
        env = service_env(settings, tmp_path, NEWSFLOW_SERVICE_METRICS_PORT="0")
        run = Proc(["run", "--sites-dir", str(sites), "--allow-address", "127.0.0.1"], env, tmp_path / "run.log")
        procs.append(run)
        run.wait_for(lambda t: '"metrics_port"' in t, 60, "service start")
        port = next(r["metrics_port"] for r in run.records() if "metrics_port" in r)

        def settled() -> bool:
            found = samples(scrape(port)[1])
            emitted = total(found, "newsflow_pages_emitted_total")
            outputs = total(found, "newsflow_articles_total") + total(found, "newsflow_rejections_total", stage="clean")
            return total(found, "newsflow_crawls_total") == 1 and emitted > 0 and outputs == emitted

        deadline = time.monotonic() + 120
        while not settled():
            assert time.monotonic() < deadline, f"the demo crawl did not finish\n{run.text()[-3000:]}"
            assert run.process.poll() is None, run.text()[-3000:]
            time.sleep(0.5)
        status, text = scrape(port)
        health_status, health = scrape(port, "/healthz")
        status_cmd = subprocess.run(
            [sys.executable, "-m", "newsflow.cli", "status", "--json", "--sites-dir", str(sites)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.terminate() == 0, run.text()[-3000:]

    assert status == 200 and health_status == 200
    assert {name: role["state"] for name, role in json.loads(health)["roles"].items()} == dict.fromkeys(
        ("scheduler", "crawler", "cleaner"), "running"
    )
    found = samples(text)
    topics = topics_for(settings)
    log = open_log(settings)
    try:
        ends = {t: sum(log.end_offsets(t).values()) for t in topics.all()}
    finally:
        log.close()
    raw = read_topic(settings, topics.raw, ends[topics.raw])
    articles = read_topic(settings, topics.articles, ends[topics.articles])
    rejected = read_topic(settings, topics.rejected, ends[topics.rejected])
    [report] = [CrawlOutcome.from_message(m) for m in read_topic(settings, topics.crawl_reports, 1)]
    assert len(raw) == total(found, "newsflow_pages_emitted_total", site="qinghe_demo") == report.emitted > 40
    assert total(found, "newsflow_pages_fetched_total", site="qinghe_demo") == report.fetched
    assert total(found, "newsflow_articles_total", site="qinghe_demo") == len(articles)
    by_reason = Counter(str(m.header("ce_reason")) for m in rejected)
    assert by_reason and {r: total(found, "newsflow_rejections_total", reason=r) for r in by_reason} == by_reason
    assert total(found, "newsflow_rejections_total") == len(rejected)
    assert total(found, "newsflow_crawl_requests_published_total") == ends[topics.crawl_requests] == 1
    assert total(found, "newsflow_crawl_duration_seconds_count") == 1
    assert total(found, "newsflow_consumer_lag", group=settings.group) == 0

    assert status_cmd.returncode == 0, status_cmd.stderr
    state = json.loads(status_cmd.stdout)
    assert state["service_live"] is True
    [site] = state["sites"]
    last = site["last_crawl"]
    assert (last["fetched"], last["emitted"], last["articles"], last["rejections"]) == (
        report.fetched,
        len(raw),
        len(articles),
        len(rejected),
    )
    assert site["next_run"] and state["topics"][topics.raw] == len(raw)
    logged = run.records()
    assert any(r["message"].startswith("crawl of qinghe_demo finished") for r in logged)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in logged)
    assert any("stopping" in r["message"] for r in logged)


def test_run_demo_serves_the_portal_and_status_shows_its_crawl(tmp_path: Path, procs: list[Proc]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    run = Proc(["run", "--demo", "--metrics-port", "-1"], env, tmp_path / "run.log", cwd=tmp_path)
    procs.append(run)
    run.wait_for(lambda t: "crawl of qinghe_demo finished" in t, 90, "the demo crawl")

    def status() -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "newsflow.cli", "status", "--demo", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(json.loads(done.stdout)["sites"][0])

    deadline = time.monotonic() + 60
    while (site := status())["canary"] == "pending":  # judged once the cleaner has every page
        assert time.monotonic() < deadline, site
        time.sleep(0.5)
    assert run.terminate() == 0, run.text()[-3000:]
    last, want = site["last_crawl"], expected_summary()
    assert (last["emitted"], last["articles"]) == (want["raw pages"], want["articles"])
    assert last["rejections"] == sum(dict(want["rejections"]).values()) and last["fetched"] > last["emitted"]
    assert site["canary"] == "learning" and site["next_run"]

    # started again, it waits for the next scheduled crawl and says when that is
    again = Proc(["run", "--demo", "--metrics-port", "-1"], env, tmp_path / "again.log", cwd=tmp_path)
    procs.append(again)
    again.wait_for(lambda t: "next crawl: qinghe_demo at" in t, 60, "the next crawl announced")
    assert again.terminate() == 0, again.text()[-3000:]
    [line] = [line for line in again.text().splitlines() if "next crawl: qinghe_demo" in line]
    assert re.search(r"\(in (\d+ h )?\d+ min\)", line) and json.loads(line)["next_run"][:19] == site["next_run"][:19], (
        line
    )


# -- 2. roles over Kafka -----------------------------------------------------------------------------
SITES = 5


def fixture_sites(tmp_path: Path, servers: list[SiteServer]) -> Path:
    configs = []
    for n, server in enumerate(servers):
        configs.append(site_config(f"site{n}", server.port, schedule={"interval_minutes": 600}))
    return write_sites(tmp_path / "sites", configs)


def start_sites(tmp_path: Path, delay: float) -> list[SiteServer]:
    servers = []
    for n in range(SITES):
        root = tmp_path / f"www{n}"
        articles = build_news_site(root, copies=1, per_page=8)
        servers.append(SiteServer(root, delays=dict.fromkeys(articles, delay)).__enter__())
    return servers


def run_roles(
    settings: StreamSettings, tmp_path: Path, procs: list[Proc], delay: float, kill_one: bool
) -> tuple[list[CrawlRequest], list[CrawlOutcome]]:
    servers = start_sites(tmp_path, delay)
    try:
        sites = fixture_sites(tmp_path, servers)
        common = ["--sites-dir", str(sites), "--metrics-port", "-1"]
        crawlers = []
        for n in range(2):
            env = service_env(
                settings,
                tmp_path,
                NEWSFLOW_CRAWLER_STATE_DIR=str(tmp_path / f"crawl{n}"),  # as on two machines
                NEWSFLOW_SERVICE_MAX_CRAWLS="2",
                NEWSFLOW_SERVICE_SITES_PER_CRAWL="1",
            )
            args = ["run", "--role", "crawler", "--allow-address", "127.0.0.1", *common]
            crawlers.append(Proc(args, env, tmp_path / f"crawler{n}.log"))
        procs.extend(crawlers)
        for crawler in crawlers:  # both members hold partitions before any request exists
            crawler.wait_for(lambda t: re.search(r"now reads [1-9]\d* partition", t) is not None, 180, "crawler join")
        scheduler = Proc(["run", "--role", "scheduler", *common], service_env(settings, tmp_path), tmp_path / "s.log")
        procs.append(scheduler)
        topics = topics_for(settings)
        if kill_one:
            victim = crawlers[0]
            victim.wait_for(lambda t: "crawl started" in t, 90, "a crawl on the first crawler")
            assert "finished:" not in victim.text()
            victim.kill()
        requests = [
            CrawlRequest.from_dict(json.loads(m.value or b""))
            for m in read_topic(settings, topics.crawl_requests, SITES, 60)
        ]
        assert len(read_topic(settings, topics.crawl_reports, SITES, 150)) >= SITES
        time.sleep(3)  # a second report for a request would come now
        reports = [CrawlOutcome.from_message(m) for m in read_topic(settings, topics.crawl_reports, SITES + 1, 5)]
        assert scheduler.terminate() == 0, scheduler.text()[-3000:]
        for crawler in crawlers[1:] if kill_one else crawlers:
            assert crawler.terminate() == 0, crawler.text()[-3000:]
        return requests, reports
    finally:
        for server in servers:
            server.__exit__(None, None, None)


def assert_each_request_crawled_once(requests: list[CrawlRequest], reports: list[CrawlOutcome]) -> None:
    assert sorted(r.site for r in requests) == [f"site{n}" for n in range(SITES)]
    assert Counter(r.request_id for r in reports) == Counter(r.id for r in requests)
    assert all(r.outcome == "finished" and r.emitted > 0 for r in reports), reports


@pytest.fixture(params=["noida"])
def kafka_settings(request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str) -> StreamSettings:
    return backend_settings(request, tmp_path, topic_prefix, "noida", partitions=4)


def test_one_scheduler_two_crawlers_crawl_each_request_once(
    kafka_settings: StreamSettings, tmp_path: Path, procs: list[Proc]
) -> None:
    requests, reports = run_roles(kafka_settings, tmp_path, procs, delay=0.0, kill_one=False)
    assert_each_request_crawled_once(requests, reports)

    # status reads the same history over Kafka (the service is stopped: it catches up itself)
    shown = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "status", "--json", "--sites-dir", str(tmp_path / "sites")],
        cwd=ROOT,
        env=service_env(kafka_settings, tmp_path),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    state = json.loads(shown.stdout)
    assert state["backend"].startswith("kafka") and not state["service_live"]
    by_site = {r.site: r for r in reports}
    for row in state["sites"]:
        last = row["last_crawl"]
        assert (last["fetched"], last["emitted"]) == (by_site[row["site"]].fetched, by_site[row["site"]].emitted)
        assert row["next_run"]
    assert state["topics"][topics_for(kafka_settings).crawl_reports] == SITES
    assert {g["group"]: g["lag"] for g in state["groups"]}["newsflow-crawlers"] == 0


@pytest.fixture(params=["tansu"])
def tansu_settings(request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str) -> StreamSettings:
    return backend_settings(request, tmp_path, topic_prefix, "tansu", partitions=4)


def test_a_killed_crawlers_requests_are_taken_over(
    tansu_settings: StreamSettings, tmp_path: Path, procs: list[Proc]
) -> None:
    requests, reports = run_roles(tansu_settings, tmp_path, procs, delay=0.4, kill_one=True)
    assert_each_request_crawled_once(requests, reports)
    survivor = {r.crawler for r in reports}
    assert len(survivor) == 1  # the killed instance never reported: everything was crawled by the other


# -- 3. the canary -------------------------------------------------------------------------------------
REDESIGNED = (
    '<html><head><meta charset="utf-8"><title>新版页面</title></head><body>'
    '<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a></div>'
    "<div class='app'><p>本页面已改版，请使用新版客户端阅读全文。</p></div></body></html>"
)


def test_a_template_change_between_two_crawls_trips_the_canary(tmp_path: Path) -> None:
    settings = StreamSettings(
        db_path=str(tmp_path / "log.db"), index_path=str(tmp_path / "index.db"), spool_path=str(tmp_path / "s.db")
    )
    root = tmp_path / "www"
    articles = build_news_site(root, copies=1, per_page=8)
    env = service_env(settings, tmp_path)

    def newsflow(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "newsflow.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    with SiteServer(root) as server:
        sites = write_sites(tmp_path / "sites", [site_config("changing", server.port)])
        crawl = ["crawl", "--quiet", "--sites-dir", str(sites), "--allow-address", "127.0.0.1"]
        newsflow(*crawl)
        newsflow("worker", "--exit-when-idle")
        before = json.loads(newsflow("status", "--json", "--sites-dir", str(sites)).stdout)
        for path in articles:  # the site moves to a new template
            (root / path.lstrip("/")).write_text(REDESIGNED, encoding="utf-8")
        newsflow(*crawl)
        newsflow("worker", "--exit-when-idle")
        after = newsflow("status", "--json", "--sites-dir", str(sites))
    [first] = before["sites"]
    assert first["canary"] == "learning" and first["last_crawl"]["articles"] == len(articles)
    [site] = json.loads(after.stdout)["sites"]
    assert site["canary"] == "alarm", site
    assert "article_rate" in {a["check"] for a in site["alarms"]}
    assert site["last_crawl"]["emitted"] == len(articles)  # every page changed
    assert "may have changed its template" in after.stderr  # the warning is logged too
    text = newsflow("status", "--sites-dir", str(sites)).stdout
    assert "alarm" in text and "may have changed its template" in text
