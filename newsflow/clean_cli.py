"""The ``clean`` command: saved pages or text files into JSON lines, no log needed.

The cleaner is imported when the command runs, not when its ``--help`` is shown. With
``--jobs N`` the files are cleaned by N processes, each given the settings once by
:func:`start_worker`, then sent files a few at a time, so that progress shows from the first
files on. A process loads the models and tables its pages need when they first need them, as
``--jobs 1`` does: the command has no per-page time limit for a warm-up to keep loading out
of, and a warm-up would load models most pages never use. Progress (with rate and time left)
and a summary go to stderr; stdout carries only the records.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsflow.console import Progress, plural, print_record, table
from newsflow.options import config_option, load_cleaner, quiet_option
from newsflow.signals import stop_on_signals

if TYPE_CHECKING:
    from cleaner import Article, CleanerSettings, Rejection

PAGE_SUFFIXES = (".html", ".htm")
INPUT_SUFFIXES = (*PAGE_SUFFIXES, ".txt")
STDIN = Path("-")  # the page piped in
CHUNK = 4  # most files sent to a process at once: progress from the first files on, round trips still few
CHUNKS_PER_JOB = 16  # a small folder still goes out in about this many pieces per process (an even finish)
#: the exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130
#: ``cleaner.settings.TARGET_SCRIPTS``, spelt out so that ``--help`` needs no cleaner (a test keeps them equal)
TARGET_SCRIPTS = ("zh-Hans", "zh-Hant", "keep")


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    """The files to clean: folders searched for pages and text files, other files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def check_inputs(inputs: list[Path], url: str | None) -> None:
    """Refuse, before cleaning anything, unknown kinds of file and ``-`` or ``--url`` beside other inputs."""
    unknown = [str(p) for p in inputs if p != STDIN and p.suffix.lower() not in INPUT_SUFFIXES]
    if unknown:
        raise click.ClickException(
            f"{', '.join(unknown[:3])}{' …' if len(unknown) > 3 else ''}: not a .html, .htm or .txt file; rename it"
            " for what it holds (a page or extracted text), or pipe a page in with `newsflow clean - < FILE`."
        )
    if STDIN in inputs and len(inputs) > 1:
        raise click.UsageError("- reads one page from stdin; pass it alone.")
    if url is not None and len(inputs) != 1:
        raise click.UsageError(f"--url is the address of one page, but {len(inputs)} inputs were given; pass one.")


def clean_file(path: Path, settings: CleanerSettings, url: str | None = None) -> dict[str, object]:
    """Clean one input: a page (``.html``/``.htm``, or ``-``: stdin) as bytes, a ``.txt`` file as extracted text.

    The record's URL (and so its id) is ``url`` when given, else the file's ``file://`` URI.
    """
    from cleaner import clean_page, clean_text

    if path == STDIN:
        body = sys.stdin.buffer.read()
        result: Article | Rejection = clean_page(body, url=url or "stdin:", settings=settings)
    elif path.suffix.lower() in PAGE_SUFFIXES:
        result = clean_page(path.read_bytes(), url=url or path.resolve().as_uri(), settings=settings)
    else:
        result = clean_text(path.read_text(encoding="utf-8", errors="replace"), url=url, settings=settings)
    return {"path": str(path), **result.to_dict()}


#: the settings of this worker process (and whether it indents), set once by :func:`start_worker`
_worker_settings: tuple[CleanerSettings, bool] | None = None


def start_worker(settings: CleanerSettings, pretty: bool) -> None:
    """The initializer of each cleaning process: keep the settings (the models load on first use).

    Ctrl-C reaches the whole process group; the parent alone handles it (and stops the pool).
    """
    global _worker_settings
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_settings = (settings, pretty)


def rendered(path: Path, settings: CleanerSettings, url: str | None, pretty: bool) -> tuple[str, str]:
    """One input cleaned, as its JSON line and its outcome (a worker sends the parent text, not a record
    to serialise again: the parent only writes)."""
    record = clean_file(path, settings, url)
    return json.dumps(record, ensure_ascii=False, indent=2 if pretty else None), outcome(record)


