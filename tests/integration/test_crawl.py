"""Crawls of fixture sites served on 127.0.0.1, each in its own process (see crawl_run.py).

Every crawl runs with a network layer that refuses anything but 127.0.0.1 and a table
resolver, both recording: no test can reach another address, even with the guard broken.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from cleaner import CleanerSettings
from newsflow.demo import demo_root
from newsflow.site_server import SiteServer
from sinks.backends import cleaning_worker, open_log
from sinks.log import Message
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, Outcome
from tests.conftest import CMS_FIXTURES, ROOT
from tests.contracts import read_all, validate
from tests.integration.brokers import free_port
from tests.integration.test_stream_cli import env_for

pytestmark = pytest.mark.timeout(240)


@dataclass
class Crawl:
    """One crawl's outcome: its stats, what the test network layer saw, its log."""

    stats: dict
    network: list[dict]
    log: str

    def stat(self, name: str) -> int:
        return int(self.stats.get(name, 0))


class Crawler:
    """Runs crawls of one site file against one embedded log, keeping state between runs."""

    def __init__(self, tmp_path: Path, site: dict | None = None, *, site_files: list[Path] | None = None) -> None:
        self.tmp = tmp_path
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.site_files = list(site_files or [])
        if site is not None:
            self.site_files.append(tmp_path / f"{site['id']}.yaml")
            self.site_files[-1].write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
        self.streams = StreamSettings(
            db_path=str(tmp_path / "log.db"), index_path=str(tmp_path / "index.db"), spool_path=str(tmp_path / "s.db")
        )
        self.runs = 0

    def start(self, **env: str) -> subprocess.Popen[str]:
        self.runs += 1
        environment = {
            **os.environ,
            **env_for(self.streams),
            "NEWSFLOW_TEST_STATE_DIR": str(self.tmp / "state"),
            "NEWSFLOW_TEST_RECORD": str(self.record),
            **env,
        }
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.crawl_run", str(self.report), *map(str, self.site_files)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def record(self) -> Path:
        return self.tmp / f"network-{self.runs}.jsonl"

    @property
    def report(self) -> Path:
        return self.tmp / f"report-{self.runs}.json"

    def run(self, expect: int = 0, **env: str) -> Crawl:
        process = self.start(**env)
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == expect, stderr[-3000:]
        network = [json.loads(line) for line in self.record.read_text().splitlines()] if self.record.exists() else []
        reports = json.loads(self.report.read_text())
        stats = next(iter(reports.values())) if len(reports) == 1 else reports
        return Crawl(stats, network, stderr)

    def count(self, name: str) -> int:
        """Records on the topic now (safe while a crawl is appending)."""
        log = open_log(self.streams)
        try:
            return sum(log.end_offsets(f"newsflow.{name}").values()) if f"newsflow.{name}" in log.topics() else 0
        finally:
            log.close()

    def topic(self, name: str) -> list[Message]:
        log = open_log(self.streams)
        try:
            return read_all(log, f"newsflow.{name}") if f"newsflow.{name}" in log.topics() else []
        finally:
            log.close()


def site_config(site_id: str, port: int, **overrides: object) -> dict:
    config = {
        "id": site_id,
        "name": "测试站点",
        "region": {"province": "福建省", "city": "福州市", "county": "福清市"},
        "start_urls": [f"http://127.0.0.1:{port}/news/index.html"],
        "allowed_domains": ["127.0.0.1"],
        "list_url_patterns": [r"/news/index(_\d+)?\.html$"],
        "article_url_patterns": [r"/news/\d{6}/t\d{8}_\d+\.html$"],
        "schedule": {"interval_minutes": 60},
    }
    config.update(overrides)
    return config


def write_site(root: Path, pages: dict[str, bytes | str]) -> Path:
    for path, body in pages.items():
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return root


def links(*hrefs: str) -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in hrefs)
    return f'<html><head><meta charset="utf-8"><title>新闻</title></head><body><ul>{anchors}</ul></body></html>'


