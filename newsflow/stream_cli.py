"""Stream commands: ``topics``, ``ingest``, ``worker``, ``consume`` and ``replay``.

Each works on either backend: Kafka when ``[streams] bootstrap_servers`` (or
``NEWSFLOW_STREAMS_BOOTSTRAP_SERVERS``) is set, else the embedded SQLite file.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from threading import Event
from urllib.parse import urlsplit

import click

from cleaner import CleanerSettings
from cleaner.identity import canonical_url
from newsflow.console import Progress, plural, print_record, table
from newsflow.logs import setup_logging
from newsflow.options import (
    config_option,
    demo_data,
    demo_option,
    load_cleaner,
    load_service,
    load_streams,
    quiet_option,
)
from newsflow.signals import stop_on_signals
from sinks.backends import build_cleaning, cleaning_worker, create_topics, open_log, open_producer, topics_for
from sinks.log import Log, Message, Producer, Start
from sinks.logbase import resolved_start_offsets
from sinks.loop import BatchHandler, ConsumerLoop, Handled
from sinks.replay import ReplayWindow, replay
from sinks.settings import StreamSettings
from sinks.topics import URL_SCHEMES, MalformedRecord, RawPage, Topics, iso_to_ms, record_view
from sinks.worker import Worker

#: a consume in a group whose other members read some partitions cannot see their end: it ends after
#: this many seconds without records
IDLE_EXIT = 1.5


def setup_worker_logging(kind: str, level: str) -> None:
    """The service's logs (JSON lines by default, ``text`` for people), as ``newsflow run`` writes them."""
    setup_logging(kind, level)
    # kafka-python logs every refused connection as an error; the spool's warnings say what matters
    logging.getLogger("kafka").setLevel(logging.CRITICAL)


@contextmanager
def opened_log(settings: StreamSettings) -> Iterator[Log]:
    """The configured log, closed at the end (``config_option`` turns its errors into one-line errors)."""
    log = open_log(settings)
    try:
        yield log
    finally:
        log.close()


def close_producer(producer: Producer) -> None:
    """Close, and say so when records still wait in the spool (they go first on the next start)."""
    producer.close()
    waiting = int(getattr(producer, "backlog", 0))
    if waiting:
        click.echo(
            f"warning: Kafka is unreachable; {waiting} record(s) wait in the spool and go first next time,"
            " so nothing is lost: check that the broker runs.",
            err=True,
        )


