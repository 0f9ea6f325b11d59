"""How many sites one crawler instance sustains at the default politeness, on loopback.

Generates K news sites (``s001.bench.test`` …), each with robots.txt, one list page
linking ``--articles`` article pages (copies of the bundled demo portal's articles,
made distinct), served from one folder on 127.0.0.1 with a per-site response latency
(``--latency``, drawn per site). The server is :class:`BenchServer` below rather than
:class:`~newsflow.site_server.SiteServer`: the same ETag/304 answers, but a listen
backlog of 1024 instead of socketserver's 5, which at 100+ sites starting at once
drops connections and turns them into 1 s, 3 s … SYN retries. Each
site has its own host name (Scrapy's download slots are per host), resolved to
127.0.0.1 by the guard's resolver; the download handler rewrites
``http://sNNN.bench.test/PATH`` to ``http://127.0.0.1:PORT/sNNN.bench.test/PATH`` and
refuses anything else, so no request can leave loopback.

For each K, two crawls of the same K sites, each in its own process (Twisted's reactor
runs once per process) through :func:`crawler.run.crawl_sites` with the default
:class:`~crawler.settings.CrawlerSettings` (1 s download delay, AutoThrottle, 2 per
domain, robots.txt obeyed) and the embedded SQLite log:

1. first: every article is new (a typical scheduled crawl after the site published);
2. re-crawl: nothing changed, the articles answer 304 (what most scheduled runs are).

K=1 is the baseline: one site alone, where the crawl's length is all politeness.
With politeness a site's crawl of P pages takes about P × delay seconds whatever the
load, so a process is limited by how many crawls it can run at once before its one
core (Scrapy's reactor is one thread) saturates: the CPU cost per page gives the
sustainable pages/s, and from it the sites per instance on a schedule.

``--mode role`` measures the real thing end to end: one ``newsflow run --role crawler``
instance (its own process, on the embedded log in a temporary folder) that finds K
crawl requests waiting on ``crawl-requests`` and runs them as ``newsflow crawl``
children, up to ``max_crawls`` at once with up to ``sites_per_crawl`` sites each, until
the K-th report is on ``crawl-reports``; then SIGTERM, and the exit code is reported.
The children are separate processes, so the download handler above cannot reach them:
instead site n is served at its own loopback address 127.0.0.{n+1} (one listening
socket per address, same port; all of 127.0.0.0/8 is loopback on Linux), its own host
for Scrapy's per-domain politeness slot, and the guard allows exactly those addresses
(``NEWSFLOW_CRAWLER_ALLOWED_ADDRESSES``). The [service] defaults run every
``--role-sites`` K; further ``--role-configs`` the largest K. For comparison the
largest K is also crawled once in process mode (unless ``--mode both`` already did).
``--mode both`` runs both modes (longer than the ~5 minutes of either alone).

    python bench/bench_service.py [--sites 1,50,100,200] [--articles 20] [--quick]
    python bench/bench_service.py --mode role [--role-sites 25,100,200] [--role-configs 2x25,4x50] [--recrawl]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import ipaddress
import json
import math
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import mean
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.run import crawl_sites
from crawler.settings import CrawlerSettings
from crawler.sites import SiteConfig, load_site
from newsflow.crawler_role import utc_iso
from newsflow.demo import demo_root
from newsflow.settings import ServiceSettings
from sinks.backends import create_topics, open_log
from sinks.log import Log, Start
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, CrawlRequest, Topics

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ".bench.test"
PORT_SETTING = "NEWSFLOW_BENCH_PORT"
ARTICLE_PATTERN = r"/news/\d{6}/t\d{8}_\d+\.html$"
#: links in a demo article that would make the spider fetch more than the article itself
EXTRA_FETCHES = re.compile(rb'href="[^"]*(?:\.(?:pdf|docx?|xlsx?|wps)|_\d+_\d+\.html)"', re.IGNORECASE)
CHILD_TIMEOUT = 900.0


# -- the sites -----------------------------------------------------------------------------
def host_name(index: int) -> str:
    return f"s{index:03d}{DOMAIN}"


def article_sources() -> list[bytes]:
    """The demo portal's articles that link to no continuation page or attachment."""
    bodies = [p.read_bytes() for p in sorted((demo_root() / "xwzx").glob("*/t*.html")) if p.stem.count("_") == 1]
    return [b for b in bodies if not EXTRA_FETCHES.search(b)]


def build_sites(root: Path, count: int, articles: int, latency: tuple[float, float], seed: int) -> dict[str, float]:
    """Write ``root/<host>/...`` for ``count`` sites; return each host's response latency."""
    sources = article_sources()
    rng = random.Random(seed)
    delays: dict[str, float] = {}
    for index in range(1, count + 1):
        host = host_name(index)
        site = root / host
        (site / "news").mkdir(parents=True)
        paths = []
        for n in range(articles):
            month = (n % 12) + 1
            path = f"/news/2024{month:02d}/t2024{month:02d}{(n % 28) + 1:02d}_{index * 1000 + n}.html"
            file = site / path.lstrip("/")
            file.parent.mkdir(parents=True, exist_ok=True)
            body = sources[(index + n) % len(sources)]
            file.write_bytes(body.replace(b"</body>", f"<!-- {host}{path} -->\n</body>".encode(), 1))
            paths.append(path)
        items = "".join(f'<li><a href="{p}">新闻 {i + 1}</a></li>' for i, p in enumerate(paths))
        title = f"<title>{host} 工作动态</title>"
        page = f'<html><head><meta charset="utf-8">{title}</head><body><ul>{items}</ul></body></html>'
        (site / "news" / "index.html").write_text(page, encoding="utf-8")
        (site / "robots.txt").write_text("User-agent: *\nDisallow: /internal/\n", encoding="utf-8")
        delays[host] = round(rng.uniform(*latency), 3)
    return delays