def test_the_guard_refuses_private_targets_and_nothing_leaves(tmp_path: Path) -> None:
    private = [
        "http://10.0.0.1/news/202002/t20200209_000001.html",
        "http://169.254.169.254/news/202002/t20200209_000002.html",
        "http://192.168.1.1/news/202002/t20200209_000003.html",
        "http://intranet.example/news/202002/t20200209_000004.html",  # resolves to 10.20.30.40
    ]
    article = "/news/202002/t20200209_100001.html"
    root = write_site(
        tmp_path / "site",
        {
            "/robots.txt": "User-agent: *\nAllow: /\n",
            "/news/index.html": links(*private, "/go", "/go2", article),
            article: (CMS_FIXTURES / "trs_01_utf8.html").read_bytes(),
        },
    )
    redirects = {
        "/go": "http://10.0.0.1/news/202002/t20200209_000005.html",
        "/go2": "http://metadata.example/news/202002/t20200209_000006.html",
    }
    with SiteServer(root, redirects=redirects, port=free_port()) as server:
        hosts = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "intranet.example", "metadata.example"]
        patterns = [r"/news/\d{6}/t\d{8}_\d+\.html$", r"^/?go2?$", r"/go2?$"]
        crawler = Crawler(
            tmp_path, site_config("guarded", server.port, allowed_domains=hosts, article_url_patterns=patterns)
        )
        crawl = crawler.run()
    fetched = {urlsplit_host(r["target"]) for r in crawl.network if r["kind"] == "fetch"}
    assert fetched == {"127.0.0.1"}, "only loopback was ever fetched"
    assert not [r for r in crawl.network if r["kind"] == "refused-by-network-layer"], "the guard stopped them first"
    assert {r["target"] for r in crawl.network if r["kind"] == "resolve"} <= {"intranet.example", "metadata.example"}
    assert crawl.stat("newsflow/guard/refused") >= 6
    for target in ("10.0.0.1", "169.254.169.254", "192.168.1.1", "intranet.example", "metadata.example"):
        assert f"refused http://{target}" in crawl.log, target
    raw = crawler.topic("raw")
    assert [m.header("ce_url") for m in raw] == [server.url(article)]


def urlsplit_host(url: str) -> str:
    from urllib.parse import urlsplit

    return str(urlsplit(url).hostname)


def test_bad_pages_end_as_rejections_or_retries_never_a_crash(tmp_path: Path) -> None:
    pages = {
        "/robots.txt": "User-agent: *\nAllow: /\n",
        "/news/202002/t20200209_000001.html": b"\x00\x01binary\xff\xfe" * 100,  # malformed
        "/news/202002/t20200209_000002.html": "<html><body>slow</body></html>",
        "/news/202002/t20200209_000003.html": "<html><body>" + "大" * 400_000 + "</body></html>",  # 1.2 MB
        "/news/202002/t20200209_000005.html": (CMS_FIXTURES / "govcn_01_utf8.html").read_bytes(),
    }
    listed = [*pages, "/news/202002/t20200209_000004.html"][1:]  # …04 does not exist: 404
    root = write_site(tmp_path / "site", {**pages, "/news/index.html": links(*listed)})
    with SiteServer(root, delays={"/news/202002/t20200209_000002.html": 4}, port=free_port()) as server:
        crawler = Crawler(tmp_path, site_config("bad", server.port))
        crawl = crawler.run(NEWSFLOW_TEST_TIMEOUT="1", NEWSFLOW_TEST_MAX_BYTES=str(1024 * 1024))
    assert crawl.stats["finish_reason"] == "finished"
    raw = {m.header("ce_url"): m for m in crawler.topic("raw")}
    assert set(raw) == {
        server.url(p)
        for p in (
            "/news/202002/t20200209_000001.html",
            "/news/202002/t20200209_000004.html",
            "/news/202002/t20200209_000005.html",
        )
    }
    assert raw[server.url("/news/202002/t20200209_000004.html")].header("ce_status") == "404"
    rejected = {validate(m)["value"]["url"]: validate(m)["value"]["reason"] for m in crawler.topic("rejected")}
    assert rejected == {
        server.url("/news/202002/t20200209_000002.html"): "fetch.timeout",
        server.url("/news/202002/t20200209_000003.html"): "fetch.too_large",
    }
    assert server.requests.count("/news/202002/t20200209_000002.html") == 2, "a timeout is retried once"


def copy_demo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_root(), tmp_path / "demo_site"))


