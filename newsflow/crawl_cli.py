"""Crawl commands: ``sites validate`` and ``crawl``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import click

from crawler.run import CrawlReport, crawl_sites
from crawler.sites import SiteConfig, load_sites
from newsflow.options import config_option, load_crawler, load_streams

sites_dir_option = click.option(
    "--sites-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of <id>.yaml site files (default: the bundled config/sites).",
)


def default_sites_dir() -> Path:
    return Path(str(resources.files("config").joinpath("sites")))


def site_files(sites_dir: Path | None, paths: tuple[Path, ...] = ()) -> list[Path]:
    if paths:
        return [p for path in paths for p in (sorted(path.glob("*.yaml")) if path.is_dir() else [path])]
    return sorted((sites_dir or default_sites_dir()).glob("*.yaml"))


@click.group()
def sites() -> None:
    """Site configs: one YAML file per site."""


@sites.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@sites_dir_option
def sites_validate(paths: tuple[Path, ...], sites_dir: Path | None) -> None:
    """Check every site file (or the given files and folders); each problem names its file and field."""
    files = site_files(sites_dir, paths)
    if not files:
        raise click.ClickException("no .yaml site files found")
    good, errors = load_sites(files)
    for site in good:
        click.echo(f"ok    {site.id:<24}{site.name} ({site.region.label()})")
    for error in errors:
        click.echo(f"error {error}", err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} of {len(files)} site file(s) are invalid")


def pick_sites(sites_dir: Path | None, ids: tuple[str, ...]) -> list[SiteConfig]:
    good, errors = load_sites(site_files(sites_dir))
    if errors:
        raise click.ClickException("; ".join(str(e) for e in errors))
    by_id = {site.id: site for site in good}
    unknown = sorted(set(ids) - set(by_id))
    if unknown:
        raise click.ClickException(f"no site {', '.join(unknown)}; known: {', '.join(sorted(by_id))}")
    return [by_id[i] for i in ids] if ids else good


def report_lines(reports: list[CrawlReport]) -> list[str]:
    lines = []
    for r in reports:
        lines.append(
            f"{r.site:<24} fetched {r.fetched:>5}  emitted {r.emitted:>5}  unchanged {r.count('newsflow/unchanged'):>5}"
            f"  rejected {r.count('newsflow/rejected'):>3}  refused {r.count('newsflow/guard/refused'):>3}"
            f"  ({r.stats.get('finish_reason', '?')})"
        )
    return lines


@click.command()
@click.option("--site", "ids", multiple=True, help="Site id to crawl (repeat for several; default: all).")
@sites_dir_option
@click.option("--allow-address", "allowed", multiple=True, help="Let the address guard allow this IP (e.g. 127.0.0.1).")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write each site's crawl summary to this JSON file (how the service reads a crawl child).",
)
@config_option
def crawl(
    ids: tuple[str, ...],
    sites_dir: Path | None,
    allowed: tuple[str, ...],
    report_path: Path | None,
    config: Path | None,
) -> None:
    """Crawl sites once: new and changed pages go to the raw topic, then stop."""
    flags = {"allowed_addresses": ",".join(allowed)} if allowed else {}
    crawler_settings = load_crawler(config, **flags)
    chosen = pick_sites(sites_dir, ids)
    reports = crawl_sites(chosen, crawler_settings, load_streams(config))
    if report_path is not None:
        report_path.write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False), encoding="utf-8")
    for line in report_lines(reports):
        click.echo(line)


COMMANDS = (sites, crawl)
