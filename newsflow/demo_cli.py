"""The ``demo`` command: the whole pipeline, offline, on the bundled demo portal."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from newsflow.clean_cli import TARGET_SCRIPTS
from newsflow.cli import STARTED
from newsflow.demo import DemoInUse, run_demo
from newsflow.options import config_option, load_cleaner, load_streams


@click.command()
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
    try:
        summary = run_demo(load_streams(config), load_cleaner(config, target_script=script))
    except DemoInUse as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"pages fetched   {summary.fetched}")
    click.echo(f"raw pages       {summary.emitted}")
    click.echo(f"articles        {summary.articles}  ({summary.duplicates} marked as reposts)")
    rejected = summary.rejections
    click.echo(f"rejections      {sum(rejected.values())}")
    for reason, count in sorted(rejected.items()):
        click.echo(f"  {reason:<26}{count}")
    click.echo(f"time            {time.monotonic() - STARTED:.1f} s")
    if summary.db_path:
        click.echo(f"stored in       {summary.db_path}")
        click.echo("read it with    newsflow consume articles --demo --pretty")
    if summary.sample:
        click.echo("\none cleaned article:")
        shown = {k: summary.sample[k] for k in ("title", "published_at", "source", "authors", "site", "region", "url")}
        shown["text"] = str(summary.sample["text"])[:160] + "…"
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