def build_news_site(root: Path, copies: int = 2, per_page: int = 10) -> list[str]:
    """The CMS fixture pages as articles of a paginated news column; returns the article paths."""
    pages = sorted(CMS_FIXTURES.glob("*.html"))
    articles = [
        f"/news/2020{(i % 12) + 1:02d}/t2020{(i % 12) + 1:02d}01_{100000 + i}.html" for i in range(copies * len(pages))
    ]
    files: dict[str, bytes | str] = {"/robots.txt": "User-agent: *\nDisallow: /internal/\n"}
    for i, path in enumerate(articles):
        files[path] = pages[i % len(pages)].read_bytes()
    chunks = [articles[i : i + per_page] for i in range(0, len(articles), per_page)]
    for n, chunk in enumerate(chunks):
        name = "/news/index.html" if n == 0 else f"/news/index_{n}.html"
        nav = [f"index_{n + 1}.html"] if n + 1 < len(chunks) else []
        body = links(*[f".{p.removeprefix('/news')}" for p in chunk], "/internal/202001/t20200101_1.html")
        files[name] = body.replace("</ul>", "</ul>" + "".join(f'<a href="{h}">下一页</a>' for h in nav))
    files["/internal/202001/t20200101_1.html"] = pages[0].read_bytes()
    write_site(root, files)
    return articles


def test_incremental_crawls_emit_new_and_changed_pages_only(tmp_path: Path) -> None:
    root = tmp_path / "site"
    articles = build_news_site(root)
    with SiteServer(root, port=free_port()) as server:
        crawler = Crawler(tmp_path, site_config("news", server.port))
        first = crawler.run()
        list_pages = [p for p in server.requests if "/index" in p]
        assert "/internal/202001/t20200101_1.html" not in server.requests, "robots.txt disallow honoured"
        assert len(set(list_pages)) == 7, "pagination followed to the end (64 articles, 10 per page)"
        raw = crawler.topic("raw")
        assert sorted(m.header("ce_url") for m in raw) == sorted(server.url(p) for p in articles)
        assert first.stat("newsflow/emitted") == len(articles)
        for message in raw:
            view = validate(message)
            assert view["value"]["site"] == "news" and view["value"]["region"] == "福建省/福州市/福清市"

        second = crawler.run()
        assert second.stat("newsflow/emitted") == 0 and second.stat("newsflow/unchanged") == len(articles)
        assert len(crawler.topic("raw")) == len(articles)

        edited = root / articles[5].lstrip("/")
        edited.write_bytes(edited.read_bytes().replace(b"</body>", "<p>（更正）</p></body>".encode()))
        third = crawler.run()
        assert third.stat("newsflow/emitted") == 1
        twice = [url for url, n in Counter(m.header("ce_url") for m in crawler.topic("raw")).items() if n > 1]
        assert twice == [server.url(articles[5])]


def test_a_killed_crawl_resumes_to_the_same_pages_without_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "site"
    articles = build_news_site(root, copies=3)
    delays = dict.fromkeys(articles, 0.05)
    with SiteServer(root, delays=delays, port=free_port()) as server:
        reference = Crawler(tmp_path / "reference", site_config("news", server.port))
        reference.run()
        expected = sorted(m.header("ce_url") for m in reference.topic("raw"))
        assert len(expected) == len(articles)

        killed = Crawler(tmp_path / "killed", site_config("news", server.port))
        process = killed.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and killed.count("raw") < len(articles) // 3:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        halfway = killed.count("raw")
        assert 0 < halfway < len(articles), "killed halfway"
        killed.run()
    urls = [m.header("ce_url") for m in killed.topic("raw")]
    assert sorted(urls) == expected
    assert len(urls) == len(set(urls)), "no page emitted twice"