def parse_time(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return iso_to_ms(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time; write it like 2026-11-20T08:00:00+08:00.", param_hint=option
        ) from error


def missing_log(settings: StreamSettings) -> bool:
    """The embedded log's file is not there yet (reading commands then create nothing)."""
    return settings.embedded and not settings.path("db_path").exists()


def backend_name(settings: StreamSettings) -> str:
    return settings.db_path if settings.embedded else f"Kafka {settings.bootstrap_servers}"


# -- topics ------------------------------------------------------------------------------------
@click.group()
def topics() -> None:
    """Create and list the service's topics."""


@topics.command("create")
@demo_option
@config_option
def topics_create(demo: bool, config: Path | None) -> None:
    """Create the service's topics where missing (raw, articles, rejected, …)."""
    settings = load_streams(config, demo_data(demo))
    with opened_log(settings) as log:
        names = create_topics(log, settings)
        click.echo(table(("topic", "partitions"), [(name, log.partitions(name)) for name in names.all()]))
    click.echo(f"topics ready on {backend_name(settings)}")


@topics.command("list")
@demo_option
@config_option
def topics_list(demo: bool, config: Path | None) -> None:
    """List topics with their partitions and record counts."""
    settings = load_streams(config, demo_data(demo))
    if missing_log(settings):
        click.echo(f"no topics yet (no log at {settings.db_path}): create them with `newsflow topics create`.")
        return
    with opened_log(settings) as log:
        rows = []
        for name in sorted(log.topics()):
            ends, starts = log.end_offsets(name), log.beginning_offsets(name)
            rows.append((name, len(ends), sum(ends[p] - starts.get(p, 0) for p in ends)))
        click.echo(
            table(("topic", "partitions", "records"), rows)
            if rows
            else "no topics yet: create them with `newsflow topics create`."
        )


# -- ingest ------------------------------------------------------------------------------------
def check_base_url(base_url: str) -> None:
    """The pages' URLs must be URLs the raw topic takes (its key is the canonical URL)."""
    example = "write it like http://www.example.gov.cn/news."
    try:
        canonical_url(base_url)
        scheme = urlsplit(base_url).scheme
    except ValueError as error:
        raise click.ClickException(f"--base-url {base_url!r} is not a URL ({error}); {example}") from error
    if scheme not in URL_SCHEMES:
        raise click.ClickException(f"--base-url {base_url!r} is not an http(s) URL; {example}")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--site", required=True, metavar="ID", help="Site id the pages belong to (the ce_site header).")
@click.option("--base-url", metavar="URL", help="URL the files are served under; default: their file:// URIs.")
@demo_option
@config_option
def ingest(paths: tuple[Path, ...], site: str, base_url: str | None, demo: bool, config: Path | None) -> None:
    """Put saved pages on the raw topic, as the crawler would.

    Each .html/.htm file (folders are searched) becomes a raw page with status 200, fetched now.

    \b
    Example:
      newsflow ingest saved/ --site siping_gov --base-url http://a.gov.cn/news
    """
    if base_url is not None:
        check_base_url(base_url)
    settings = load_streams(config, demo_data(demo))
    files = [p for path in paths for p in (sorted(path.rglob("*.htm*")) if path.is_dir() else [path])]
    if not files:
        raise click.ClickException("no .html or .htm files in the given folders; pass saved pages or their folder.")
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
@click.command()
@click.option("--exit-when-idle", is_flag=True, help="Stop once the group has cleaned everything on the raw topic.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Records cleaned between commits (default 100).")
@click.option(
    "--log-format", type=click.Choice(["json", "text"]), help="Log lines as JSON (default, as `run`) or text."
)
@demo_option
@config_option
def worker(
    exit_when_idle: bool, batch_size: int | None, log_format: str | None, demo: bool, config: Path | None
) -> None:
    """Clean raw pages into articles and rejections until stopped.

    Runs in the newsflow-cleaner consumer group (start several to share the partitions)
    until SIGTERM or Ctrl-C; logs go to stderr, as `newsflow run` writes them
    ([service] log_format, or --log-format), and what it cleaned to stdout at the end.

    \b
    Example:
      newsflow worker --exit-when-idle
    """
    with stop_on_signals() as stop:  # first: a SIGTERM while starting up stops cleanly too
        service = load_service(config, log_format=log_format)
        setup_worker_logging(service.log_format, service.log_level)
        settings = load_streams(config, demo_data(demo), batch_size=batch_size)
        cleaner = load_cleaner(config)
        runner = run_worker(settings, cleaner, stop, exit_when_idle=exit_when_idle)
    click.echo(summary(runner.cleaning.stats))


def run_worker(settings: StreamSettings, cleaner: CleanerSettings, stop: Event, *, exit_when_idle: bool) -> Worker:
    with opened_log(settings) as log, cleaning_worker(log, settings, cleaner, stop) as runner:
        logging.getLogger("newsflow.worker").info("cleaning %s on %s", runner.raw_topic, backend_name(settings))
        runner.run(exit_when_idle=exit_when_idle)
    return runner


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
        raise click.UsageError(f"choose one of {', '.join(chosen)}: each sets where reading starts.")
    if since is not None:
        return Start("time", parse_time(since, "--since") or 0)
    if offset is not None:
        return Start("offset", offset)
    if from_beginning:
        return Start("earliest")
    return Start("committed")


class Printer(BatchHandler):
    """Prints each record as a JSON line; with a group, the loop commits what was printed."""

    def __init__(self, *, meta: bool, pretty: bool, left: dict[int, int]) -> None:
        self.meta = meta
        self.pretty = pretty
        self.left = left  # partition -> its end when reading began, until a record at the end is printed
        self.printed = self.bad = 0

    def handle(self, batch: Sequence[Message]) -> Handled:
        for message in batch:
            if message.offset + 1 >= self.left.get(message.partition, 0):
                self.left.pop(message.partition, None)
            try:
                view = record_view(message)
            except MalformedRecord as error:
                self.bad += 1
                click.echo(f"skipped: {error}", err=True)
                continue
            if self.meta:
                shown = view
            elif view["value"] is not None:
                shown = view["value"]
            else:
                shown = {"key": view["record"]["key"], "value": None}
            print_record(json.dumps(shown, ensure_ascii=False, indent=2 if self.pretty else None))
            self.printed += 1
        return Handled((), batch)


@click.command()
@click.argument("topic")
@click.option("--group", metavar="NAME", help="Read as this consumer group and commit what was printed.")
@click.option(
    "--from-beginning", is_flag=True, help="Start at the first record, even if the group has committed offsets."
)
@click.option("--since", metavar="TIME", help="Start at the first record fetched at or after this ISO 8601 time.")
@click.option("--offset", type=click.IntRange(min=0), help="Start at this offset in every partition.")
@click.option("--follow", "-f", is_flag=True, help="Keep waiting for new records (until Ctrl-C).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many records.")
@click.option("--pretty", is_flag=True, help="Indent the JSON for people.")
@click.option("--meta", is_flag=True, help="Print each record with its topic, partition, offset, key and headers.")
@demo_option
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
    demo: bool,
    config: Path | None,
) -> None:
    """Print the records of a topic as JSON lines on stdout.

    TOPIC is raw, articles, rejected, crawl-requests, crawl-reports or a full topic name.
    Without --group, starts at the beginning; with one, where the group left off. Without
    --follow, ends at the end of the partitions (as they were when it started).

    \b
    Examples:
      newsflow consume articles --pretty
      newsflow consume articles --demo --limit 3   # what `newsflow demo` made
      newsflow consume rejected --since 2026-11-20T08:00:00+08:00 --limit 10
    """
    start = start_position(from_beginning, since, offset)
    settings = load_streams(config, demo_data(demo))
    if missing_log(settings):
        fix = (
            "run `newsflow demo` first"
            if demo
            else "pass --demo to read what `newsflow demo` made, or set NEWSFLOW_DATA_DIR to the folder of the log"
        )
        raise click.ClickException(f"no log at {settings.db_path}: nothing was crawled or ingested there yet; {fix}.")
    with opened_log(settings) as log, stop_on_signals() as stop:
        name = topics_for(settings).resolve(topic)
        existing = log.topics()
        if name not in existing:
            known = ", ".join(sorted(existing)) or "none yet"
            raise click.ClickException(
                f"no topic {name} on {backend_name(settings)} (topics: {known}); check the name,"
                " or create the service's topics with `newsflow topics create`."
            )
        starts = resolved_start_offsets(log, name, start, group)
        left = {p: end for p, end in log.end_offsets(name).items() if end > starts.get(p, 0)}  # partitions to read
        consumer = log.consumer([name], group=group, start=start)
        printer = Printer(meta=meta, pretty=pretty, left=left)
        loop = ConsumerLoop(
            consumer, printer, producer=None, stop=stop, batch_size=500, poll_timeout=0.5, retry_backoff=0.0
        )
        idle_since = time.monotonic()
        try:
            while not stop.is_set() and (limit is None or printer.printed < limit) and (follow or printer.left):
                if loop.step(max_records=min(500, limit - printer.printed) if limit else 500):
                    idle_since = time.monotonic()
                elif not follow and consumer.assignment() and time.monotonic() - idle_since > IDLE_EXIT:
                    break
        finally:
            consumer.close()
        printed, bad = printer.printed, printer.bad
    click.echo(f"{printed} record(s) from {name}" + (f", {bad} not readable" if bad else ""), err=True)


