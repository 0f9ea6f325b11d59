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

CONFIG_ENV = "NEWSFLOW_CONFIG"


def check_config(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A config file that exists; a bad one is named as where it came from, the flag or ``NEWSFLOW_CONFIG``."""
    if value is None or value.is_file():
        return value
    problem = "is a folder" if value.is_dir() else "does not exist"
    if ctx.get_parameter_source(param.name or "config") is click.core.ParameterSource.ENVIRONMENT:
        raise click.ClickException(f"{CONFIG_ENV}={value} {problem}; point it to a TOML file, or unset it.")
    raise click.BadParameter(f"{value} {problem}; pass a TOML file.", ctx=ctx, param=param)


_config = click.option(
    "--config",
    type=click.Path(dir_okay=True, path_type=Path),
    envvar=CONFIG_ENV,
    callback=check_config,
    help="TOML file with [cleaner], [streams], [crawler] and [service] tables (also NEWSFLOW_CONFIG).",
)

#: where ``newsflow demo`` keeps its log, index and service state; ``--demo`` points a command there
DEMO_DATA = Path("data/demo")

demo_option = click.option(
    "--demo", is_flag=True, help="Use the data `newsflow demo` left in data/demo (its log, index and state)."
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


def demo_data(demo: bool) -> Path | None:
    """The data directory a ``--demo`` flag asks for: the demo's, or none (the configured one)."""
    return DEMO_DATA if demo else None


def _load(resolve: Callable[..., T], config: Path | None, data: Path | None, flags: dict[str, Any]) -> T:
    from newsflow.settings import SettingsError

    try:
        return resolve(config, data=None if data is None else str(data), **flags)
    except SettingsError as error:
        message = str(error).rstrip(". ")
        raise click.ClickException(f"{message}; {setting_fix(message, config)}") from error


def load_cleaner(config: Path | None, **flags: Any) -> CleanerSettings:
    from newsflow.settings import cleaner_settings

    return _load(cleaner_settings, config, None, flags)


def load_streams(config: Path | None, data: Path | None = None, **flags: Any) -> StreamSettings:
    """The stream settings; ``data`` puts every state file in that folder (``--demo``)."""
    from newsflow.settings import stream_settings

    return _load(stream_settings, config, data, flags)


def load_crawler(config: Path | None, data: Path | None = None, **flags: Any) -> CrawlerSettings:
    from newsflow.settings import crawler_settings

    return _load(crawler_settings, config, data, flags)


def load_service(config: Path | None, data: Path | None = None, **flags: Any) -> ServiceSettings:
    from newsflow.settings import service_settings

    return _load(service_settings, config, data, flags)
