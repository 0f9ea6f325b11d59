"""Service commands: ``run`` (the long-running service) and ``status``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from crawler.settings import CrawlerSettings
from crawler.sites import SiteConfig
from newsflow.console import table
from newsflow.crawl_cli import pick_sites, sites_dir_option
from newsflow.demo import DemoInUse, demo_lock, demo_root, demo_site
from newsflow.logs import setup_logging
from newsflow.options import (
    DEMO_DATA,
    config_option,
    demo_data,
    explain,
    load_cleaner,
    load_crawler,
    load_service,
    load_streams,
)
from newsflow.service import Service, ServiceConfig
from newsflow.settings import ROLES
from newsflow.signals import stop_on_signals
from newsflow.site_server import SiteServer
from newsflow.status import CANARY_STATES, collect_status
from sinks.log import LogError


@click.command()
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="Role to run; repeat for several (default: all three, or [service] roles).",
)
@click.option("--site", "ids", multiple=True, help="Only these site ids (default: every site file).")
@sites_dir_option
@click.option(
    "--metrics-port", type=click.IntRange(-1, 65535), help="Port of /metrics and /healthz (0: any free port; -1: none)."
)
@click.option("--allow-address", "allowed", multiple=True, help="Let the crawl's address guard allow this IP.")
@click.option("--log-format", type=click.Choice(["json", "text"]), help="Log lines as JSON (default) or text.")
@click.option("--demo", is_flag=True, help="Run on the bundled demo portal, served on 127.0.0.1 (data in data/demo).")
@config_option
def run(
    roles: tuple[str, ...],
    ids: tuple[str, ...],
    sites_dir: Path | None,
    metrics_port: int | None,
    allowed: tuple[str, ...],
    log_format: str | None,
    demo: bool,
    config: Path | None,
) -> None:
    """Run the service until SIGTERM: scheduled crawls, cleaning, /metrics and /healthz.

    \b
    Examples:
      newsflow run                              everything, on the embedded log
      newsflow run --demo --log-format text     the same on the bundled demo portal (offline)
      newsflow run --role scheduler             one per deployment, over Kafka
      newsflow run --role crawler               as many as the sites need
      newsflow run --role cleaner               one per core
    """
    flags: dict[str, Any] = {"metrics_port": metrics_port, "log_format": log_format}
    if roles:
        flags["roles"] = ",".join(roles)
    service = load_service(config, demo_data(demo), **flags)
    setup_logging(service.log_format, service.log_level)
    crawler = load_crawler(config, **({"allowed_addresses": ",".join(allowed)} if allowed else {}))
    streams = load_streams(config, demo_data(demo))
    with contextlib.ExitStack() as stack:
        if demo:
            try:
                stack.enter_context(demo_lock())  # until the service stops: `newsflow demo` must not reset it
            except DemoInUse as error:
                raise click.ClickException(str(error)) from None
            server = stack.enter_context(SiteServer(demo_root()))
            sites_dir = run_demo_site(server.port)
            service = dataclasses.replace(service, jitter=0.0)
            crawler = demo_crawler(crawler)
        cfg = ServiceConfig(
            service=service,
            streams=streams,
            cleaner=load_cleaner(config),
            sites=tuple(pick_sites(sites_dir, ids)),
            crawler=crawler,
            sites_dir=sites_dir,
        )
        with stop_on_signals() as stop:
            app = Service(cfg, stop)
            try:
                app.start()
            except LogError as error:
                raise click.ClickException(f"cannot start: {explain(error)}") from error
            except OSError as error:
                raise click.ClickException(f"cannot start: {error}; choose another --metrics-port.") from error
            app.wait()


def run_demo_site(port: int) -> Path:
    """The demo portal as the only site: its config in data/demo/sites."""
    folder = DEMO_DATA / "sites"
    folder.mkdir(parents=True, exist_ok=True)
    site = demo_site(port)
    data = site.model_dump(mode="json", exclude_none=True)
    (folder / f"{site.id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def demo_crawler(crawler: CrawlerSettings) -> CrawlerSettings:
    """The demo's own server allowed, and a crawl without delays (it is the only client of that server)."""
    allowed = ",".join(dict.fromkeys([*crawler.allowed(), "127.0.0.1"]))
    return dataclasses.replace(crawler, allowed_addresses=allowed, download_delay=0.0, autothrottle=False)


def utc_text(moment: str) -> str:
    """An ISO time with any offset as ``YYYY-MM-DD HH:MM:SS`` in UTC, as status shows times."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).strftime("%Y-%m-%d %H:%M:%S")


def site_rows(sites: list[dict[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in sites:
        last = s["last_crawl"] or {}
        when = utc_text(last["finished_at"]) if last.get("finished_at") else "never"
        next_run = utc_text(s["next_run"]) if s["next_run"] else "-"
        rows.append(
            [
                s["site"],
                when,
                last.get("outcome") or "-",
                last.get("fetched", 0),
                last.get("emitted", 0),
                last.get("articles", 0),
                last.get("rejections", 0),
                next_run,
                s["canary"],
            ]
        )
    return rows


def print_status(state: dict[str, Any]) -> None:
    click.echo(f"backend  {state['backend']}")
    live = (
        "kept current by a running service"
        if state["service_live"]
        else "nothing has run here yet"
        if all(size is None for size in state["topics"].values())
        else "caught up from the topics just now"
    )
    click.echo(f"state    {state['state']} ({live})\n")
    headers = [
        "site",
        "last crawl (UTC)",
        "outcome",
        "fetched",
        "new/changed",
        "articles",
        "rejections",
        "next run (UTC)",
    ]
    click.echo(
        table([*headers, "canary"], site_rows(state["sites"])) if state["sites"] else "no sites and no crawls yet"
    )
    for s in state["sites"]:
        for alarm in s["alarms"]:
            click.echo(f"  ! {alarm['message']}")
    if state["sites"]:
        click.echo("\ncanary:")
        click.echo("\n".join(f"  {name:<9}{meaning}" for name, meaning in CANARY_STATES.items()))
    click.echo()
    sizes = [[name, "(not created)" if size is None else size] for name, size in state["topics"].items()]
    click.echo(table(["topic", "records"], sizes, align="lr"))
    if state["groups"]:
        click.echo()
        click.echo(table(["group", "topic", "lag"], [[g["group"], g["topic"], g["lag"]] for g in state["groups"]]))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.option("--demo", is_flag=True, help="Show the state `newsflow demo` left in data/demo.")
@sites_dir_option
@config_option
def status(as_json: bool, demo: bool, sites_dir: Path | None, config: Path | None) -> None:
    """Per site the last crawl, next run and canary; topic sizes and consumer-group lag.

    The canary compares each crawl with the site's earlier ones: pending (not judged yet),
    learning (too little history), ok, or alarm (a drop in articles, body length or dates).
    Every consumer group that committed offsets is listed with its lag.
    """
    streams, service = load_streams(config, demo_data(demo)), load_service(config, demo_data(demo))
    chosen: list[SiteConfig] = [] if demo else pick_sites(sites_dir, ())
    try:
        state = collect_status(streams, service, chosen)
    except LogError as error:
        raise click.ClickException(f"cannot read the log: {error}. Is the backend in [streams] reachable?") from error
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
    else:
        print_status(state)


COMMANDS = (run, status)
