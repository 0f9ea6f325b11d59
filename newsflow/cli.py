"""The ``newsflow`` command line.

Each command lives in a module of its own (``clean_cli``, ``stream_cli``, ``crawl_cli``,
``service_cli``, ``demo_cli``), imported only when that command runs or shows its help:
``newsflow --help`` lists the commands from :data:`COMMANDS` alone, and ``newsflow clean``
never loads Scrapy, Twisted or Kafka.
"""

from __future__ import annotations

import importlib
import signal
import threading
import time
from types import FrameType
from typing import NamedTuple

import click

#: when the command started (the demo reports its time from here: start-up included, as a user measures it)
STARTED = time.monotonic()


class LazyCommand(NamedTuple):
    """Where a command lives (``module:attribute``) and its one-line help, the first line of its docstring."""

    target: str
    short_help: str


#: every command by name; a test checks each short help against the command's own docstring
COMMANDS: dict[str, LazyCommand] = {
    "clean": LazyCommand("newsflow.clean_cli:clean", "Clean saved pages or text files into JSON lines."),
    "consume": LazyCommand("newsflow.stream_cli:consume", "Print the records of a topic as JSON lines on stdout."),
    "crawl": LazyCommand("newsflow.crawl_cli:crawl", "Crawl sites once: new and changed pages go to the raw topic."),
    "demo": LazyCommand("newsflow.demo_cli:demo", "Run the whole pipeline offline on a bundled demo portal."),
    "ingest": LazyCommand("newsflow.stream_cli:ingest", "Put saved pages on the raw topic, as the crawler would."),
    "replay": LazyCommand("newsflow.stream_cli:replay_command", "Reclean raw pages from a point in crawl time."),
    "run": LazyCommand(
        "newsflow.service_cli:run", "Run the service until SIGTERM: scheduled crawls, cleaning, /metrics and /healthz."
    ),
    "sites": LazyCommand("newsflow.crawl_cli:sites", "Check the site configs (one YAML file per site)."),
    "status": LazyCommand(
        "newsflow.service_cli:status",
        "Per site the last crawl, next run and canary; topic sizes and consumer-group lag.",
    ),
    "topics": LazyCommand("newsflow.stream_cli:topics", "Create and list the service's topics."),
    "worker": LazyCommand("newsflow.stream_cli:worker", "Clean raw pages into articles and rejections until stopped."),
}


#: commands that run until stopped: a SIGTERM while they start up (imports take a second) ends them cleanly
LONG_RUNNING = ("run", "worker")


def exit_on_early_stop() -> None:
    """Until the command installs its own handlers, SIGTERM/SIGINT end the process with 0: nothing started yet."""

    def stop(signum: int, frame: FrameType | None) -> None:
        click.echo(f"{signal.Signals(signum).name} while starting up: stopped before any work began.", err=True)
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)


def load_command(name: str) -> click.Command:
    """Import the module of command ``name`` and return the command."""
    module, _, attribute = COMMANDS[name].target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported on demand (click's lazy-loading pattern), listed from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            if cmd_name in LONG_RUNNING and ctx.resilient_parsing is False:
                exit_on_early_stop()
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, so that ``--help`` imports no command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        # shortened as click shortens a command's own help
        rows = [(name, click.Command(name, help=COMMANDS[name].short_help).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


if __name__ == "__main__":
    main()
