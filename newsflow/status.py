"""``newsflow status``: per site the last crawl, next run and canary; topic sizes; consumer-group lag.

Site history comes from the service's state file (:class:`~newsflow.monitor.SiteMonitor`).
When no service keeps that file current right now, status first catches it up
from the topics itself, so it also works after a one-off ``crawl`` or ``demo``,
and on a machine other than the scheduler's (with Kafka).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crawler.sites import SiteConfig
from newsflow.metrics import lag
from newsflow.monitor import CrawlRow, SiteMonitor
from newsflow.settings import ServiceSettings
from sinks.backends import open_log, topics_for
from sinks.log import Log
from sinks.settings import StreamSettings

#: what the canary column says, in the order a site goes through them
CANARY_STATES = {
    "pending": "no crawl judged yet (its pages are still being cleaned, or it never ran)",
    "learning": "judged, but the site has too few earlier crawls to compare with",
    "ok": "share of articles, body length and share with a date as in the site's earlier crawls",
    "alarm": "one of those dropped: see the ! line under the table, then the site file's selectors",
}


def topic_sizes(log_: Log, names: Sequence[str]) -> dict[str, int | None]:
    """Records on each topic now (end minus beginning offsets); ``None`` for a topic that does not exist."""
    existing = log_.topics()
    sizes: dict[str, int | None] = {}
    for name in names:
        if name not in existing:
            sizes[name] = None
            continue
        starts = log_.beginning_offsets(name)
        sizes[name] = sum(end - starts.get(p, 0) for p, end in log_.end_offsets(name).items())
    return sizes


def consumer_groups(
    log_: Log, streams: StreamSettings, service: ServiceSettings, sizes: Mapping[str, int | None]
) -> list[tuple[str, str]]:
    """Every group that committed on a topic (a user's ``indexer`` too), and the service's own even before."""
    topics = topics_for(streams)
    found = {(streams.group, topics.raw), (service.crawler_group, topics.crawl_requests)}
    found |= {(group, topic) for topic, size in sizes.items() if size is not None for group in log_.groups(topic)}
    return sorted((group, topic) for group, topic in found if sizes.get(topic) is not None)


def site_rows(
    names: Mapping[str, str],
    latest: Mapping[str, CrawlRow],
    next_runs: Mapping[str, str],
    alarms: Mapping[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """One row per site configured or crawled: its last crawl, next run and canary state."""
    rows = []
    for site_id in sorted(set(names) | set(latest)):
        row = latest.get(site_id)
        canary = "pending"
        if row is not None and row.judged:
            canary = "alarm" if alarms.get(site_id) else "ok" if row.checked else "learning"
        rows.append(
            {
                "site": site_id,
                "name": names.get(site_id),
                "last_crawl": row.to_dict() if row else None,
                "next_run": next_runs.get(site_id),
                "canary": canary,
                "alarms": alarms.get(site_id, []),
            }
        )
    return rows


def snapshot(
    streams: StreamSettings,
    state: str,
    live: bool,
    sites: list[dict[str, Any]],
    sizes: dict[str, int | None],
    groups: list[dict[str, Any]],
) -> dict[str, Any]:
    backend = "embedded " + streams.db_path if streams.embedded else "kafka " + str(streams.bootstrap_servers)
    return {"backend": backend, "state": state, "service_live": live, "sites": sites, "topics": sizes, "groups": groups}


def collect_status(streams: StreamSettings, service: ServiceSettings, sites: Sequence[SiteConfig]) -> dict[str, Any]:
    topics = topics_for(streams)
    names = {site.id: site.name for site in sites}
    if streams.embedded and not streams.path("db_path").exists():  # nothing ran here yet: create no file
        return snapshot(
            streams, service.state_path, False, site_rows(names, {}, {}, {}), dict.fromkeys(topics.all()), []
        )
    log_ = open_log(streams)
    monitor = SiteMonitor(Path(service.state_path), topics)
    try:
        live = monitor.live()
        if not live and topics.crawl_reports in log_.topics():
            monitor.catch_up(log_)
        latest = {row.site: row for row in monitor.crawls(limit=1)}
        rows = site_rows(names, latest, monitor.next_runs(), monitor.site_alarms())
        sizes = topic_sizes(log_, topics.all())
        lags = [
            {"group": group, "topic": topic, "lag": lag(log_, group, topic)}
            for group, topic in consumer_groups(log_, streams, service, sizes)
        ]
        return snapshot(streams, str(monitor.path), live, rows, sizes, lags)
    finally:
        monitor.close()
        log_.close()
