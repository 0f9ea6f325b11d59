"""Resolve settings once at start-up: defaults < config file < environment < flags.

Only this module reads the environment. Each section of the TOML file
(``[cleaner]``, ``[streams]``, ``[crawler]``, ``[service]``) and each environment prefix
(``NEWSFLOW_CLEANER_``, ``NEWSFLOW_STREAMS_``, ``NEWSFLOW_CRAWLER_``, ``NEWSFLOW_SERVICE_``) fills one
frozen dataclass (:class:`~cleaner.settings.CleanerSettings`, :class:`~sinks.settings.StreamSettings`,
:class:`~crawler.settings.CrawlerSettings`, :class:`ServiceSettings`)
that is handed down explicitly. The dataclass defaults are the defaults.
"""

from __future__ import annotations

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
        if self.max_crawls < 1 or self.sites_per_crawl < 1:
            raise ValueError("max_crawls and sites_per_crawl must be at least 1")

    def role_list(self) -> list[str]:
        return [r.strip() for r in self.roles.split(",") if r.strip()]


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


def service_settings(config: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> ServiceSettings:
    return resolve(ServiceSettings, section="service", prefix=SERVICE_ENV_PREFIX, config=config, env=env, flags=flags)