# -- replay ------------------------------------------------------------------------------------
def rejections(stats: Counter[str]) -> list[tuple[str, int]]:
    return sorted((k.removeprefix("rejected/"), v) for k, v in stats.items() if k.startswith("rejected/"))


def outputs(stats: Counter[str]) -> int:
    """Records the replay produced: articles, tombstones and rejections."""
    return stats["articles"] + stats["tombstones"] + sum(v for _, v in rejections(stats))


def replay_table(stats: Counter[str], read: int) -> str:
    """What the replay made of the records it read: articles, rejections by reason, tombstones, skipped."""
    reasons = rejections(stats)
    made = outputs(stats)
    rows: list[tuple[str, int]] = [
        ("articles", stats["articles"]),
        ("  reposts among them", stats["duplicates"]),
        *((f"rejected: {reason}", count) for reason, count in reasons),
        ("tombstones", stats["tombstones"]),
        ("outside --until / --site", read - made),
    ]
    return table(("outcome", "records"), rows, footer=("raw records read", read))


def replay_target(into: str, names: Topics, existing: set[str]) -> str:
    """The topic ``--into`` names: an articles topic that exists, or a new one named after ``articles``.

    A name that is neither (``newsflow.artcles-v2``) is taken for a typo rather than created.
    """
    target = names.resolve(into)
    if target in set(names.all()) - {names.articles}:
        raise click.BadParameter(
            f"{target} is one of the service's own topics; replay into articles or a copy such as {names.articles}-v2.",
            param_hint="--into",
        )
    if target not in existing and not target.startswith(names.articles):
        raise click.BadParameter(
            f"there is no topic {target}, and a new copy is named after {names.articles} (like {names.articles}-v2);"
            " check the spelling.",
            param_hint="--into",
        )
    return target


