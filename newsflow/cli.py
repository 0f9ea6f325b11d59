"""The ``newsflow`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from cleaner import Article, CleanerSettings, Rejection, clean_page, clean_text
from cleaner.settings import TARGET_SCRIPTS
from newsflow.crawl_cli import COMMANDS as CRAWL_COMMANDS
from newsflow.demo import run_demo
from newsflow.options import config_option, load_cleaner, load_streams
from newsflow.service_cli import COMMANDS as SERVICE_COMMANDS
from newsflow.stream_cli import COMMANDS as STREAM_COMMANDS

INPUT_SUFFIXES = (".html", ".htm", ".txt")
PROGRESS_MIN = 20  # show progress for at least this many inputs


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def clean_file(path: Path, settings: CleanerSettings) -> dict[str, object]:
    """Clean one file: ``.html``/``.htm`` as page bytes, anything else as extracted text."""
    if path.suffix.lower() in (".html", ".htm"):
        result: Article | Rejection = clean_page(path.read_bytes(), url=path.resolve().as_uri(), settings=settings)
    else:
        result = clean_text(path.read_text(encoding="utf-8", errors="replace"), settings=settings)
    return {"path": str(path), **result.to_dict()}


def _clean_job(job: tuple[Path, CleanerSettings]) -> dict[str, object]:
    return clean_file(*job)


def clean_all(paths: list[Path], settings: CleanerSettings, jobs: int) -> Iterator[dict[str, object]]:
    work = [(p, settings) for p in paths]
    if jobs <= 1 or len(paths) < 2:
        yield from map(_clean_job, work)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_clean_job, work, chunksize=max(1, len(work) // (jobs * 8)))


def progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        click.echo(f"\rcleaning {done}/{total}", err=True, nl=done == total)
    elif done == total or done % max(1, total // 10) == 0:
        click.echo(f"cleaning {done}/{total}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsflow")
def main() -> None:
    """newsflow: crawl, clean and stream Chinese local-government news.

    Crawled pages go to the raw topic, a cleaning worker turns them into articles and
    rejections, and you read those with consume. Without Kafka configured everything
    runs on an embedded SQLite log (data/newsflow.db). Settings come from --config FILE
    or NEWSFLOW_* variables; each command has --help.

    \b
    Examples:
      newsflow demo                       # everything, offline, on a demo portal
      newsflow crawl --site siping_gov    # crawl one site once
      newsflow worker --exit-when-idle    # clean what the crawl put on raw
      newsflow consume articles --pretty  # read the cleaned articles
      newsflow clean page.html            # clean a saved page, no log needed
      newsflow replay --since 2026-11-01T00:00:00+08:00
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--pretty", is_flag=True, help="Indent the JSON for people instead of one object per line.")
@click.option(
    "--script", type=click.Choice(TARGET_SCRIPTS), help="Script of the output text (default zh-Hans, simplified)."
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Processes cleaning in parallel."
)
@config_option
def clean(paths: tuple[Path, ...], pretty: bool, script: str | None, jobs: int, config: Path | None) -> None:
    """Clean saved pages or text files into JSON lines.

    PATHS are .html/.htm pages (read as bytes, the encoding is detected), .txt files of
    extracted text, or folders of them. Prints one JSON object per input on stdout, an
    article or a rejection, each with its input path; no log is needed.

    \b
    Examples:
      newsflow clean page.html --pretty
      newsflow clean saved/ -j 4 > articles.jsonl
    """
    settings = load_cleaner(config, target_script=script)
    inputs = collect_inputs(paths)
    if not inputs:
        raise click.ClickException("no .html, .htm or .txt files in the given folders; pass pages or their folder.")
    show = len(inputs) >= PROGRESS_MIN
    for done, record in enumerate(clean_all(inputs, settings, jobs), start=1):
        click.echo(json.dumps(record, ensure_ascii=False, indent=2 if pretty else None))
        if show:
            progress(done, len(inputs))


@main.command()
@click.option(
    "--script", type=click.Choice(TARGET_SCRIPTS), help="Script of the output text (default zh-Hans, simplified)."
)
@config_option
def demo(script: str | None, config: Path | None) -> None:
    """Run the whole pipeline offline on a bundled demo portal.

    Serves the portal on 127.0.0.1, crawls it, cleans it into data/demo/newsflow.db
    (reset each run; a configured Kafka is used as it is) and prints a summary with
    one cleaned article.
    """
    summary = run_demo(load_streams(config), load_cleaner(config, target_script=script))
    click.echo(f"pages fetched   {summary.fetched}")
    click.echo(f"raw pages       {summary.emitted}")
    click.echo(f"articles        {summary.articles}  ({summary.duplicates} marked as reposts)")
    rejected = summary.rejections
    click.echo(f"rejections      {sum(rejected.values())}")
    for reason, count in sorted(rejected.items()):
        click.echo(f"  {reason:<26}{count}")
    click.echo(f"time            {summary.seconds:.1f} s")
    if summary.db_path:
        click.echo(f"stored in       {summary.db_path}")
        click.echo(f"read it with    NEWSFLOW_STREAMS_DB_PATH={summary.db_path} newsflow consume articles --pretty")
    if summary.sample:
        click.echo("\none cleaned article:")
        shown = {k: summary.sample[k] for k in ("title", "published_at", "source", "authors", "site", "region", "url")}
        shown["text"] = str(summary.sample["text"])[:160] + "…"
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))


for command in (*STREAM_COMMANDS, *CRAWL_COMMANDS, *SERVICE_COMMANDS):
    main.add_command(command)


if __name__ == "__main__":
    main()
