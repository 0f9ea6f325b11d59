"""Run one crawl in this process, with a network layer that can only reach 127.0.0.1.

    python -m tests.integration.crawl_run REPORT.json SITE.yaml [SITE.yaml ...]

Exits as ``newsflow crawl`` does: 0 when every site finished, else its worst site's code.

Used by the crawl tests in a subprocess (Twisted's reactor runs once per process).
Stream settings come from ``NEWSFLOW_STREAMS_*`` as in production. Two things are
swapped in so that no packet can leave the machine even if the address guard were
broken: the download handler for http/https refuses every host but ``127.0.0.1``
before any DNS lookup or connection, and the guard's resolver is a table. Both
record what they were asked; the report holds the crawl stats per site. Only
``rebind.example`` passes the handler as a name, and only while the reactor resolves
through the guard, whose resolver is the table (answers on loopback only).

With ``NEWSFLOW_TEST_MAP_TO=127.0.0.1:PORT`` the handler serves recorded copies of
real sites instead: ``https://www.siping.gov.cn/a/b.html`` is answered from
``http://127.0.0.1:PORT/www.siping.gov.cn/a/b.html`` (and recorded as such); the
response keeps the real URL, so the spider sees the site as it is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response

from crawler.run import crawl_sites, exit_code
from crawler.settings import CrawlerSettings
from crawler.sites import load_site
from newsflow.settings import stream_settings

RECORD = Path(os.environ.get("NEWSFLOW_TEST_RECORD", "network-record.jsonl"))
MAP_TO = os.environ.get("NEWSFLOW_TEST_MAP_TO")
ALLOWED = os.environ.get("NEWSFLOW_TEST_ALLOWED", "127.0.0.1")
#: what the fake resolver answers; anything else does not resolve
HOSTS = {"intranet.example": ["10.20.30.40"], "metadata.example": ["169.254.169.254"]}
PUBLIC = ["1.2.3.4"]  # what a recorded site's host "resolves" to (never connected to)
#: a name that rebinds: its first answer, then every later one (loopback only, whatever the order of asking)
REBINDING = {"rebind.example": (["127.0.0.2"], ["127.0.0.1"])}
ANSWERED: set[str] = set()


def record(kind: str, target: str) -> None:
    with RECORD.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, "target": target}) + "\n")


def table_resolver(host: str) -> list[str]:
    record("resolve", host)
    if host in REBINDING:
        first, later = REBINDING[host]
        answer = later if host in ANSWERED else first
        ANSWERED.add(host)
        return answer
    if MAP_TO and host not in HOSTS:
        return PUBLIC
    if host not in HOSTS:
        raise OSError(f"{host} is not in the test's host table")
    return HOSTS[host]


class LoopbackOnlyHandler(HTTP11DownloadHandler):
    """Refuses (and records) every request whose host is not the literal 127.0.0.1."""

    async def download_request(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        host = parts.hostname
        if MAP_TO and host != "127.0.0.1":
            local = f"http://{MAP_TO}/{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            record("fetch-recorded-copy", request.url)
            response = await super().download_request(request.replace(url=local))
            return response.replace(url=request.url, request=request)
        from twisted.internet import reactor  # the one Scrapy installed (importing it earlier would pick another)

        if host in REBINDING and type(reactor.resolver).__name__ == "GuardedResolver":
            record("connect-through-the-guard", request.url)  # the table answers it, with loopback only
            return await super().download_request(request)
        if host != "127.0.0.1":
            record("refused-by-network-layer", request.url)
            raise ConnectionRefusedError(f"test network layer: {request.url} is not loopback")
        record("fetch", request.url)
        return await super().download_request(request)


def main() -> int:
    report_path, site_paths = Path(sys.argv[1]), sys.argv[2:]
    sites = [load_site(Path(path)) for path in site_paths]
    crawler_settings = CrawlerSettings(
        allowed_addresses=ALLOWED,
        download_delay=0.0,
        autothrottle=False,
        concurrency_per_domain=4,
        retries=1,
        download_timeout=int(os.environ.get("NEWSFLOW_TEST_TIMEOUT", "10")),
        max_download_bytes=int(os.environ.get("NEWSFLOW_TEST_MAX_BYTES", str(10 * 1024 * 1024))),
        state_dir=os.environ["NEWSFLOW_TEST_STATE_DIR"],
        log_level="INFO",
    )
    handler = f"{__name__}.LoopbackOnlyHandler"
    extra: dict[str, Any] = {"DOWNLOAD_HANDLERS": {"http": handler, "https": handler}}
    stats: dict[str, dict[str, Any]] = {}
    streams = stream_settings()
    outcomes = crawl_sites(sites, crawler_settings, streams, resolver=table_resolver, extra=extra, stats=stats)
    out = {
        o.site: {
            **{k: (v if isinstance(v, int | float | str) else str(v)) for k, v in stats[o.site].items()},
            "outcome": o.to_dict(),
        }
        for o in outcomes
    }
    report_path.write_text(json.dumps(out), encoding="utf-8")
    return exit_code(outcomes)  # as ``newsflow crawl`` exits


if __name__ == "__main__":
    sys.exit(main())
