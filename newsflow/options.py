"""Options and settings shared by the commands; setting errors become one-line CLI errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cleaner import CleanerSettings
from newsflow.settings import SettingsError, cleaner_settings, stream_settings
from sinks.settings import StreamSettings

config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="NEWSFLOW_CONFIG",
    help="TOML file with [cleaner] and [streams] tables (also NEWSFLOW_CONFIG).",
)


def load_cleaner(config: Path | None, **flags: Any) -> CleanerSettings:
    try:
        return cleaner_settings(config, **flags)
    except SettingsError as error:
        raise click.ClickException(f"{error}. Fix the setting and run again.") from error


def load_streams(config: Path | None, **flags: Any) -> StreamSettings:
    try:
        return stream_settings(config, **flags)
    except SettingsError as error:
        raise click.ClickException(f"{error}. Fix the setting and run again.") from error
