"""Stream commands: ``topics``, ``ingest``, ``worker``, ``consume`` and ``replay``.

Each works on either backend: Kafka when ``[streams] bootstrap_servers`` (or
``NEWSFLOW_STREAMS_BOOTSTRAP_SERVERS``) is set, else the embedded SQLite file.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from newsflow.options import config_option, load_cleaner, load_streams
from newsflow.signals import stop_on_signals
from sinks.backends import cleaning_worker, create_topics, open_log, open_producer, topics_for
from sinks.cleaning import Cleaning
from sinks.log import Log, LogError, Producer, Start
from sinks.neardup import NearDupIndex
from sinks.replay import ReplayWindow, replay
from sinks.settings import StreamSettings
from sinks.topics import MalformedRecord, RawPage, Topics, iso_to_ms, record_view

IDLE_EXIT = 1.5  # seconds without records after which a non-following consume ends


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # kafka-python logs every refused connection as an error; the spool's warnings say what matters
    logging.getLogger("kafka").setLevel(logging.CRITICAL)


@contextmanager
def opened_log(settings: StreamSettings) -> Iterator[Log]:
    """The configured log; a log that cannot be opened is a one-line error, not a traceback."""
    try:
        log = open_log(settings)
    except LogError as error:
        raise click.ClickException(str(error)) from error
    try:
        yield log
    except LogError as error:
        raise click.ClickException(str(error)) from error
    finally:
        log.close()


def close_producer(producer: Producer) -> None:
    """Close, and say so when records still wait in the spool (they go first on the next start)."""
    producer.close()
    waiting = int(getattr(producer, "backlog", 0))
    if waiting:
        click.echo(
            f"warning: Kafka is unreachable; {waiting} record(s) wait in the spool and go first next time", err=True
        )


def parse_time(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return iso_to_ms(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-11-20T08:00:00+08:00)", param_hint=option
        ) from error


def backend_name(settings: StreamSettings) -> str:
    return settings.db_path if settings.embedded else f"Kafka {settings.bootstrap_servers}"


# -- topics ------------------------------------------------------------------------------------
@click.group()
def topics() -> None:
    """Create and list the service's topics."""


@topics.command("create")
@config_option
def topics_create(config: Path | None) -> None:
    """Create the four topics (raw, articles, rejected, crawl-requests) if they do not exist."""
    settings = load_streams(config)
    with opened_log(settings) as log:
        names = create_topics(log, settings)
        for name in names.all():
            click.echo(f"{name:<32}{log.partitions(name)} partitions")
    click.echo(f"topics ready on {backend_name(settings)}")


@topics.command("list")
@config_option
def topics_list(config: Path | None) -> None:
    """List topics with their partitions and record counts (end minus beginning offsets)."""
    settings = load_streams(config)
    with opened_log(settings) as log:
        for name in sorted(log.topics()):
            ends, starts = log.end_offsets(name), log.beginning_offsets(name)
            held = sum(ends[p] - starts.get(p, 0) for p in ends)
            click.echo(f"{name:<32}{len(ends):>3} partitions {held:>9} records")


# -- ingest ------------------------------------------------------------------------------------
@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--site", required=True, help="Site id the pages belong to (the ce_site header).")
@click.option("--base-url", help="URL the files are served under; default: their file:// URIs.")
@config_option
def ingest(paths: tuple[Path, ...], site: str, base_url: str | None, config: Path | None) -> None:
    """Put saved pages (.html/.htm) on the raw topic, as the crawler would (status 200, fetched now)."""
    settings = load_streams(config)
    files = [p for path in paths for p in (sorted(path.rglob("*.htm*")) if path.is_dir() else [path])]
    crawl_id = f"ingest-{uuid.uuid4().hex[:8]}"
    fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
    with opened_log(settings) as log:
        names = create_topics(log, settings)
        producer = open_producer(log, settings)
        try:
            for path in files:
                url = f"{base_url.rstrip('/')}/{path.name}" if base_url else path.resolve().as_uri()
                page = RawPage(url, url, 200, path.read_bytes(), fetched_at, site, crawl_id, "text/html")
                producer.send(page.to_record(names.raw))
        finally:
            close_producer(producer)
    click.echo(f"{len(files)} page(s) on {names.raw} ({backend_name(settings)}), crawl {crawl_id}")


# -- the cleaning worker -----------------------------------------------------------------------
def build_cleaning(config: Path | None, settings: StreamSettings, names: Topics, into: str | None = None) -> Cleaning:
    index = NearDupIndex(settings.path("index_path"), max_distance=settings.near_dup_distance)
    return Cleaning(names, load_cleaner(config), index, articles_topic=into)


@click.command()
@click.option("--exit-when-idle", is_flag=True, help="Stop once the group has cleaned everything on the raw topic.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Records cleaned between commits.")
@config_option
def worker(exit_when_idle: bool, batch_size: int | None, config: Path | None) -> None:
    """Run a cleaning worker: raw → articles / rejected, in the newsflow-cleaner group, until SIGTERM."""
    setup_logging()
    settings = load_streams(config, batch_size=batch_size)
    cleaner = load_cleaner(config)
    with (
        opened_log(settings) as log,
        stop_on_signals() as stop,
        cleaning_worker(log, settings, cleaner, stop) as runner,
    ):
        logging.getLogger("newsflow.worker").info("cleaning %s on %s", runner.raw_topic, backend_name(settings))
        runner.run(exit_when_idle=exit_when_idle)
    click.echo(summary(runner.cleaning.stats), err=True)