def test_the_bundled_site_configs_crawl_their_recorded_copies(tmp_path: Path) -> None:
    """Every config in config/sites against a recorded copy of its site, all in one crawl."""
    copies = ROOT / "tests" / "fixtures" / "sites"
    served = tmp_path / "hosts"
    served.mkdir()
    expected: dict[str, set[str]] = {}
    for site_dir in sorted(p for p in copies.iterdir() if p.is_dir()):
        for host in site_dir.iterdir():
            if host.is_dir():
                (served / host.name).symlink_to(host)
        expected[site_dir.name] = set(json.loads((site_dir / "expected.json").read_text())["articles"])
    configs = sorted((ROOT / "config" / "sites").glob("*.yaml"))
    assert {p.stem for p in configs} == set(expected), "every bundled config has a recorded copy"
    with SiteServer(served, port=free_port()) as server:
        crawler = Crawler(tmp_path / "crawl", site_files=configs)
        crawl = crawler.run(NEWSFLOW_TEST_MAP_TO=f"127.0.0.1:{server.port}")
    assert not [r for r in crawl.network if r["kind"] == "fetch"], "only recorded copies were read"
    emitted: dict[str, set[str]] = {}
    for message in crawler.topic("raw"):
        emitted.setdefault(str(message.header("ce_site")), set()).add(str(message.header("ce_url")))
    assert emitted == expected

    # the cleaning worker uses each site's hints, carried on its raw records
    log = open_log(crawler.streams)
    with cleaning_worker(log, crawler.streams, CleanerSettings(), threading.Event()) as worker:
        worker.run(exit_when_idle=True)
    log.close()
    articles = [validate(m)["value"] for m in crawler.topic("articles")]
    assert len(articles) == sum(map(len, expected.values())), "every recorded article cleans to an article"
    hinted = {p.stem for p in configs if "body_selector" in p.read_text(encoding="utf-8")}
    assert hinted and all(a["field_sources"]["body"] == "site:body" for a in articles if a["site"] in hinted)


def test_429_and_503_are_retried_after_their_retry_after(tmp_path: Path) -> None:
    root = tmp_path / "site"
    articles = build_news_site(root, copies=1, per_page=40)
    throttled, unavailable = articles[3], articles[7]
    hiccups = {throttled: (429, {"Retry-After": "2"}), unavailable: (503, {})}
    with SiteServer(root, hiccups=hiccups, port=free_port()) as server:
        crawler = Crawler(tmp_path / "crawl", site_config("news", server.port))
        crawl = crawler.run()
    times = {path: [t for p, t in server.request_times if p == path] for path in (throttled, unavailable)}
    assert len(times[throttled]) == 2 and times[throttled][1] - times[throttled][0] >= 2.0, "Retry-After: 2 honoured"
    assert len(times[unavailable]) == 2 and times[unavailable][1] - times[unavailable][0] >= 1.0, "backoff of 1 s"
    assert sorted(m.header("ce_url") for m in crawler.topic("raw")) == sorted(server.url(p) for p in articles)
    assert crawl.stat("retry/count") == 2


def test_sitemaps_and_rss_feeds_lead_to_articles(tmp_path: Path) -> None:
    page = (CMS_FIXTURES / "govcn_02_gbk.html").read_bytes()
    in_sitemap, in_feed = "/news/202003/t20200301_200001.html", "/news/202003/t20200302_200002.html"
    with SiteServer(tmp_path / "site", port=free_port()) as server:
        sitemap = f'<?xml version="1.0"?><urlset><url><loc>{server.url(in_sitemap)}</loc></url></urlset>'
        feed = f"<rss><channel><item><title>t</title><link>{server.url(in_feed)}</link></item></channel></rss>"
        write_site(
            tmp_path / "site",
            {
                "/robots.txt": "User-agent: *\nAllow: /\n",
                "/news/index.html": links(),
                "/sitemap.xml": sitemap,
                "/rss.xml": feed,
                in_sitemap: page,
                in_feed: page,
            },
        )
        config = site_config(
            "feeds", server.port, sitemap_urls=[server.url("/sitemap.xml")], rss_urls=[server.url("/rss.xml")]
        )
        crawler = Crawler(tmp_path / "crawl", config)
        crawler.run()
    assert sorted(m.header("ce_url") for m in crawler.topic("raw")) == [server.url(in_sitemap), server.url(in_feed)]


def test_list_depth_and_pagination_limits(tmp_path: Path) -> None:
    page = (CMS_FIXTURES / "trs_02_gbk.html").read_bytes()
    art = [f"/news/202004/t2020040{i}_30000{i}.html" for i in range(1, 5)]
    start_page = links(art[0], "/news/sub/index.html").replace("</ul>", '</ul><a href="index_1.html">2</a>')
    with SiteServer(tmp_path / "site", port=free_port()) as server:
        write_site(
            tmp_path / "site",
            {
                "/robots.txt": "User-agent: *\nAllow: /\n",
                # start → (page 2 by number) and → a sub-column (one level deeper) → a sub-sub-column (too deep)
                "/news/index.html": start_page,
                "/news/index_1.html": links(art[1]),
                "/news/sub/index.html": links(art[2], "/news/sub/deeper/index.html"),
                "/news/sub/deeper/index.html": links(art[3]),
                **dict.fromkeys(art, page),
            },
        )
        lists = [r"/news/(?:[a-z]+/)*index(_\d+)?\.html$"]
        crawler = Crawler(tmp_path / "crawl", site_config("depth", server.port, list_url_patterns=lists, max_depth=1))
        crawler.run()
    assert sorted(m.header("ce_url") for m in crawler.topic("raw")) == sorted(server.url(p) for p in art[:3])
    assert "/news/sub/deeper/index.html" not in server.requests


