"""Resolve settings once at start-up: defaults < config file < environment < flags.

Only this module reads the environment. Each section of the TOML file
(``[cleaner]``, ``[streams]``, ``[crawler]``, ``[service]``) and each environment prefix
(``NEWSFLOW_CLEANER_``, ``NEWSFLOW_STREAMS_``, ``NEWSFLOW_CRAWLER_``, ``NEWSFLOW_SERVICE_``) fills one
frozen dataclass (:class:`~cleaner.settings.CleanerSettings`, :class:`~sinks.settings.StreamSettings`,
:class:`~crawler.settings.CrawlerSettings`, :class:`ServiceSettings`)
that is handed down explicitly. The dataclass defaults are the defaults.

Every state file (the embedded log, the spool, the near-duplicate index, the crawl state,
the service state) defaults to a path under ``data/``; one data directory
(``NEWSFLOW_DATA_DIR``, or ``data_dir`` above the tables of the file) moves them together.
File values are type-checked as environment values are parsed: a string where a number
belongs, an unknown table or key, is an error naming the file, the table and the key.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from cleaner.settings import CleanerSettings
from crawler.settings import CrawlerSettings
from sinks.settings import StreamSettings

ENV_PREFIX = "NEWSFLOW_CLEANER_"
STREAMS_ENV_PREFIX = "NEWSFLOW_STREAMS_"
CRAWLER_ENV_PREFIX = "NEWSFLOW_CRAWLER_"
SERVICE_ENV_PREFIX = "NEWSFLOW_SERVICE_"
ROLES = ("scheduler", "crawler", "cleaner")
#: moves every state file (log, spool, near-duplicate index, crawl state, service state) together
DATA_DIR_ENV = "NEWSFLOW_DATA_DIR"
#: the folder the state files' defaults lie in
DEFAULT_DATA_DIR = "data"

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting could not be read; the message names the file or variable."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """``newsflow run``: which roles, where its state and metrics are, how crawls are spread."""

    #: roles this process runs, comma-separated: scheduler, crawler, cleaner
    roles: str = ",".join(ROLES)
    #: /metrics and /healthz; port 0 picks a free port (logged), -1 turns the endpoint off
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108
    #: the scheduler's state: crawl history, canaries, next runs (``newsflow status`` reads it)
    state_path: str = "data/service.db"
    #: consumer group of the crawler instances on ``crawl-requests``
    crawler_group: str = "newsflow-crawlers"
    #: crawl child processes one crawler instance runs at once
    max_crawls: int = 2
    #: sites one crawl child crawls together (each keeps its own politeness)
    sites_per_crawl: int = 25
    #: share of a site's interval its first run is delayed by, at random (spreads the start)
    jitter: float = 0.1
    #: poll interval schedules more often where crawls find many new pages, less where none
    adaptive: bool = True
    #: a crawl request nobody reported within this is given up and scheduled again
    crawl_timeout_minutes: int = 360
    #: a reported crawl is judged by the canaries once its outputs are in, or after this
    settle_seconds: float = 600.0
    #: json (one object per line, for log collectors) or text
    log_format: str = "json"
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.role_list()) - set(ROLES))
        if unknown or not self.role_list():
            raise ValueError(f"roles must be some of {', '.join(ROLES)}, not {self.roles!r}")
        if self.log_format not in ("json", "text"):
            raise ValueError(f"log_format must be json or text, not {self.log_format!r}")
        if not -1 <= self.metrics_port <= 65535:
            raise ValueError(
                f"metrics_port must be -1 (none), 0 (any free port) or up to 65535, not {self.metrics_port}"
            )
        if self.max_crawls < 1 or self.sites_per_crawl < 1:
            raise ValueError("max_crawls and sites_per_crawl must be at least 1")

    def role_list(self) -> list[str]:
        return [r.strip() for r in self.roles.split(",") if r.strip()]


#: the tables of the config file, one per settings object
SECTIONS: dict[str, type[Any]] = {
    "cleaner": CleanerSettings,
    "streams": StreamSettings,
    "crawler": CrawlerSettings,
    "service": ServiceSettings,
}


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


def _toml_kind(kind: str) -> str:
    """What a TOML value of a field of type ``kind`` must be: a boolean, an integer, a number or a string."""
    if "bool" in kind:
        return "bool"
    if "int" in kind:
        return "int"
    if "float" in kind:
        return "float"
    return "str"


TOML_KINDS: dict[str, tuple[str, tuple[type, ...]]] = {
    "bool": ("true or false", (bool,)),
    "int": ("a whole number", (int,)),
    "float": ("a number", (int, float)),
    "str": ("a string in quotes", (str,)),
}


def check_value(where: str, name: str, kind: str, value: Any) -> None:
    """A TOML value of the field's type, or a :class:`SettingsError` naming the file, table and key."""
    wanted, types = TOML_KINDS[_toml_kind(kind)]
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        shown = json.dumps(value, ensure_ascii=False, default=str)
        raise SettingsError(f"{where} {name} must be {wanted}, not {shown}")


