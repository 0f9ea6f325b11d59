"""The ``clean`` command: saved pages or text files into JSON lines, no log needed.

The cleaner is imported when the command runs, not when its ``--help`` is shown. With
``--jobs N`` the files are cleaned by N processes, each set up once by :func:`start_worker`
(settings, character model, OpenCC tables), then sent files in chunks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsflow.options import config_option, load_cleaner

if TYPE_CHECKING:
    from cleaner import Article, CleanerSettings, Rejection

INPUT_SUFFIXES = (".html", ".htm", ".txt")
PROGRESS_MIN = 20  # show progress for at least this many inputs
CHUNKS_PER_JOB = 16  # files go to each process in about this many chunks: few round trips, an even finish
#: ``cleaner.settings.TARGET_SCRIPTS``, spelt out so that ``--help`` needs no cleaner (a test keeps them equal)
TARGET_SCRIPTS = ("zh-Hans", "zh-Hant", "keep")
#: a short page each process cleans once before its share, so the lazy imports are done with too
WARM_UP_PAGE = "<html><head><title>市政府召开常务会议</title></head><body><p>会议研究部署了工作。</p></body></html>"


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
    from cleaner import clean_page, clean_text

    if path.suffix.lower() in (".html", ".htm"):
        result: Article | Rejection = clean_page(path.read_bytes(), url=path.resolve().as_uri(), settings=settings)
    else:
        result = clean_text(path.read_text(encoding="utf-8", errors="replace"), settings=settings)
    return {"path": str(path), **result.to_dict()}


def warm_up(settings: CleanerSettings) -> None:
    """Load what the cleaner loads on its first pages (character model, OpenCC tables, lazy imports)."""
    from cleaner import clean_page
    from cleaner.charlm import load_char_model
    from cleaner.script import load_tables

    load_char_model()
    load_tables()
    clean_page(WARM_UP_PAGE.encode("utf-8"), url="http://warm-up.invalid/", settings=settings)


#: the settings of this worker process, set once by :func:`start_worker`
_worker_settings: CleanerSettings | None = None


def start_worker(settings: CleanerSettings) -> None:
    """The initializer of each cleaning process: keep the settings, load the models once."""
    global _worker_settings
    _worker_settings = settings
    warm_up(settings)


def clean_in_worker(path: Path) -> dict[str, object]:
    assert _worker_settings is not None, "start_worker runs first in every cleaning process"
    return clean_file(path, _worker_settings)


def clean_all(paths: list[Path], settings: CleanerSettings, jobs: int) -> Iterator[dict[str, object]]:
    """The records of ``paths`` in their order, cleaned here or by ``jobs`` processes."""
    if jobs <= 1 or len(paths) < 2:
        yield from (clean_file(path, settings) for path in paths)
        return
    chunksize = max(1, len(paths) // (jobs * CHUNKS_PER_JOB))
    with ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=(settings,)) as pool:
        yield from pool.map(clean_in_worker, paths, chunksize=chunksize)


def progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        click.echo(f"\rcleaning {done}/{total}", err=True, nl=done == total)
    elif done == total or done % max(1, total // 10) == 0:
        click.echo(f"cleaning {done}/{total}", err=True)


@click.command()
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
