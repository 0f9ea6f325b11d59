"""Options and settings shared by the commands; what a user can fix becomes a one-line CLI error.

Light to import, as every command's ``--help`` imports it: the settings (which load the
cleaner) and Kafka's errors are imported when a command runs.

Setting errors (a bad value in the config file or a ``NEWSFLOW_*`` variable) and log
errors (Kafka unreachable, the embedded log's file unusable) end the command with one
sentence that says what is wrong and how to fix it. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from sinks.log import DeliveryError, LogError

if TYPE_CHECKING:
    from cleaner import CleanerSettings
    from crawler.settings import CrawlerSettings
    from newsflow.settings import ServiceSettings
    from sinks.settings import StreamSettings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

KAFKA_HINT = (
    "is the broker running? Set NEWSFLOW_STREAMS_BOOTSTRAP_SERVERS (or [streams] bootstrap_servers) to its"
    " address, or leave it empty for the embedded log."
)
DB_PATH = "NEWSFLOW_STREAMS_DB_PATH (or [streams] db_path)"
LOCKED_HINT = "another newsflow process is writing to it; run again when it is done."
NOT_A_LOG_HINT = f"set {DB_PATH} to a newsflow log, or to a new file."
FILE_HINT = f"check that it is a file in a folder you can write, or set {DB_PATH} to another file."

_config = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="NEWSFLOW_CONFIG",
    help="TOML file with [cleaner], [streams], [crawler] and [service] tables (also NEWSFLOW_CONFIG).",
)

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress on stderr (the summary is still printed).")


def explain(error: LogError) -> str:
    """The log error as one sentence with the fix, when the cause says what the fix is."""
    from kafka.errors import RetriableError

    message = str(error).rstrip(". ")
    cause = error.__cause__
    if isinstance(error, DeliveryError) and error.permanent:
        hint = ""  # Kafka refused the records; the message says why
    elif isinstance(cause, RetriableError) or message.startswith("cannot reach Kafka"):
        hint = KAFKA_HINT
    elif isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause):
        hint = LOCKED_HINT
    elif isinstance(cause, sqlite3.DatabaseError) and not isinstance(cause, sqlite3.OperationalError):
        hint = NOT_A_LOG_HINT
    elif isinstance(cause, sqlite3.Error | OSError):
        hint = FILE_HINT
    else:
        hint = ""
    return f"{message}; {hint}" if hint else f"{message}."


@contextmanager
def log_errors() -> Iterator[None]:
    """Turn a :class:`~sinks.log.LogError` into a one-line CLI error (see :func:`explain`)."""
    try:
        yield
    except LogError as error:
        raise click.ClickException(explain(error)) from error


def config_option(command: F) -> F:
    """``--config FILE``, for every command that reads settings.

    Such commands use the log, so this also turns the log's errors into one-line errors.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with log_errors():
            return command(*args, **kwargs)

    return cast(F, _config(run))


def setting_fix(message: str, config: Path | None) -> str:
    """How to fix the setting an error message names: its variable, its file, else either."""
    if "NEWSFLOW_" in message:
        return "fix or unset that variable and run again."
    if config is not None and str(config) in message:
        return f"fix {config} and run again."
    if config is not None:
        return f"fix it in {config} (or its NEWSFLOW_* variable) and run again."
    return "fix the setting (in the --config file or its NEWSFLOW_* variable) and run again."


def _load(resolve: Callable[..., T], config: Path | None, flags: dict[str, Any]) -> T:
    from newsflow.settings import SettingsError

    try:
        return resolve(config, **flags)
    except SettingsError as error:
        message = str(error).rstrip(". ")
        raise click.ClickException(f"{message}; {setting_fix(message, config)}") from error


def load_cleaner(config: Path | None, **flags: Any) -> CleanerSettings:
    from newsflow.settings import cleaner_settings

    return _load(cleaner_settings, config, flags)


def load_streams(config: Path | None, **flags: Any) -> StreamSettings:
    from newsflow.settings import stream_settings

    return _load(stream_settings, config, flags)


def load_crawler(config: Path | None, **flags: Any) -> CrawlerSettings:
    from newsflow.settings import crawler_settings

    return _load(crawler_settings, config, flags)


def load_service(config: Path | None, **flags: Any) -> ServiceSettings:
    from newsflow.settings import service_settings

    return _load(service_settings, config, flags)
