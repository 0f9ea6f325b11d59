"""Resolve settings once at start-up: defaults < config file < environment < flags.

Only this module reads the environment. The result is a frozen
:class:`~cleaner.settings.CleanerSettings` handed down explicitly.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from cleaner.settings import CleanerSettings

ENV_PREFIX = "NEWSFLOW_CLEANER_"


class SettingsError(ValueError):
    """A setting could not be read; the message names the file or variable."""


def _coerce(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(CleanerSettings)}[name]
    kind = str(kind)
    if "bool" in kind:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw


def cleaner_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> CleanerSettings:
    values: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"cannot read {config}: {error}") from error
        values.update(data.get("cleaner", {}))
    env = os.environ if env is None else env
    known = {f.name for f in fields(CleanerSettings)}
    for key, raw in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name not in known:
                raise SettingsError(f"unknown setting in environment variable {key}")
            try:
                values[name] = _coerce(name, raw)
            except ValueError as error:
                raise SettingsError(f"{key}={raw!r}: {error}") from error
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        return CleanerSettings.from_mapping(values)
    except (TypeError, ValueError) as error:
        raise SettingsError(str(error)) from error