@click.command("replay")
@click.option(
    "--since", required=True, metavar="TIME", help="Reclean raw pages fetched at or after this ISO 8601 time."
)
@click.option("--until", metavar="TIME", help="…and before this time.")
@click.option("--site", metavar="ID", help="Only pages of this site id.")
@click.option(
    "--into", metavar="TOPIC", help="Articles go to this topic instead of articles (rejections still go to rejected)."
)
@quiet_option
@demo_option
@config_option
def replay_command(
    since: str, until: str | None, site: str | None, into: str | None, quiet: bool, demo: bool, config: Path | None
) -> None:
    """Reclean raw pages from a point in crawl time.

    Runs the current cleaner again over the raw pages fetched in the window; the keys
    are the canonical URLs again, so replaying twice gives the same keys. Shows
    progress on stderr, then a summary on stdout (as crawl does).

    \b
    Example:
      newsflow replay --since 2026-11-01T00:00:00+08:00 --site siping_gov
      newsflow replay --since 2026-11-01T00:00:00+08:00 --into newsflow.articles-v2
    """
    window = ReplayWindow(parse_time(since, "--since") or 0, parse_time(until, "--until"), site)
    settings = load_streams(config, demo_data(demo))
    started = time.perf_counter()
    with opened_log(settings) as log:
        target = replay_target(into, topics_for(settings), log.topics()) if into else None
        names = create_topics(log, settings, articles_copy=target)
        cleaning = build_cleaning(settings, load_cleaner(config), names, articles_topic=target)
        producer = open_producer(log, settings)
        try:
            with Progress("replaying", quiet=quiet, unit="record") as bar:

                def progress(done: int, total: int) -> None:
                    bar.update(done, total=total, detail=f"{done}/{plural(total, 'record')}")

                read = replay(log, producer, cleaning, window, progress=progress)
        finally:
            close_producer(producer)
            cleaning.close()
    seconds = time.perf_counter() - started
    click.echo(replay_table(cleaning.stats, read))
    rate = f"{read / seconds:.1f}" if seconds > 0 else "-"
    click.echo(f"{read} raw record(s) read in {seconds:.1f} s ({rate} records/s)")
    if site is not None and not outputs(cleaning.stats):
        raise click.ClickException(
            f"no raw page of site {site} was fetched in the window, so nothing was replayed; check the id"
            " (`newsflow consume raw --meta` shows each page's ce_site) or start --since earlier."
        )


COMMANDS = (topics, ingest, worker, consume, replay_command)
