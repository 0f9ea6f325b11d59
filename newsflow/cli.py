"""The ``newsflow`` command line."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path

import click

from cleaner import Article, CleanerSettings, Rejection, clean_page, clean_text
from cleaner.settings import TARGET_SCRIPTS
from newsflow.options import config_option, load_cleaner
from newsflow.stream_cli import COMMANDS

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
    """newsflow: crawl, clean and stream Chinese local-government news."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--pretty", is_flag=True, help="Indent the JSON for people instead of one object per line.")
@click.option("--script", type=click.Choice(TARGET_SCRIPTS), help="Output script (default zh-Hans).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@config_option
def clean(paths: tuple[Path, ...], pretty: bool, script: str | None, jobs: int, config: Path | None) -> None:
    """Clean pages (.html/.htm, read as bytes) or extracted text (.txt); folders are searched.

    Prints one JSON object per input, article or rejection, each with its input path.
    """
    settings = load_cleaner(config, target_script=script)
    inputs = collect_inputs(paths)
    if not inputs:
        raise click.ClickException("no .html, .htm or .txt files in the given paths.")
    show = len(inputs) >= PROGRESS_MIN
    for done, record in enumerate(clean_all(inputs, settings, jobs), start=1):
        click.echo(json.dumps(record, ensure_ascii=False, indent=2 if pretty else None))
        if show:
            progress(done, len(inputs))


@main.command()
@click.option("--script", type=click.Choice(TARGET_SCRIPTS), help="Output script (default zh-Hans).")
def demo(script: str | None) -> None:
    """Clean the bundled sample pages and print a summary (no network, no Kafka)."""
    settings = load_cleaner(None, target_script=script)
    samples = resources.files("newsflow").joinpath("samples")
    paths = sorted(Path(str(p)) for p in samples.iterdir() if Path(str(p)).suffix in INPUT_SUFFIXES)
    start = time.perf_counter()
    records = list(clean_all(paths, settings, jobs=1))
    elapsed = time.perf_counter() - start
    articles = [r for r in records if r.get("schema") == "newsflow.article/1"]
    reasons = Counter(str(r["reason"]) for r in records if r.get("schema") == "newsflow.rejected/1")
    click.echo(f"pages cleaned   {len(records)}")
    click.echo(f"articles        {len(articles)}")
    click.echo(
        f"rejections      {sum(reasons.values())}" + "".join(f"\n  {k:<26}{v}" for k, v in sorted(reasons.items()))
    )
    click.echo(f"time            {elapsed:.2f} s")
    if articles:
        sample = articles[0]
        click.echo("\none cleaned article:")
        shown = {k: sample[k] for k in ("title", "subtitle", "published_at", "authors", "source", "editor", "keywords")}
        shown["text"] = str(sample["text"])[:200] + "…"
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))


for command in COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