def summary(stats: Counter[str]) -> str:
    lines = [f"{k:<40}{v}" for k, v in sorted(stats.items())]
    return "\n".join(lines) if lines else "nothing to clean"


# -- consume -----------------------------------------------------------------------------------
def start_position(from_beginning: bool, since: str | None, offset: int | None) -> Start:
    chosen = [
        name
        for name, on in (("--from-beginning", from_beginning), ("--since", since), ("--offset", offset))
        if on is not None and on is not False
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one of {', '.join(chosen)}")
    if since is not None:
        return Start("time", parse_time(since, "--since") or 0)
    if offset is not None:
        return Start("offset", offset)
    if from_beginning:
        return Start("earliest")
    return Start("committed")


@click.command()
@click.argument("topic")
@click.option("--group", help="Read as this consumer group and commit what was printed.")
@click.option(
    "--from-beginning", is_flag=True, help="Start at the first record, even if the group has committed offsets."
)
@click.option("--since", help="Start at the first record fetched at or after this ISO 8601 time.")
@click.option("--offset", type=click.IntRange(min=0), help="Start at this offset in every partition.")
@click.option("--follow", "-f", is_flag=True, help="Keep waiting for new records (until Ctrl-C).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many records.")
@click.option("--pretty", is_flag=True, help="Indent the JSON.")
@click.option("--meta", is_flag=True, help="Print each record with its topic, partition, offset, key and headers.")
@config_option
def consume(
    topic: str,
    group: str | None,
    from_beginning: bool,
    since: str | None,
    offset: int | None,
    follow: bool,
    limit: int | None,
    pretty: bool,
    meta: bool,
    config: Path | None,
) -> None:
    """Print records of TOPIC (raw, articles, rejected, crawl-requests or a full name) as JSON lines.

    Without --group, starts at the beginning; with one, where the group left off. Without --follow,
    ends when no record arrives for a moment.
    """
    start = start_position(from_beginning, since, offset)
    settings = load_streams(config)
    printed = bad = 0
    with opened_log(settings) as log, stop_on_signals() as stop:
        name = topics_for(settings).resolve(topic)
        if name not in log.topics():
            raise click.ClickException(f"no topic {name} on {backend_name(settings)}")
        consumer = log.consumer([name], group=group, start=start)
        idle_since = time.monotonic()
        try:
            while not stop.is_set() and (limit is None or printed < limit):
                batch = consumer.poll(0.5, min(500, limit - printed) if limit else 500)
                if not batch:
                    if not follow and consumer.assignment() and time.monotonic() - idle_since > IDLE_EXIT:
                        break
                    continue
                idle_since = time.monotonic()
                for message in batch:
                    try:
                        view = record_view(message)
                    except MalformedRecord as error:
                        bad += 1
                        click.echo(f"skipped: {error}", err=True)
                        continue
                    shown = (
                        view
                        if meta
                        else view["value"]
                        if view["value"] is not None
                        else {"key": view["record"]["key"], "value": None}
                    )
                    click.echo(json.dumps(shown, ensure_ascii=False, indent=2 if pretty else None))
                    printed += 1
                if group is not None:
                    offsets: dict[tuple[str, int], int] = {}
                    for message in batch:
                        offsets[(message.topic, message.partition)] = message.offset + 1
                    consumer.commit(offsets)
        finally:
            consumer.close()
    click.echo(f"{printed} record(s) from {name}" + (f", {bad} not readable" if bad else ""), err=True)


# -- replay ------------------------------------------------------------------------------------
@click.command("replay")
@click.option("--since", required=True, help="Reclean raw pages fetched at or after this ISO 8601 time.")
@click.option("--until", help="…and before this time.")
@click.option("--site", help="Only pages of this site id.")
@click.option("--into", help="Articles go to this topic instead of articles (rejections still go to rejected).")
@config_option
def replay_command(since: str, until: str | None, site: str | None, into: str | None, config: Path | None) -> None:
    """Run the current cleaner again over raw pages from a point in crawl time."""
    window = ReplayWindow(parse_time(since, "--since") or 0, parse_time(until, "--until"), site)
    settings = load_streams(config)
    with opened_log(settings) as log:
        target = topics_for(settings).resolve(into) if into else None
        names = create_topics(log, settings, articles_copy=target)
        cleaning = build_cleaning(config, settings, names, into=target)
        producer = open_producer(log, settings)
        with click.progressbar(length=1, label="replaying", file=sys.stderr) as bar:
            seen = [0]

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - seen[0])
                seen[0] = done

            try:
                read = replay(
                    log, producer, cleaning, window, max_message_bytes=settings.max_message_bytes, progress=progress
                )
            finally:
                close_producer(producer)
                cleaning.index.close()
    click.echo(f"{read} raw record(s) read", err=True)
    click.echo(summary(cleaning.stats), err=True)


COMMANDS = (topics, ingest, worker, consume, replay_command)