class BenchServer(ThreadingHTTPServer):
    """``/<host>/<path>`` from ``root/<host>/<path>``, each response held back by its host's latency.

    ETag and Last-Modified on every page, 304 to a matching ``If-None-Match``, 404 otherwise;
    loopback only; one thread per connection, closed after each response (HTTP/1.0).
    """

    daemon_threads = True
    request_queue_size = 1024

    def __init__(
        self, root: Path, latency: dict[str, float], address: tuple[str, int] = ("127.0.0.1", 0), site: str = ""
    ) -> None:
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ValueError(f"the bench serves loopback only, not {address[0]}")
        self.root = root
        self.latency = latency
        #: serve only this site, at ``/<path>`` (role mode: one server per site address)
        self.site = site
        #: per site, when its first request arrived and its last response was sent (monotonic)
        self.hits: dict[str, list[float]] = {}
        self.hits_lock = threading.Lock()
        super().__init__(address, BenchRequestHandler)
        self.thread = threading.Thread(target=self.serve_forever, name="bench-server", daemon=True)

    def server_bind(self) -> None:
        """Bind without HTTPServer's ``getfqdn``: a reverse lookup of 127.0.0.N may ask a DNS server."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        return

    def hit(self, host: str, moment: float) -> None:
        with self.hits_lock:
            times = self.hits.setdefault(host, [moment, moment])
            times[0], times[1] = min(times[0], moment), max(times[1], moment)

    def file_for(self, path: str) -> tuple[str, Path | None]:
        if self.site:
            host, rest = self.site, path.lstrip("/")
        else:
            host, _, rest = path.lstrip("/").partition("/")
        parts = Path(os.path.normpath(rest)).parts if rest else ()
        if host not in self.latency or not parts or ".." in parts or parts[0] == "/":
            return host, None
        file = self.root / host / Path(*parts)
        return host, file if file.is_file() else None

    def __enter__(self) -> BenchServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class BenchRequestHandler(BaseHTTPRequestHandler):
    server: BenchServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        host, file = self.server.file_for(unquote(urlsplit(self.path).path))
        self.server.hit(host, time.monotonic())
        time.sleep(self.server.latency.get(host, 0.0))
        try:
            self.respond(file)
        finally:
            self.server.hit(host, time.monotonic())

    def respond(self, file: Path | None) -> None:
        if file is None:
            self.answer(404, b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"})
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.answer(304, b"", {"ETag": etag})
            return
        kind = "text/plain" if file.name == "robots.txt" else "text/html"
        modified = formatdate(file.stat().st_mtime, usegmt=True)
        self.answer(200, body, {"Content-Type": kind, "ETag": etag, "Last-Modified": modified})

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def site_config(index: int, address: str = "", port: int = 0) -> SiteConfig:
    """Site ``index`` at its bench host name, or (role mode) at its own loopback ``address`` and ``port``."""
    host = address or host_name(index)
    return SiteConfig(
        id=f"s{index:03d}",
        name=f"基准站点 {index}",
        region={"province": "福建省"},
        start_urls=(f"http://{host}{f':{port}' if address else ''}/news/index.html",),
        allowed_domains=(host,),
        list_url_patterns=(r"/news/index(_\d+)?\.html$",),
        article_url_patterns=(ARTICLE_PATTERN,),
        schedule={"interval_minutes": 30},
    )


# -- the network layer of a crawl child: loopback only ---------------------------------------
def bench_resolver(host: str) -> list[str]:
    """The guard's resolver: every bench host is 127.0.0.1, nothing else resolves."""
    if host.endswith(DOMAIN):
        return ["127.0.0.1"]
    raise OSError(f"{host} is not a bench host")


class LoopbackHandler(HTTP11DownloadHandler):
    """``http://sNNN.bench.test/PATH`` is fetched from ``http://127.0.0.1:PORT/sNNN.bench.test/PATH``.

    The response keeps the site's URL. Any other URL is refused before a lookup or a connection.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.port = crawler.settings.getint(PORT_SETTING)

    async def download_request(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if parts.scheme != "http" or parts.port is not None or not host.endswith(DOMAIN) or not self.port:
            raise ConnectionRefusedError(f"bench network layer: {request.url} is not a bench site")
        local = f"http://127.0.0.1:{self.port}/{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        response = await super().download_request(request.replace(url=local))
        return response.replace(url=request.url, request=request)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without NEWSFLOW_* settings and without proxies (a proxy would take requests off loopback)."""
    drop = ("NEWSFLOW_",)
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and not k.lower().endswith("_proxy")}
    return {**env, **extra}


def cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM: unlike a child's ru_maxrss, never the parent's before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec_path: Path) -> int:
    """One crawl of K sites in this process; the stats go to the spec's ``out`` file."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    work = Path(spec["work"])
    sites = [site_config(i) for i in range(1, spec["sites"] + 1)]
    crawler_settings = CrawlerSettings(allowed_addresses="127.0.0.1", state_dir=str(work / "state"))
    streams = StreamSettings(
        db_path=str(work / "newsflow.db"), index_path=str(work / "neardup.db"), spool_path=str(work / "spool.db")
    )
    handler = f"{__name__}.LoopbackHandler"
    extra: dict[str, Any] = {"DOWNLOAD_HANDLERS": {"http": handler, "https": handler}, PORT_SETTING: spec["port"]}
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    stats: dict[str, dict[str, Any]] = {}
    reports = crawl_sites(sites, crawler_settings, streams, resolver=bench_resolver, extra=extra, stats=stats)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    keep = ("elapsed_time_seconds", "finish_reason", "newsflow/emitted", "newsflow/unchanged")
    result = {
        "seconds": seconds,
        "startup_cpu": cpu_seconds(before),
        "crawl_cpu": cpu_seconds(after) - cpu_seconds(before),
        "peak_rss_mb": peak_rss_mb(),
        "sites": [
            {
                "site": r.site,
                **{k: stats[r.site].get(k) for k in keep},
                **{k: v for k, v in stats[r.site].items() if str(k).startswith(("downloader/response", "newsflow/"))},
            }
            for r in reports
        ],
    }
    Path(spec["out"]).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


# -- the parent: one child per measurement --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Measurement:
    sites: int
    crawl: str
    wall: float
    crawl_seconds: float
    pages: int
    ok: int
    not_modified: int
    emitted: int
    unchanged: int
    site_seconds: list[float]
    crawl_cpu: float
    process_cpu: float
    peak_rss_mb: float
    server_cpu: float
    #: CPU seconds the rest of the machine used meanwhile: high means the numbers were disturbed
    other_cpu: float
    listen_overflows: int
    #: warning/error lines in the crawl's log, without the "Dropped: unchanged" ones
    warnings: int
    #: "Dropped: unchanged" warnings: Scrapy logs every dropped item (a 304) at WARNING
    dropped_logged: int

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.crawl_cpu / self.pages

    @property
    def pages_per_site(self) -> float:
        return self.pages / self.sites


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (all processes, all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    idle = int(fields[3]) + int(fields[4])  # idle + iowait
    return (sum(int(f) for f in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def listen_overflows() -> int:
    """TcpExt ListenOverflows: connections the kernel dropped because the server's accept queue was full."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return 0