# -- issue 14, defect 13: a crawl that fetched nothing said "finished", exit 0; an interrupted one miscounted -----
def cli_crawl(crawler: Crawler, sites_dir: Path) -> subprocess.Popen[str]:
    """The real ``newsflow crawl`` on loopback sites, without politeness delays."""
    env = {
        **os.environ,
        **env_for(crawler.streams),
        "NEWSFLOW_CRAWLER_DOWNLOAD_DELAY": "0",
        "NEWSFLOW_CRAWLER_AUTOTHROTTLE": "false",
        "NEWSFLOW_CRAWLER_RETRIES": "1",
        "NEWSFLOW_CRAWLER_STATE_DIR": str(crawler.tmp / "state"),
    }
    args = ["crawl", "--sites-dir", str(sites_dir), "--allow-address", "127.0.0.1"]
    return subprocess.Popen(
        [sys.executable, "-m", "newsflow.cli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def published_outcomes(crawler: Crawler) -> list[CrawlOutcome]:
    return [CrawlOutcome.from_message(m) for m in crawler.topic("crawl-reports")]


def test_defect_13_a_crawl_in_which_every_request_failed_is_failed_with_a_non_zero_exit(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there: every request is refused by the system
    crawler = Crawler(tmp_path, site_config("down", closed))
    process = cli_crawl(crawler, tmp_path)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err[-2000:]
    assert err.splitlines()[-1].startswith("Error: the crawl of down failed: no page could be fetched")
    assert out.splitlines()[0].split()[-1] == "outcome" and "failed" in out.splitlines()[2]
    [outcome] = published_outcomes(crawler)
    assert (outcome.outcome, outcome.exit_code, outcome.fetched, outcome.emitted) == (Outcome.FAILED, 1, 0, 0)


def test_defect_13_a_crawl_the_guard_refused_entirely_is_failed(tmp_path: Path) -> None:
    private = site_config("private", 80, start_urls=["http://10.0.0.1/news/index.html"], allowed_domains=["10.0.0.1"])
    crawler = Crawler(tmp_path, private)
    crawl = crawler.run(expect=1)
    assert not [r for r in crawl.network if r["kind"] == "refused-by-network-layer"], "the guard stopped it first"
    assert crawl.stats["outcome"]["outcome"] == "failed" and crawl.stats["outcome"]["refused"] >= 1


@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGINT, signal.SIGTERM)], ids=["once", "twice"])
def test_defect_13_an_interrupted_crawl_says_so_and_counts_what_it_emitted(tmp_path: Path, signals: tuple) -> None:
    """A second signal stops Scrapy at once, without closing the spider: the pages sent still count."""
    root = tmp_path / "site"
    articles = build_news_site(root, copies=3)
    with SiteServer(root, delays=dict.fromkeys(articles, 0.3), port=free_port()) as server:
        crawler = Crawler(tmp_path / "crawl", site_config("news", server.port))
        process = cli_crawl(crawler, crawler.tmp)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crawler.count("raw") < 8:
            time.sleep(0.05)
        for number in signals:
            process.send_signal(number)
            time.sleep(0.05)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err[-2000:]
    assert "the crawl of news was interrupted" in err and "Traceback" not in err
    [outcome] = published_outcomes(crawler)
    raw = crawler.topic("raw")
    assert outcome.outcome is Outcome.INTERRUPTED and outcome.exit_code == 130
    assert 0 < outcome.emitted == len(raw) < len(articles)


# -- issue 14, defect 12: crawl failures that were dropped with a log line ------------------------------------------
def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    """A small gzip body that inflates past the crawl's download limit."""
    body = gzip.compress(b"<p>" + b"\0" * (3 * 1024 * 1024))
    handler.send_response(200)
    for name, value in (("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", len(body))):
        handler.send_header(name, str(value))
    handler.end_headers()
    handler.wfile.write(body)


