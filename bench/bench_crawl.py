"""Crawl throughput on loopback, politeness delays off, and peak memory.

Builds a news column of N article pages (the bundled demo portal's articles, copied
under distinct URLs) with paginated list pages, serves it on 127.0.0.1 from a separate
process (so the server does not compete for this process's GIL) and:

1. baseline: fetches every article URL with ``urllib`` from 16 threads, in this process;
2. newsflow: one crawl through the real pipeline (robots.txt, address guard, crawl
   state, raw records appended to the embedded log), Scrapy with 16 requests per domain.

    python bench/bench_crawl.py [--articles N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.run import crawl_sites
from crawler.settings import CrawlerSettings
from crawler.sites import SiteConfig
from newsflow.demo import demo_root
from sinks.settings import StreamSettings

PER_LIST = 20


def build_site(root: Path, articles: int) -> list[str]:
    sources = sorted(p for p in (demo_root() / "xwzx").glob("*/t*.html") if p.stem.count("_") == 1)
    paths = [f"/news/2020{(i % 12) + 1:02d}/t2020{(i % 12) + 1:02d}01_{100000 + i}.html" for i in range(articles)]
    for i, path in enumerate(paths):
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[i % len(sources)], target)
    chunks = [paths[i : i + PER_LIST] for i in range(0, len(paths), PER_LIST)]
    for n, chunk in enumerate(chunks):
        items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in chunk)
        more = f'<a href="index_{n + 1}.html">下一页</a>' if n + 1 < len(chunks) else ""
        name = "index.html" if n == 0 else f"index_{n}.html"
        page = f'<html><head><meta charset="utf-8"></head><body><ul>{items}</ul>{more}</body></html>'
        (root / "news" / name).write_text(page, encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /internal/\n", encoding="utf-8")
    return paths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def baseline(urls: list[str]) -> float:
    def get(url: str) -> int:
        with urllib.request.urlopen(url, timeout=30) as response:
            return len(response.read())

    start = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, urls))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = build_site(work / "site", args.articles)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "newsflow.site_server", str(work / "site"), str(port)])
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url + "/robots.txt")
            base = baseline([url + p for p in paths])
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            site = SiteConfig(
                id="bench",
                name="bench",
                region={"province": "福建省"},
                start_urls=(url + "/news/index.html",),
                allowed_domains=("127.0.0.1",),
                list_url_patterns=(r"/news/index(_\d+)?\.html$",),
                article_url_patterns=(r"/news/\d{6}/t\d{8}_\d+\.html$",),
                pagination={"max_pages": 1000},
                schedule={"interval_minutes": 60},
                max_pages=100_000,
            )
            crawler = CrawlerSettings(
                allowed_addresses="127.0.0.1",
                download_delay=0.0,
                autothrottle=False,
                concurrency_per_domain=16,
                state_dir=str(work / "state"),
            )
            streams = StreamSettings(db_path=str(work / "log.db"), index_path=str(work / "i.db"))
            stats: dict[str, dict[str, Any]] = {}
            [report] = crawl_sites([site], crawler, streams, stats=stats)
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        finally:
            server.terminate()
            server.wait()
    fetched = report.fetched
    print(f"\n{args.articles} article pages + {len(paths) // PER_LIST + 1} list pages on 127.0.0.1, one process\n")
    print("| run | pages | seconds | pages/s | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    pages = len(paths)
    print(f"| urllib, 16 threads (fetch only) | {pages} | {base:.2f} | {pages / base:.0f} | {rss_before / 1024:.0f} |")
    print(
        f"| newsflow crawl (robots, guard, state, raw to SQLite) | {fetched} | {report.seconds:.2f} "
        f"| {fetched / report.seconds:.0f} | {rss_after / 1024:.0f} |"
    )
    memory = stats[site.id].get("memusage/max", 0) / 1e6
    print(f"\nemitted {report.emitted} raw pages; Scrapy memusage/max {memory:.0f} MB")
    print("\nreproduce: python bench/bench_crawl.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