def measure(work: Path, sites: int, crawl: str, port: int) -> Measurement:
    out = work / f"{crawl}.json"
    spec = work / f"{crawl}-spec.json"
    spec.write_text(json.dumps({"work": str(work), "sites": sites, "port": port, "out": str(out)}), encoding="utf-8")
    stderr_path = work / f"{crawl}.stderr"
    overflows = listen_overflows()
    busy_before = busy_cpu_seconds()
    server_before = cpu_seconds(resource.getrusage(resource.RUSAGE_SELF))
    start = time.perf_counter()
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(spec)],
            cwd=ROOT,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
        deadline = time.monotonic() + CHILD_TIMEOUT
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
    wall = time.perf_counter() - start
    busy = busy_cpu_seconds() - busy_before
    process.returncode = os.waitstatus_to_exitcode(status)
    log = stderr_path.read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0 or not out.exists():
        raise SystemExit(f"crawl child K={sites} {crawl} failed ({process.returncode}):\n{log[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    dropped = log.count("WARNING: Dropped: unchanged")
    per_site = result["sites"]

    def total(name: str) -> int:
        return sum(int(s.get(name) or 0) for s in per_site)

    process_cpu = cpu_seconds(usage)
    server_cpu = cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - server_before
    return Measurement(
        sites=sites,
        crawl=crawl,
        wall=wall,
        crawl_seconds=result["seconds"],
        pages=total("downloader/response_count"),
        ok=total("downloader/response_status_count/200"),
        not_modified=total("downloader/response_status_count/304"),
        emitted=total("newsflow/emitted"),
        unchanged=total("newsflow/unchanged"),
        site_seconds=[float(s.get("elapsed_time_seconds") or 0.0) for s in per_site],
        crawl_cpu=result["crawl_cpu"],
        process_cpu=process_cpu,
        peak_rss_mb=result["peak_rss_mb"],
        server_cpu=server_cpu,
        other_cpu=max(busy - process_cpu - server_cpu, 0.0),
        listen_overflows=listen_overflows() - overflows,
        warnings=sum(1 for line in log.splitlines() if re.search(r"\b(WARNING|ERROR)\b", line)) - dropped,
        dropped_logged=dropped,
    )


def run_k(root: Path, tmp: Path, sites: int, delays: dict[str, float]) -> list[Measurement]:
    """The first crawl and the re-crawl of sites 1..K, against one fresh log and state."""
    work = tmp / f"k{sites}"
    work.mkdir()
    with BenchServer(root, delays) as server:
        first = measure(work, sites, "first", server.port)
        again = measure(work, sites, "re-crawl", server.port)
    return [first, again]


# -- the report -----------------------------------------------------------------------------
def table(rows: list[Measurement]) -> list[str]:
    lines = [
        "| K sites | crawl | wall s | pages (200/304) | emitted | pages/s | site crawl s mean (max) "
        "| CPU s crawl | CPU s process | CPU ms/page | peak RSS MB | server CPU s | other CPU s |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in rows:
        lines.append(
            f"| {m.sites} | {m.crawl} | {m.wall:.1f} | {m.pages} ({m.ok}/{m.not_modified}) | {m.emitted} "
            f"| {m.pages / m.crawl_seconds:.1f} | {mean(m.site_seconds):.1f} ({max(m.site_seconds):.1f}) "
            f"| {m.crawl_cpu:.2f} | {m.process_cpu:.2f} | {m.cpu_ms_per_page:.2f} | {m.peak_rss_mb:.0f} "
            f"| {m.server_cpu:.1f} | {m.other_cpu:.1f} |"
        )
    return lines


def derived(rows: list[Measurement], schedule_minutes: int, target: int) -> list[str]:
    """Sites per core on a schedule, for K sites sharing a process and for a process per site crawl."""
    period = schedule_minutes * 60
    biggest = max(m.sites for m in rows)
    lines = [
        f"\nDerived for a {schedule_minutes}-minute schedule and {target:,} sites. One crawl process uses at "
        "most one core (Scrapy's reactor is one thread). Shared process: CPU per site crawl and memory per "
        f"concurrent site from the K={biggest} rows. Process per crawl (what the scheduler runs today, "
        "`newsflow crawl --site ID`): CPU and peak RSS of the whole K=1 process, interpreter and imports "
        "included. A crawl lasts as long as politeness makes it (K=1) while the CPU keeps up.\n",
        "| model | crawl | CPU s per site crawl | pages/s per core, saturated | site crawls at once per core "
        f"| sites per core | cores for {target:,} | crawls at once for {target:,} | peak RSS for {target:,} |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for crawl in ("first", "re-crawl"):
        big = next(m for m in rows if m.sites == biggest and m.crawl == crawl)
        alone = next(m for m in rows if m.sites == 1 and m.crawl == crawl)
        polite = mean(alone.site_seconds)
        at_once = target * polite / period
        per_site_mb = (big.peak_rss_mb - alone.peak_rss_mb) / max(big.sites - 1, 1)
        shared = big.crawl_cpu / big.sites
        cores = math.ceil(target * shared / period)
        lines.append(
            f"| shared process | {crawl} | {shared:.3f} | {big.pages / big.crawl_cpu:.0f} | {polite / shared:.0f} "
            f"| {period / shared:,.0f} | {cores} | {at_once:.0f} "
            f"| {cores * alone.peak_rss_mb + at_once * per_site_mb:,.0f} MB |"
        )
        own = alone.process_cpu
        lines.append(
            f"| process per crawl | {crawl} | {own:.2f} | {alone.pages / own:.0f} | {polite / own:.0f} "
            f"| {period / own:,.0f} | {math.ceil(target * own / period)} | {at_once:.0f} "
            f"| {at_once * alone.peak_rss_mb:,.0f} MB |"
        )
    first = {m.sites: m for m in rows if m.crawl == "first"}
    alone, big = first[1], first[biggest]
    lines += [
        "",
        f"- politeness: one site alone crawls {alone.pages_per_site:.0f} pages (robots.txt, list, articles) in "
        f"{mean(alone.site_seconds):.1f} s on {alone.crawl_cpu:.2f} CPU s; at K={biggest} a site crawl takes "
        f"{mean(big.site_seconds):.1f} s (max {max(big.site_seconds):.1f}) with the process at "
        f"{big.crawl_cpu / big.crawl_seconds:.0%} of a core.",
        f"- sites per core = {period} s / CPU s per site crawl (= pages/s × {period} / pages per crawl), at 100% "
        "of the core: plan for less. Cores for the shared model are processes of K sites each.",
    ]
    overflows = sum(m.listen_overflows for m in rows)
    warnings = sum(m.warnings for m in rows)
    dropped = sum(m.dropped_logged for m in rows)
    lines.append(
        "- server CPU: the bench's site server (the parent process); other CPU: the rest of the machine during "
        f"the row (near 0 on a quiet machine). TcpExt ListenOverflows during the crawls {overflows} (system-wide); "
        f"warning/error lines from the crawls {warnings}, plus {dropped} "
        "'Dropped: unchanged' warnings (Scrapy logs every dropped 304 item, with its repr)."
    )
    return lines


# -- role mode: one `newsflow run --role crawler` instance, its crawl children, the embedded log ---------
ROLE_TIMEOUT = 900.0
STOP_TIMEOUT = 120.0
#: log lines of the role that are expected, not trouble
EXPECTED_WARNINGS = ("SIGTERM received",)


def site_address(index: int) -> str:
    """Site ``index`` (from 1) is served at 127.0.0.{index + 1}: its own host, so its own politeness slot."""
    return str(ipaddress.IPv4Address("127.0.0.1") + index)


@dataclass(frozen=True, slots=True)
class RoleConfig:
    """``[service]`` max_crawls × sites_per_crawl of the crawler instance."""

    max_crawls: int
    sites_per_crawl: int

    @property
    def label(self) -> str:
        return f"{self.max_crawls}×{self.sites_per_crawl}"

    @property
    def at_once(self) -> int:
        return self.max_crawls * self.sites_per_crawl

    @classmethod
    def parse(cls, text: str) -> RoleConfig:
        crawls, _, sites = text.strip().lower().replace("×", "x").partition("x")
        return cls(int(crawls), int(sites))


class SiteAddresses:
    """Sites 1..K, each on its own loopback address (:func:`site_address`) and one shared port.

    One :class:`BenchServer` (one listening socket) per address, never a wildcard bind;
    one thread accepts for all of them, each connection then gets its own thread.
    """

    def __init__(self, root: Path, latency: dict[str, float], count: int) -> None:
        self.servers = self.bind(root, latency, count)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, name="bench-sites", daemon=True)

    @staticmethod
    def bind(root: Path, latency: dict[str, float], count: int, attempts: int = 20) -> list[BenchServer]:
        for attempt in range(attempts):
            servers: list[BenchServer] = []
            try:
                port = 0  # the first address picks a free port, the others take the same
                for index in range(1, count + 1):
                    server = BenchServer(root, latency, (site_address(index), port), site=host_name(index))
                    server.timeout = 0  # handle_request() must not wait: the selector said it is ready
                    servers.append(server)
                    port = server.port
                return servers
            except OSError:
                for server in servers:
                    server.server_close()
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @property
    def port(self) -> int:
        return self.servers[0].port

    def addresses(self, count: int) -> list[str]:
        return [str(server.server_address[0]) for server in self.servers[:count]]

    def serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            for server in self.servers:
                selector.register(server, selectors.EVENT_READ, server)
            while not self.stopping.is_set():
                for key, _ in selector.select(0.2):
                    key.data.handle_request()

    def reset(self) -> None:
        for server in self.servers:
            with server.hits_lock:
                server.hits.clear()

    def spans(self) -> dict[str, float]:
        """Per site, first request to last response since :meth:`reset`: how long its crawl was on the wire."""
        found: dict[str, float] = {}
        for server in self.servers:
            with server.hits_lock:
                found.update({host: last - first for host, (first, last) in server.hits.items()})
        return found

    def __enter__(self) -> SiteAddresses:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        for server in self.servers:
            server.server_close()


def write_role_sites(folder: Path, count: int, port: int) -> Path:
    """``<id>.yaml`` per site, as ``newsflow run --sites-dir`` reads them (validated on the way)."""
    folder.mkdir(parents=True)
    for index in range(1, count + 1):
        site = site_config(index, site_address(index), port)
        path = folder / f"{site.id}.yaml"
        data = site.model_dump(mode="json", exclude_defaults=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        if load_site(path) != site:
            raise AssertionError(f"{path} does not read back as the site it was written from")
    return folder


def role_streams(work: Path) -> StreamSettings:
    return StreamSettings(
        db_path=str(work / "newsflow.db"), index_path=str(work / "neardup.db"), spool_path=str(work / "spool.db")
    )


def role_env(work: Path, streams: StreamSettings, addresses: list[str], config: RoleConfig) -> dict[str, str]:
    """The instance's whole configuration: everything under ``work``, the site addresses allowed by the guard."""
    return clean_env(
        NEWSFLOW_STREAMS_DB_PATH=streams.db_path,
        NEWSFLOW_STREAMS_INDEX_PATH=streams.index_path,
        NEWSFLOW_STREAMS_SPOOL_PATH=streams.spool_path,
        NEWSFLOW_CRAWLER_STATE_DIR=str(work / "crawl"),
        NEWSFLOW_CRAWLER_ALLOWED_ADDRESSES=",".join(addresses),
        NEWSFLOW_SERVICE_STATE_PATH=str(work / "service.db"),
        NEWSFLOW_SERVICE_MAX_CRAWLS=str(config.max_crawls),
        NEWSFLOW_SERVICE_SITES_PER_CRAWL=str(config.sites_per_crawl),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )


def publish_requests(log: Log, topics: Topics, count: int, port: int) -> set[str]:
    """One crawl request per site, as the scheduler would send it; returns the request ids."""
    producer = log.producer()
    requested_at = utc_iso()
    ids = set()
    try:
        for index in range(1, count + 1):
            site = site_config(index, site_address(index), port)
            request = CrawlRequest(url=site.start_urls[0], site=site.id, requested_at=requested_at)
            producer.send(request.to_record(topics.crawl_requests))
            ids.add(request.id)
        producer.flush()
    finally:
        producer.close()
    return ids


def proc_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of process ``pid`` itself and of the children it has waited for, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    # fields[0] is the state (field 3): utime, stime, cutime, cstime are fields 14-17
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def log_records(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def log_moment(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True, slots=True)
class RoleMeasurement:
    """One crawl of K sites by the instance: from the requests (or the instance's start) to the K-th report."""

    config: RoleConfig
    sites: int
    crawl: str
    wall: float
    #: per crawl child: its start to its reports (``finished_at - started_at``)
    batch_seconds: list[float]
    #: per crawl child: the crawl itself (the child's own report), without interpreter start and imports
    child_seconds: list[float]
    #: per site: first request to last response at the site's server
    site_spans: list[float]
    pages: int
    emitted: int
    unchanged: int
    outcomes: dict[str, int]
    #: CPU seconds of the instance and its crawl children during the crawl (/proc)
    cpu: float

    @property
    def rate(self) -> float:
        return self.sites / self.wall

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / max(self.pages, 1)

    @property
    def batches(self) -> int:
        return len(self.batch_seconds)

    @property
    def child_overhead(self) -> float:
        """Seconds per child outside its crawl: interpreter, imports, Scrapy set-up, reaping."""
        return mean(b - c for b, c in zip(self.batch_seconds, self.child_seconds, strict=True))


@dataclass(frozen=True, slots=True)
class RoleInstance:
    """One ``newsflow run --role crawler`` process from start to exit."""

    config: RoleConfig
    sites: int
    #: start to the log line saying it reads the request partitions
    joined: float
    #: start to the first 'crawl started' log line
    startup: float
    #: CPU seconds of the role process itself and of its crawl children (/proc, before SIGTERM)
    role_cpu: float
    children_cpu: float
    #: RUSAGE_CHILDREN of the bench before and after: the instance's whole life, exit included
    rusage_cpu: float
    #: the largest RSS of the instance or any of its crawl children
    peak_rss_mb: float
    exit_code: int
    #: SIGTERM to exit
    stop_seconds: float
    #: warning/error lines, without the expected ones (SIGTERM received) and 'Dropped: unchanged'
    warnings: list[str]
    dropped_logged: int


class RoleRun:
    """A running crawler instance, its stderr in a file, and a reader of ``crawl-reports``."""

    def __init__(self, work: Path, env: dict[str, str], sites_dir: Path, log: Log, topics: Topics) -> None:
        self.stderr_path = work / "crawler.log"
        self.usage_before = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
        self.started_wall = time.time()
        self.started = time.perf_counter()
        args = ["run", "--role", "crawler", "--sites-dir", str(sites_dir), "--metrics-port", "-1"]
        with self.stderr_path.open("w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsflow.cli", *args, "--log-format", "json"],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        self.reports = log.consumer([topics.crawl_reports], start=Start("earliest"))
        self.seen: dict[str, CrawlOutcome] = {}

    def text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def fail(self, why: str) -> NoReturn:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        raise SystemExit(f"crawler instance: {why}\n{self.text()[-3000:]}")

    def wait_for(self, ids: set[str]) -> list[CrawlOutcome]:
        """Until every request in ``ids`` has its report on ``crawl-reports``."""
        deadline = time.monotonic() + ROLE_TIMEOUT
        while not ids <= self.seen.keys():
            for message in self.reports.poll(0.05, 1000):
                outcome = CrawlOutcome.from_message(message)
                if outcome.request_id in self.seen:
                    self.fail(f"a second report for request {outcome.request_id} ({outcome.site})")
                self.seen[outcome.request_id] = outcome
            if self.process.poll() is not None:
                self.fail(f"exited with {self.process.returncode} before the last report")
            if time.monotonic() > deadline:
                self.fail(f"{len(ids - self.seen.keys())} report(s) missing after {ROLE_TIMEOUT:.0f} s")
        return [self.seen[i] for i in ids]

    def moment(self, text: str, records: list[dict[str, Any]]) -> float:
        """Seconds from the start to the first log record whose message contains ``text``."""
        for record in records:
            if text in str(record.get("message", "")):
                return log_moment(record) - self.started_wall
        return math.nan

    def stop(self, config: RoleConfig, sites: int) -> RoleInstance:
        own, children = proc_cpu(self.process.pid)
        self.reports.close()
        stopping = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(self.process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(self.process.pid, 0)
                break
            time.sleep(0.05)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        stop_seconds = time.perf_counter() - stopping
        text = self.text()
        records = log_records(text)
        warnings = [
            f"{r.get('logger')}: {r.get('message')}"
            for r in records
            if r.get("level") in ("warning", "error", "critical")
            and not any(e in str(r.get("message")) for e in EXPECTED_WARNINGS)
        ]
        plain = [line for line in text.splitlines() if not line.startswith("{")]
        dropped = sum("Dropped: unchanged" in line for line in plain)
        warnings += [
            line
            for line in plain
            if re.search(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b", line) and "Dropped: unchanged" not in line
        ]
        return RoleInstance(
            config=config,
            sites=sites,
            joined=self.moment("partition(s) of crawl requests", records),
            startup=self.moment("crawl started", records),
            role_cpu=own,
            children_cpu=children,
            rusage_cpu=cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - self.usage_before,
            peak_rss_mb=usage.ru_maxrss / 1024,
            exit_code=self.process.returncode,
            stop_seconds=stop_seconds,
            warnings=warnings,
            dropped_logged=dropped,
        )


def role_measurement(
    config: RoleConfig, crawl: str, outcomes: list[CrawlOutcome], wall: float, spans: dict[str, float], cpu: float
) -> RoleMeasurement:
    batches: dict[tuple[str, str | None], list[CrawlOutcome]] = {}
    for outcome in outcomes:  # the reports of one crawl child share its start (and its crawler)
        batches.setdefault((outcome.started_at, outcome.crawler), []).append(outcome)

    def seconds(start: str, end: str) -> float:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()

    kinds: dict[str, int] = {}
    for outcome in outcomes:
        kinds[outcome.outcome] = kinds.get(outcome.outcome, 0) + 1
    return RoleMeasurement(
        config=config,
        sites=len(outcomes),
        crawl=crawl,
        wall=wall,
        batch_seconds=[max(seconds(start, o.finished_at) for o in group) for (start, _), group in batches.items()],
        child_seconds=[max(o.seconds for o in group) for group in batches.values()],
        site_spans=[spans.get(host_name(int(o.site[1:])), 0.0) for o in outcomes],
        pages=sum(o.fetched for o in outcomes),
        emitted=sum(o.emitted for o in outcomes),
        unchanged=sum(o.unchanged for o in outcomes),
        outcomes=kinds,
        cpu=cpu,
    )


def run_role(
    tmp: Path, sites: SiteAddresses, count: int, config: RoleConfig, recrawl: bool
) -> tuple[list[RoleMeasurement], RoleInstance]:
    """Publish K requests, start one crawler instance, wait for the K reports (and a re-crawl's), stop it."""
    work = tmp / f"role-{config.max_crawls}x{config.sites_per_crawl}-k{count}"
    work.mkdir()
    sites_dir = write_role_sites(work / "sites", count, sites.port)
    streams = role_streams(work)
    env = role_env(work, streams, sites.addresses(count), config)
    log = open_log(streams)
    try:
        topics = create_topics(log, streams)
        sites.reset()
        ids = publish_requests(log, topics, count, sites.port)
        run = RoleRun(work, env, sites_dir, log, topics)
        try:
            outcomes = run.wait_for(ids)
            wall = time.perf_counter() - run.started
            own, children = proc_cpu(run.process.pid)
            rows = [role_measurement(config, "first", outcomes, wall, sites.spans(), own + children)]
            if recrawl:
                sites.reset()
                start = time.perf_counter()
                ids = publish_requests(log, topics, count, sites.port)
                outcomes = run.wait_for(ids)
                wall = time.perf_counter() - start
                own2, children2 = proc_cpu(run.process.pid)
                cpu = own2 + children2 - own - children
                rows.append(role_measurement(config, "re-crawl", outcomes, wall, sites.spans(), cpu))
        except BaseException:
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait()
            raise
        instance = run.stop(config, count)
    finally:
        log.close()
    if instance.exit_code != 0:
        print(f"warning: crawler instance {config.label} K={count} exited {instance.exit_code}", file=sys.stderr)
    return rows, instance


def reference(root: Path, tmp: Path, count: int, delays: dict[str, float]) -> Measurement:
    """Process mode's first crawl of the same K sites, all at once in one ``crawl_sites`` process."""
    work = tmp / f"reference-k{count}"
    work.mkdir()
    with BenchServer(root, delays) as server:
        return measure(work, count, "first", server.port)


# -- the role report ------------------------------------------------------------------------------------
def role_table(rows: list[RoleMeasurement], period: int) -> list[str]:
    lines = [
        "| role max_crawls×sites_per_crawl | K sites | crawl | wall s | crawl children | child s mean (max) "
        "| child overhead s | site s mean (max) | sites on the wire at once | site crawls/s | pages "
        f"| new/changed (unchanged) | outcomes | CPU s | CPU ms/page | cores busy | sites per {period // 60} min |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: "
        "| ---: | ---: |",
    ]
    for m in rows:
        outcomes = ", ".join(f"{n} {kind}" for kind, n in sorted(m.outcomes.items()))
        lines.append(
            f"| {m.config.label} | {m.sites} | {m.crawl} | {m.wall:.1f} | {m.batches} "
            f"| {mean(m.batch_seconds):.1f} ({max(m.batch_seconds):.1f}) | {m.child_overhead:.1f} "
            f"| {mean(m.site_spans):.1f} ({max(m.site_spans):.1f}) | {sum(m.site_spans) / m.wall:.0f} "
            f"| {m.rate:.2f} | {m.pages} | {m.emitted} ({m.unchanged}) | {outcomes} | {m.cpu:.1f} "
            f"| {m.cpu_ms_per_page:.1f} | {m.cpu / m.wall:.2f} | {m.rate * period:,.0f} |"
        )
    return lines


def instance_table(instances: list[RoleInstance]) -> list[str]:
    lines = [
        "| role | K sites | joined s | first crawl started s | CPU s role process | CPU s crawl children "
        "| CPU s RUSAGE_CHILDREN | peak RSS MB (largest process) | SIGTERM to exit s | exit code "
        "| warning/error lines |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i in instances:
        lines.append(
            f"| {i.config.label} | {i.sites} | {i.joined:.1f} | {i.startup:.1f} | {i.role_cpu:.1f} "
            f"| {i.children_cpu:.1f} | {i.rusage_cpu:.1f} | {i.peak_rss_mb:.0f} | {i.stop_seconds:.1f} "
            f"| {i.exit_code} | {len(i.warnings)} |"
        )
    return lines


def role_derived(rows: list[RoleMeasurement], period: int, target: int) -> list[str]:
    """Per role configuration, from its largest K: what one instance sustains on the schedule."""
    lines = [
        f"\nDerived per role configuration from its largest K (first crawl): one instance sustains "
        f"site crawls/s × {period} s sites on a {period // 60}-minute schedule (the wall time includes the "
        "instance's start once).\n",
        f"| role | K | site crawls/s | sites per instance, {period // 60}-min schedule | instances for {target:,} "
        "| CPU s per site crawl | cores busy | site crawls at once, cap (measured) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config in dict.fromkeys(m.config for m in rows):
        m = max((m for m in rows if m.config == config and m.crawl == "first"), key=lambda m: m.sites)
        per_instance = m.rate * period
        lines.append(
            f"| {config.label} | {m.sites} | {m.rate:.2f} | {per_instance:,.0f} | {math.ceil(target / per_instance)} "
            f"| {m.cpu / m.sites:.3f} | {m.cpu / m.wall:.2f} | {config.at_once} ({sum(m.site_spans) / m.wall:.0f}) |"
        )
    return lines


def comparison(rows: list[RoleMeasurement], process: Measurement | None) -> list[str]:
    """One line: the same K sites in one ``crawl_sites`` process versus through the crawler role."""
    if process is None:
        return ["- no process-mode crawl of the same K to compare with (--no-reference)."]
    same = [m for m in rows if m.sites == process.sites and m.crawl == "first"]
    if not same:
        return [f"- no role crawl of K={process.sites} to compare with the process-mode crawl."]
    own_rate = process.sites / process.wall
    own_ms = 1000 * process.process_cpu / process.pages
    parts = [
        f"{m.config.label}: {m.wall:.0f} s = {m.rate:.2f}/s ({m.rate / own_rate:.2f}×), {m.cpu:.1f} CPU s "
        f"({m.cpu_ms_per_page:.1f} ms/page, {m.cpu_ms_per_page / own_ms:.2f}×)"
        for m in same
    ]
    return [
        f"- batching cost, K={process.sites} first crawl: one process with all {process.sites} sites at once "
        f"(process mode, `crawl_sites`) {process.wall:.0f} s = {own_rate:.2f} site crawls/s, "
        f"{process.process_cpu:.1f} CPU s ({own_ms:.1f} ms/page, interpreter included); one crawler instance "
        + "; ".join(parts)
        + "."
    ]


def role_notes(rows: list[RoleMeasurement], instances: list[RoleInstance]) -> list[str]:
    lines = [
        "- crawl children: `newsflow crawl` processes the instance started (one per batch of at most "
        "sites_per_crawl sites, at most max_crawls at once); child s: a child's start to its reports; child "
        "overhead: that minus the crawl's own time (interpreter, imports, Scrapy set-up, reaping). A batch "
        "lasts as long as its slowest site, and a new one starts only when a child ends.",
        "- site s: first request to last response at the site's own server; sites on the wire at once: their "
        "sum over the wall time. CPU s: the instance and its waited-for children during the crawl "
        "(/proc/PID/stat); RUSAGE_CHILDREN covers the instance's whole life, start and exit included.",
    ]
    odd = [i for i in instances if i.exit_code != 0 or i.warnings]
    for i in odd:
        sample = "; ".join(dict.fromkeys(w[:160] for w in i.warnings[:50]))
        lines.append(
            f"- {i.config.label} K={i.sites}: exit code {i.exit_code}, {len(i.warnings)} warning/error line(s)"
            + (f": {sample[:600]}" if sample else "")
        )
    if not odd:
        lines.append(
            "- every instance exited 0 on SIGTERM with no warning or error in its log (the children's included)."
        )
    dropped = sum(i.dropped_logged for i in instances)
    if dropped:
        lines.append(f"- plus {dropped} 'Dropped: unchanged' warnings from the re-crawls' children (one per 304).")
    failed = [m for m in rows if set(m.outcomes) != {"finished"}]
    for m in failed:
        lines.append(f"- {m.config.label} K={m.sites} {m.crawl}: outcomes {m.outcomes}")
    return lines


def main() -> None:
    service = ServiceSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--mode",
        choices=("process", "role", "both"),
        default="process",
        help="process: crawl_sites in one process; role: one `newsflow run --role crawler` (default %(default)s)",
    )
    parser.add_argument("--sites", default="1,50,100,200", help="process mode: sites crawled at once, K (%(default)s)")
    parser.add_argument(
        "--role-sites",
        default="25,100,200",
        help="role mode: K crawl requests for the first configuration (%(default)s)",
    )
    parser.add_argument(
        "--role-configs",
        default=f"{service.max_crawls}x{service.sites_per_crawl},4x50",
        help="role mode: max_crawls x sites_per_crawl of the instance; the first runs every K, the others the "
        "largest (default %(default)s: the [service] defaults, then more)",
    )
    parser.add_argument("--recrawl", action="store_true", help="role mode: then re-crawl on the same instance (304s)")
    parser.add_argument(
        "--no-reference", action="store_true", help="role mode: skip the process-mode crawl of the largest K"
    )
    parser.add_argument("--articles", type=int, default=20, help="new articles per site (default %(default)s)")
    parser.add_argument(
        "--latency", default="0.1,0.3", help="server seconds per response, min,max drawn per site (default %(default)s)"
    )
    parser.add_argument("--schedule-minutes", type=int, default=30)
    parser.add_argument("--target", type=int, default=3000, help="sites to extrapolate to (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="K=1,5 (role: 3,6 and 2x25,2x2) with 5 articles: a check that it runs"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        sys.exit(child(args.child))
    if args.quick:
        args.sites, args.articles = "1,5", 5
        args.role_sites, args.role_configs = "3,6", "2x25,2x2"
    ks = sorted({int(k) for k in args.sites.split(",")} | {1}) if args.mode != "role" else []
    role_ks = sorted({int(k) for k in args.role_sites.split(",")}) if args.mode != "process" else []
    configs = [RoleConfig.parse(c) for c in args.role_configs.split(",")]
    plan = [(configs[0], k) for k in role_ks] + [(c, max(role_ks)) for c in configs[1:] if role_ks]
    low, high = (float(x) for x in args.latency.split(","))
    period = args.schedule_minutes * 60
    load = os.getloadavg()[0]
    started = time.perf_counter()
    rows: list[Measurement] = []
    role_rows: list[RoleMeasurement] = []
    instances: list[RoleInstance] = []
    process: Measurement | None = None
    with tempfile.TemporaryDirectory(prefix="bench-service-") as name:
        tmp = Path(name)
        delays = build_sites(tmp / "sites", max(ks + role_ks), args.articles, (low, high), args.seed)
        for k in ks:
            rows += run_k(tmp / "sites", tmp, k, delays)
            print(f"K={k}: done at {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        if role_ks:
            with SiteAddresses(tmp / "sites", delays, max(role_ks)) as sites:
                for config, k in plan:
                    measured, instance = run_role(tmp, sites, k, config, args.recrawl)
                    role_rows += measured
                    instances.append(instance)
                    done = time.perf_counter() - started
                    print(f"role {config.label} K={k}: done at {done:.0f} s", file=sys.stderr, flush=True)
            biggest = max(role_ks)
            process = next((m for m in rows if m.sites == biggest and m.crawl == "first"), None)
            if process is None and not args.no_reference:
                process = reference(tmp / "sites", tmp, biggest, delays)
                done = time.perf_counter() - started
                print(f"process K={biggest} (reference): done at {done:.0f} s", file=sys.stderr, flush=True)
        shutil.rmtree(tmp / "sites")
    polite = CrawlerSettings()
    print(
        f"\n{args.articles} articles + 1 list page + robots.txt per site, server latency {low:g}-{high:g} s per "
        f"response (per site); default politeness (delay {polite.download_delay:g} s, AutoThrottle "
        f"{'on' if polite.autothrottle else 'off'}, {polite.concurrency_per_domain} per domain, robots.txt); "
        f"{os.cpu_count()} CPUs, load average {load:.2f} before the first crawl"
    )
    if rows:
        print("\n## Process mode: each row one crawl process on the embedded SQLite log\n")
        print("\n".join(table(rows)))
        print("\n".join(derived(rows, args.schedule_minutes, args.target)))
    if role_rows:
        print(
            "\n## Role mode: one `newsflow run --role crawler` instance per row group, K crawl requests waiting on "
            "`crawl-requests` when it starts, site n served at its own address 127.0.0.{n+1} (its own politeness "
            "slot), the embedded SQLite log; wall: the instance's start (or the re-crawl's requests) to the K-th "
            "report on `crawl-reports`\n"
        )
        print("\n".join(role_table(role_rows, period)))
        print()
        print("\n".join(instance_table(instances)))
        print("\n".join(role_derived(role_rows, period, args.target)))
        print()
        print("\n".join(comparison(role_rows, process) + role_notes(role_rows, instances)))
    print(f"\nreproduce: python bench/bench_service.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
