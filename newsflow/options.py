"""Options and settings shared by the commands; setting errors become one-line CLI errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cleaner import CleanerSettings
from crawler.settings import CrawlerSettings
from newsflow.settings import SettingsError, cleaner_settings, crawler_settings, stream_settings
from sinks.settings import StreamSettings

T = TypeVar("T")

config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="NEWSFLOW_CONFIG",
    help="TOML file with [cleaner], [streams] and [crawler] tables (also NEWSFLOW_CONFIG).",
)


def _load(resolve: Callable[..., T], config: Path | None, flags: dict[str, Any]) -> T:
    try:
        return resolve(config, **flags)
    except SettingsError as error:
        raise click.ClickException(f"{error}. Fix the setting and run again.") from error


def load_cleaner(config: Path | None, **flags: Any) -> CleanerSettings:
    return _load(cleaner_settings, config, flags)


def load_streams(config: Path | None, **flags: Any) -> StreamSettings:
    return _load(stream_settings, config, flags)


def load_crawler(config: Path | None, **flags: Any) -> CrawlerSettings:
    return _load(crawler_settings, config, flags)