def endless_chunks(handler: BaseHTTPRequestHandler) -> None:
    """A chunked body that never ends, until the client hangs up."""
    handler.protocol_version = "HTTP/1.1"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"<p>" + "没完没了".encode() * 2000 + b"</p>"
    with contextlib.suppress(OSError):
        while True:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def server_error(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(500)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def test_defect_12_failed_fetches_and_bad_links_become_typed_rejections(tmp_path: Path) -> None:
    article = "/news/202002/t20200209_%06d.html"
    good, on_page_2 = article % 1, article % 2
    bomb, endless, loop_a, loop_b, to_file, to_data, broken = (article % n for n in range(11, 18))
    listed = [bomb, endless, loop_a, to_file, to_data, broken, good]
    start = links("http://[bad/", *listed).replace("</ul>", '</ul><a href="index_1.html">下一页</a>')
    page = (CMS_FIXTURES / "trs_01_utf8.html").read_bytes()
    root = write_site(
        tmp_path / "site",
        {
            "/robots.txt": "User-agent: *\nAllow: /\n",
            "/news/index.html": start,
            "/news/index_1.html": links(on_page_2),
            good: page,
            on_page_2: page,
        },
    )
    redirects = {loop_a: loop_b, loop_b: loop_a, to_file: "file:///etc/passwd", to_data: "data:text/html,<p>x</p>"}
    with SiteServer(
        root,
        redirects=redirects,
        responders={bomb: gzip_bomb, endless: endless_chunks, broken: server_error},
        port=free_port(),
    ) as server:
        crawler = Crawler(tmp_path / "crawl", site_config("hostile", server.port))
        crawl = crawler.run(NEWSFLOW_TEST_MAX_BYTES=str(1024 * 1024))
    assert crawl.stats["outcome"]["outcome"] == "finished"
    assert sorted(m.header("ce_url") for m in crawler.topic("raw")) == sorted(server.url(p) for p in (good, on_page_2))
    rejected = {}
    for message in crawler.topic("rejected"):
        value = validate(message)["value"]
        rejected[value["url"]] = (value["reason"], value["detail"])
    reasons = {url: reason for url, (reason, _) in rejected.items()}
    assert reasons == {
        "http://[bad/": "fetch.bad_link",
        server.url(bomb): "fetch.too_large",
        server.url(endless): "fetch.too_large",
        server.url(loop_a): "fetch.redirect_loop",
        server.url(to_file): "fetch.bad_redirect",
        server.url(to_data): "fetch.bad_redirect",
        server.url(broken): "fetch.http_status",
    }
    assert all(detail.strip() for _, detail in rejected.values()), rejected
    assert "download limit" in rejected[server.url(endless)][1]
    assert server.url(loop_b) in rejected[server.url(loop_a)][1]


# -- issue 14, defect 15: DNS rebinding past the guard ---------------------------------------------------------------
def test_defect_15_a_name_that_rebinds_after_the_check_is_refused_at_connection(tmp_path: Path) -> None:
    """rebind.example answers 127.0.0.2 (allowed here) to the first look-up and 127.0.0.1 (not allowed) after."""
    article = "/news/202002/t20200209_100001.html"
    root = write_site(
        tmp_path / "site",
        {"/robots.txt": "User-agent: *\nAllow: /\n", "/news/index.html": links(article), article: "<p>x</p>"},
    )
    with SiteServer(root, port=free_port()) as server:
        config = site_config(
            "rebind",
            server.port,
            start_urls=[f"http://rebind.example:{server.port}/news/index.html"],
            allowed_domains=["rebind.example"],
        )
        crawler = Crawler(tmp_path / "crawl", config)
        crawl = crawler.run(expect=1, NEWSFLOW_TEST_ALLOWED="127.0.0.2")
    assert server.requests == [], "the server on 127.0.0.1 was never reached"
    assert [r for r in crawl.network if r["kind"] == "connect-through-the-guard"], "the connection was attempted"
    assert len([r for r in crawl.network if r == {"kind": "resolve", "target": "rebind.example"}]) >= 2
    assert "refused a connection to rebind.example: rebind.example is 127.0.0.1" in crawl.log
    assert crawler.topic("raw") == [] and crawl.stats["outcome"]["outcome"] == "failed"