def clean_in_worker(path: Path) -> tuple[str, str]:
    assert _worker_settings is not None, "start_worker runs first in every cleaning process"
    settings, pretty = _worker_settings
    return rendered(path, settings, None, pretty)


def clean_all(
    paths: list[Path], settings: CleanerSettings, jobs: int, url: str | None = None, *, pretty: bool = False
) -> Iterator[tuple[str, str]]:
    """The JSON lines of ``paths`` with their outcomes, in order, cleaned here or by ``jobs`` processes."""
    if jobs <= 1 or len(paths) < 2:
        yield from (rendered(path, settings, url, pretty) for path in paths)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=(settings, pretty)) as pool:
        yield from pool.map(clean_in_worker, paths, chunksize=chunk_size(len(paths), jobs))


def chunk_size(inputs: int, jobs: int) -> int:
    """Files per round trip to a process: at most :data:`CHUNK`, whatever the folder's size."""
    return max(1, min(CHUNK, inputs // (jobs * CHUNKS_PER_JOB)))


def outcome(record: dict[str, object]) -> str:
    """``article``, or ``rejected: <reason>``."""
    return "article" if record.get("schema") == "newsflow.article/1" else f"rejected: {record.get('reason')}"


def summary_table(counts: Counter[str], inputs: int) -> str:
    """What the inputs became: articles, then rejections by reason, and the inputs cleaned."""
    rows = [("articles", counts["article"]), *sorted((k, v) for k, v in counts.items() if k != "article")]
    return table(("outcome", "inputs"), rows, footer=("inputs cleaned", inputs))


def pace(done: int, seconds: float) -> str:
    rate = f"{done / seconds:.1f}" if seconds > 0 else "-"
    return f"{plural(done, 'input')} cleaned in {seconds:.1f} s ({rate} inputs/s)"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option(
    "--url", metavar="URL", help="Where the one page given came from: its URL and id in the record (default: file://)."
)
@click.option("--pretty", is_flag=True, help="Indent the JSON for people instead of one object per line.")
@click.option(
    "--script", type=click.Choice(TARGET_SCRIPTS), help="Script of the output text (default zh-Hans, simplified)."
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Processes cleaning in parallel."
)
@quiet_option
@config_option
def clean(
    paths: tuple[Path, ...],
    url: str | None,
    pretty: bool,
    script: str | None,
    jobs: int,
    quiet: bool,
    config: Path | None,
) -> None:
    """Clean saved pages or text files into JSON lines.

    PATHS are .html/.htm pages (read as bytes, the encoding is detected), .txt files of
    extracted text, folders of them, or - for one page on stdin. Prints one JSON object per
    input on stdout, an article or a rejection, each with its input path; no log is needed.
    With several inputs, progress and a summary go to stderr.

    \b
    Examples:
      newsflow clean page.html --pretty
      curl -s https://example.gov.cn/a/1.html | newsflow clean - --url https://example.gov.cn/a/1.html
      newsflow clean saved/ -j 4 > articles.jsonl
    """
    settings = load_cleaner(config, target_script=script)
    inputs = collect_inputs(paths)
    if not inputs:
        raise click.ClickException("no .html, .htm or .txt files in the given folders; pass pages or their folder.")
    check_inputs(inputs, url)
    several = len(inputs) > 1
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    with (
        stop_on_signals(announce=False) as stop,
        Progress("cleaning", total=len(inputs), quiet=quiet or not several, unit="input") as bar,
        contextlib.closing(clean_all(inputs, settings, jobs, url, pretty=pretty)) as records,
    ):
        for done, (line, result) in enumerate(records, start=1):
            print_record(line)
            counts[result] += 1
            bar.update(done, detail=f"{done}/{len(inputs)}")
            if stop.is_set():
                break
    done = sum(counts.values())
    if stop.is_set() and done < len(inputs):
        click.echo(
            f"interrupted after {done} of {plural(len(inputs), 'input')} ({counts['article']} articles);"
            " every record printed is whole: run again on the rest.",
            err=True,
        )
        raise click.exceptions.Exit(INTERRUPTED)
    if several:
        click.echo(summary_table(counts, len(inputs)), err=True)
        click.echo(pace(len(inputs), time.perf_counter() - started), err=True)
