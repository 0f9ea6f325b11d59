"""Resolve settings once at start-up: defaults < config file < environment < flags.

Only this module reads the environment. Each section of the TOML file
(``[cleaner]``, ``[streams]``, ``[crawler]``) and each environment prefix
(``NEWSFLOW_CLEANER_``, ``NEWSFLOW_STREAMS_``, ``NEWSFLOW_CRAWLER_``) fills one frozen dataclass
(:class:`~cleaner.settings.CleanerSettings`, :class:`~sinks.settings.StreamSettings`,
:class:`~crawler.settings.CrawlerSettings`)
that is handed down explicitly. The dataclass defaults are the defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from cleaner.settings import CleanerSettings
from crawler.settings import CrawlerSettings
from sinks.settings import StreamSettings

ENV_PREFIX = "NEWSFLOW_CLEANER_"
STREAMS_ENV_PREFIX = "NEWSFLOW_STREAMS_"
CRAWLER_ENV_PREFIX = "NEWSFLOW_CRAWLER_"

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting could not be read; the message names the file or variable."""


def _coerce(kind: str, raw: str) -> Any:
    if "None" in kind and raw.strip() == "":
        return None
    if "bool" in kind:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw


def read_config(config: Path | None) -> dict[str, Any]:
    if config is None:
        return {}
    try:
        return tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read {config}: {error}") from error


def resolve(
    cls: type[T],
    *,
    section: str,
    prefix: str,
    config: Path | None,
    env: Mapping[str, str] | None,
    flags: Mapping[str, Any],
) -> T:
    """One settings object from its file section, its environment variables and flags, in that order."""
    kinds = {f.name: str(f.type) for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = dict(read_config(config).get(section, {}))
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise SettingsError(f"{config}: unknown [{section}] setting(s): {', '.join(unknown)}")
    env = os.environ if env is None else env
    for key, raw in env.items():
        if key.startswith(prefix):
            name = key[len(prefix) :].lower()
            if name not in kinds:
                raise SettingsError(f"unknown setting in environment variable {key}")
            try:
                values[name] = _coerce(kinds[name], raw)
            except ValueError as error:
                raise SettingsError(f"{key}={raw!r}: {error}") from error
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise SettingsError(str(error)) from error


def cleaner_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> CleanerSettings:
    return resolve(CleanerSettings, section="cleaner", prefix=ENV_PREFIX, config=config, env=env, flags=flags)


def stream_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> StreamSettings:
    return resolve(StreamSettings, section="streams", prefix=STREAMS_ENV_PREFIX, config=config, env=env, flags=flags)


def crawler_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> CrawlerSettings:
    return resolve(CrawlerSettings, section="crawler", prefix=CRAWLER_ENV_PREFIX, config=config, env=env, flags=flags)
