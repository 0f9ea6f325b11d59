"""Crawl commands: ``sites validate`` and ``crawl``."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click

from crawler.run import CrawlEvent, crawl_sites, exit_code
from crawler.settings import CrawlerSettings, ResolvedCrawl
from crawler.sites import SiteConfig, load_sites
from newsflow.console import Progress, plural, table
from newsflow.crawler_role import publish_reports
from newsflow.options import config_option, load_crawler, load_streams, quiet_option
from sinks.backends import open_log
from sinks.settings import StreamSettings
from sinks.topics import CrawlOutcome, Outcome

sites_dir_option = click.option(
    "--sites-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of <id>.yaml site files (default: the bundled config/sites).",
)

#: the summary's count columns: pages fetched, emitted to raw, unchanged, failed for good, refused by the guard
REPORT_COUNTS: tuple[tuple[str, Callable[[CrawlOutcome], int]], ...] = (
    ("fetched", lambda r: r.fetched),
    ("new/changed", lambda r: r.emitted),
    ("unchanged", lambda r: r.unchanged),
    ("rejected", lambda r: r.rejections),
    ("refused", lambda r: r.refused),
)


def default_sites_dir() -> Path:
    return Path(str(resources.files("config").joinpath("sites")))


def site_files(sites_dir: Path | None, paths: tuple[Path, ...] = ()) -> list[Path]:
    if paths:
        return [p for path in paths for p in (sorted(path.glob("*.yaml")) if path.is_dir() else [path])]
    return sorted((sites_dir or default_sites_dir()).glob("*.yaml"))


def no_site_files(sites_dir: Path | None, paths: tuple[Path, ...] = ()) -> click.ClickException:
    where = ", ".join(map(str, paths)) if paths else str(sites_dir or default_sites_dir())
    return click.ClickException(f"no .yaml site files in {where}; pass the folder of <id>.yaml files with --sites-dir.")


@click.group()
def sites() -> None:
    """Check the site configs (one YAML file per site)."""


@sites.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@sites_dir_option
def sites_validate(paths: tuple[Path, ...], sites_dir: Path | None) -> None:
    """Check site files; each problem names its file and field.

    Checks every file in the sites folder, or the given files and folders.

    \b
    Example:
      newsflow sites validate config/sites/siping_gov.yaml
    """
    files = site_files(sites_dir, paths)
    if not files:
        raise no_site_files(sites_dir, paths)
    good, errors = load_sites(files)
    for site in good:
        click.echo(f"ok    {site.id:<24}{site.name} ({site.region.label()})")
    for error in errors:
        click.echo(f"error {error}", err=True)
    if errors:
        raise click.ClickException(
            f"{len(errors)} of {len(files)} site file(s) are invalid; fix the fields named above and run again."
        )


def pick_sites(sites_dir: Path | None, ids: tuple[str, ...]) -> list[SiteConfig]:
    """The sites to crawl: the chosen ones (other files may be invalid), or all, which must all be valid."""
    files = site_files(sites_dir)
    if not files:
        raise no_site_files(sites_dir)
    known = {path.stem: path for path in files}  # a site's id is its file name
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise click.ClickException(
            f"no site {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}. "
            "Check the id or pass --sites-dir."
        )
    good, errors = load_sites([known[i] for i in ids] if ids else files)
    if errors:
        raise click.ClickException(
            f"{plural(len(errors), 'site file')} cannot be used ({errors[0]}); "
            "run `newsflow sites validate` to see every problem, then fix them."
        )
    by_id = {site.id: site for site in good}
    return [by_id[i] for i in ids] if ids else good


def check_addresses(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an IP address; pass one like 127.0.0.1.") from None
    return values


def report_table(reports: list[CrawlOutcome]) -> str:
    """One row per site and a total: the counts, the seconds and the outcome (as ``status`` names it)."""
    headers = ("site", *(name for name, _ in REPORT_COUNTS), "seconds", "outcome")
    rows = [(r.site, *(count(r) for _, count in REPORT_COUNTS), r.seconds, r.outcome.value) for r in reports]
    totals = (sum(count(r) for r in reports) for _, count in REPORT_COUNTS)
    wall = max((r.seconds for r in reports), default=0.0)
    return table(headers, rows, footer=("total", *totals, wall, None))


def sites_that(reports: list[CrawlOutcome], *outcomes: Outcome) -> str:
    return ", ".join(r.site for r in reports if r.outcome in outcomes)


def report_notes(reports: list[CrawlOutcome]) -> list[str]:
    """Advice on what the summary shows: refused requests, crawls cut by their page limit or deadline."""
    notes = []
    refused = [r.site for r in reports if r.refused]
    if refused:
        notes.append(
            f"note: the address guard refused requests of {', '.join(refused)} as they point at non-public"
            " addresses; to crawl a site on your own network, allow its IP with --allow-address."
        )
    if capped := sites_that(reports, Outcome.CAPPED):
        notes.append(f"note: {capped} stopped at max_pages; raise it in the site file to crawl further.")
    if late := sites_that(reports, Outcome.TIMED_OUT):
        notes.append(f"note: {late} stopped at the crawl's deadline; what was fetched until then is kept.")
    return notes


def outcome_error(reports: list[CrawlOutcome]) -> click.ClickException | None:
    """The one sentence for a crawl that did not do its job, with the exit code its worst site gives."""
    code = exit_code(reports)
    if code == 0:
        return None
    if failed := sites_that(reports, Outcome.FAILED):
        message = (
            f"the crawl of {failed} failed: no page could be fetched (every request failed or was refused);"
            " check the start URLs and the network (the log above says why each request failed)."
        )
    else:
        message = (
            f"the crawl of {sites_that(reports, Outcome.INTERRUPTED)} was interrupted; what it fetched is kept,"
            " run it again to crawl the rest."
        )
    error = click.ClickException(message)
    error.exit_code = code
    return error


@dataclass
class CrawlProgress:
    """Counts what the crawl reports as it goes and shows it: pages fetched and emitted, sites left."""

    bar: Progress
    sites: int
    fetched: int = 0
    emitted: int = 0
    closed: int = 0

    def __call__(self, site: str, event: CrawlEvent) -> None:
        if event is CrawlEvent.FETCHED:
            self.fetched += 1
        elif event is CrawlEvent.EMITTED:
            self.emitted += 1
        elif event is CrawlEvent.CLOSED:
            self.closed += 1
        left = self.sites - self.closed
        detail = f"{plural(self.fetched, 'page')}  {self.emitted} new  {plural(left, 'site')} left"
        self.bar.update(self.closed, detail=detail)


@click.command()
@click.option("--site", "ids", multiple=True, metavar="ID", help="Site id to crawl (repeat for several; default: all).")
@sites_dir_option
@click.option(
    "--allow-address",
    "allowed",
    multiple=True,
    metavar="IP",
    callback=check_addresses,
    help="Let the address guard fetch from this non-public IP (e.g. 127.0.0.1 for a local test site).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write each site's crawl summary to this JSON file (how the service reads a crawl child).",
)
@click.option(
    "--settings-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Crawler and stream settings resolved by `newsflow run` for its crawl children (instead of the config).",
)
@quiet_option
@config_option
def crawl(
    ids: tuple[str, ...],
    sites_dir: Path | None,
    allowed: tuple[str, ...],
    report_path: Path | None,
    settings_file: Path | None,
    quiet: bool,
    config: Path | None,
) -> None:
    """Crawl sites once: new and changed pages go to the raw topic.

    Shows progress on stderr, then a summary with one row per site on stdout.

    \b
    Examples:
      newsflow crawl --site siping_gov
      newsflow crawl --sites-dir config/sites --site gjnews --site fqxww
    """
    if settings_file is not None:
        crawler_settings, streams = resolved_settings(settings_file, allowed)
    else:
        crawler_settings = load_crawler(config, **({"allowed_addresses": ",".join(allowed)} if allowed else {}))
        streams = load_streams(config)
    chosen = pick_sites(sites_dir, ids)
    if report_path is not None and not report_path.parent.is_dir():
        raise click.ClickException(
            f"cannot write the report to {report_path}: there is no folder {report_path.parent}; create it first."
        )
    # with one site, the bar cannot tell how far along it is: it shows that the crawl is alive
    with Progress("crawling", total=len(chosen) if len(chosen) > 1 else None, quiet=quiet) as bar:
        counter = CrawlProgress(bar, len(chosen))
        reports = crawl_sites(chosen, crawler_settings, streams, progress=counter)
    if report_path is not None:
        report_path.write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False), encoding="utf-8")
    else:  # a one-off crawl reports itself, so status and the canaries see it
        log = open_log(streams)
        try:
            publish_reports(log, streams, reports, source="cli")
        finally:
            log.close()
    click.echo(report_table(reports))
    for note in report_notes(reports):
        click.echo(note, err=True)
    if (error := outcome_error(reports)) is not None:
        raise error


def resolved_settings(path: Path, allowed: tuple[str, ...]) -> tuple[CrawlerSettings, StreamSettings]:
    if allowed:
        raise click.UsageError("--settings-file already holds the allowed addresses; drop --allow-address.")
    try:
        resolved = ResolvedCrawl.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise click.ClickException(
            f"cannot use the settings file {path} ({error}); it is written by `newsflow run`, pass --config instead."
        ) from error
    return resolved.crawler, resolved.streams


COMMANDS = (sites, crawl)
