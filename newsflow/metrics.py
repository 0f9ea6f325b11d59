"""The service's numbers, in Prometheus text format on ``/metrics``, and its ``/healthz``.

Counters are per process and count what this process did (Prometheus adds up
the instances): the crawler role counts pages and crawls from each crawl's
report, the cleaner role counts the outputs it delivered (after the log
acknowledged them, so they match the topics), the scheduler counts requests and
keeps the canary alarms. Consumer-group lag is read from the log at scrape time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from newsflow.canary import Alarm
from sinks.log import Log, LogError, Record
from sinks.topics import CrawlOutcome, Topics

log = logging.getLogger(__name__)

CRAWL_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
CHECKS = ("article_rate", "median_body", "undated_share")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pages_fetched = Counter(
            "newsflow_pages_fetched", "HTTP responses the crawler received", ["site"], registry=r
        )
        self.pages_emitted = Counter(
            "newsflow_pages_emitted", "New or changed pages written to the raw topic", ["site"], registry=r
        )
        self.articles = Counter("newsflow_articles", "Articles the cleaner published", ["site"], registry=r)
        self.tombstones = Counter("newsflow_tombstones", "Articles retracted (page gone)", ["site"], registry=r)
        self.rejections = Counter(
            "newsflow_rejections", "Records sent to the rejected topic", ["stage", "reason"], registry=r
        )
        self.crawls = Counter("newsflow_crawls", "Crawls that ended, by outcome", ["site", "outcome"], registry=r)
        self.crawl_seconds = Histogram(
            "newsflow_crawl_duration_seconds", "Wall time of one site's crawl", buckets=CRAWL_BUCKETS, registry=r
        )
        self.requests = Counter(
            "newsflow_crawl_requests_published", "Crawl requests the scheduler published", ["site"], registry=r
        )
        self.skipped = Counter(
            "newsflow_crawls_skipped", "Scheduled crawls skipped because the last still ran", ["site"], registry=r
        )
        self.canary = Gauge(
            "newsflow_canary_alarm",
            "1 while the site's latest judged crawl raised this alarm (a possible redesign)",
            ["site", "check"],
            registry=r,
        )

    def observe_crawl(self, outcome: CrawlOutcome) -> None:
        site = outcome.site
        self.crawls.labels(site, outcome.outcome).inc()
        self.pages_fetched.labels(site).inc(outcome.fetched)
        self.pages_emitted.labels(site).inc(outcome.emitted)
        for reason, count in outcome.rejected:
            self.rejections.labels("crawl", reason).inc(count)
        if outcome.outcome == "finished":
            self.crawl_seconds.observe(outcome.seconds)

    def observe_outputs(self, records: Iterable[Record], topics: Topics) -> None:
        """Outputs the log acknowledged (the cleaner's articles, rejections and tombstones)."""
        for record in records:
            site = record.header("ce_site") or ""
            if record.topic == topics.rejected:
                self.rejections.labels("clean", record.header("ce_reason") or "unknown").inc()
            elif record.value is None:
                self.tombstones.labels(site).inc()
            else:
                self.articles.labels(site).inc()

    def observe_judged(self, site: str, alarms: Sequence[Alarm]) -> None:
        raised = {a.check for a in alarms}
        for check in CHECKS:
            self.canary.labels(site, check).set(1 if check in raised else 0)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class LagCollector:
    """``newsflow_consumer_lag{group,topic}``: records not yet committed by the group, read at scrape time."""

    def __init__(self, open_log: Callable[[], Log], groups: Sequence[tuple[str, str]]) -> None:
        self.open_log = open_log
        self.groups = groups
        self._log: Log | None = None

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "newsflow_consumer_lag", "Records on the topic the group has not committed", labels=["group", "topic"]
        )
        for group, topic in self.groups:
            try:
                if self._log is None:
                    self._log = self.open_log()
                family.add_metric([group, topic], float(lag(self._log, group, topic)))
            except LogError as error:
                log.warning("cannot read the lag of %s on %s: %s", group, topic, error)
        yield family

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


def lag(log_: Log, group: str, topic: str) -> int:
    committed = log_.committed(group, topic)
    starts = log_.beginning_offsets(topic)
    return sum(max(0, end - max(committed.get(p, 0), starts.get(p, 0))) for p, end in log_.end_offsets(topic).items())


class MetricsServer:
    """``/metrics`` and ``/healthz`` on one port, served from one background thread."""

    def __init__(self, metrics: Metrics, health: Callable[[], dict[str, Any]], host: str, port: int) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.metrics = metrics
        self.health = health
        self.server = HTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        if path == "/metrics":
            self._send(request, 200, self.metrics.text(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            state = self.health()
            body = json.dumps(state, ensure_ascii=False).encode("utf-8")
            self._send(request, 200 if state.get("status") == "ok" else 503, body, "application/json")
        else:
            self._send(request, 404, b"not found: try /metrics or /healthz\n", "text/plain; charset=utf-8")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def start(self) -> MetricsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