def check_table(config: Path, section: str, table: Mapping[str, Any]) -> None:
    """Every key of a table is a setting of its object, with a value of that setting's type."""
    kinds = {f.name: str(f.type) for f in fields(SECTIONS[section])}
    unknown = sorted(set(table) - set(kinds))
    if unknown:
        raise SettingsError(f"{config}: unknown [{section}] setting(s): {', '.join(unknown)}")
    for name, value in table.items():
        check_value(f"{config}: [{section}]", name, kinds[name], value)


def read_config(config: Path | None) -> dict[str, Any]:
    """The config file's tables; anything but the known tables and ``data_dir`` at the top is an error."""
    if config is None:
        return {}
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read {config}: {error}") from error
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):
            check_table(config, key, value)
            continue
        if key == "data_dir":
            check_value(f"{config}:", key, "str", value)
            continue
        known = ", ".join(f"[{name}]" for name in SECTIONS)
        what = f"table [{key}]" if isinstance(value, dict) else f"top-level key {key}"
        raise SettingsError(f"{config}: unknown {what} (the tables are {known}, and data_dir may stand above them)")
    return data


def data_dir(config: Path | None, env: Mapping[str, str] | None = None) -> str | None:
    """The data directory: ``NEWSFLOW_DATA_DIR``, else ``data_dir`` at the top of the config file, else none."""
    env = os.environ if env is None else env
    if env.get(DATA_DIR_ENV):
        return env[DATA_DIR_ENV]
    value = read_config(config).get("data_dir")
    return str(value) if value else None


def in_data_dir(cls: type[Any], folder: str) -> dict[str, str]:
    """The state files of ``cls`` moved into ``folder``: every field whose default lies under ``data/``."""
    moved = {}
    for f in fields(cls):
        default = f.default
        if isinstance(default, str) and default.startswith(DEFAULT_DATA_DIR + "/"):
            moved[f.name] = str(Path(folder) / default.removeprefix(DEFAULT_DATA_DIR + "/"))
    return moved


def resolve(
    cls: type[T],
    *,
    section: str,
    prefix: str,
    config: Path | None,
    env: Mapping[str, str] | None,
    flags: Mapping[str, Any],
    data: str | None = None,
) -> T:
    """One settings object from its file section, its environment variables and flags, in that order.

    The data directory (:func:`data_dir`) moves the defaults of every state file together; a
    path set on its own still wins. ``data`` is a data directory given as a flag (``--demo``):
    it wins over every path setting.
    """
    kinds = {f.name: str(f.type) for f in fields(cls)}  # type: ignore[arg-type]
    env = os.environ if env is None else env
    folder = data_dir(config, env)
    values: dict[str, Any] = in_data_dir(cls, folder) if folder else {}
    values.update(read_config(config).get(section, {}))
    for key, raw in env.items():
        if key.startswith(prefix):
            name = key[len(prefix) :].lower()
            if name not in kinds:
                raise SettingsError(f"unknown setting in environment variable {key}")
            try:
                values[name] = _coerce(kinds[name], raw)
            except ValueError as error:
                raise SettingsError(f"{key}={raw!r}: {error}") from error
    if data is not None:
        values.update(in_data_dir(cls, data))
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise SettingsError(str(error)) from error


def cleaner_settings(
    config: Path | None = None, env: Mapping[str, str] | None = None, *, data: str | None = None, **flags: Any
) -> CleanerSettings:
    return resolve(
        CleanerSettings, section="cleaner", prefix=ENV_PREFIX, config=config, env=env, flags=flags, data=data
    )


def stream_settings(
    config: Path | None = None, env: Mapping[str, str] | None = None, *, data: str | None = None, **flags: Any
) -> StreamSettings:
    return resolve(
        StreamSettings, section="streams", prefix=STREAMS_ENV_PREFIX, config=config, env=env, flags=flags, data=data
    )


def crawler_settings(
    config: Path | None = None, env: Mapping[str, str] | None = None, *, data: str | None = None, **flags: Any
) -> CrawlerSettings:
    return resolve(
        CrawlerSettings, section="crawler", prefix=CRAWLER_ENV_PREFIX, config=config, env=env, flags=flags, data=data
    )


def service_settings(
    config: Path | None = None, env: Mapping[str, str] | None = None, *, data: str | None = None, **flags: Any
) -> ServiceSettings:
    return resolve(
        ServiceSettings, section="service", prefix=SERVICE_ENV_PREFIX, config=config, env=env, flags=flags, data=data
    )
