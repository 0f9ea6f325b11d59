"""Site configs: one YAML file per site in ``config/sites/``, validated once into a frozen model.

A site differs from another by its YAML, never by Python: where the news lists
are, how they paginate, which links are articles, and how politely to fetch.
:func:`load_site` turns any problem into a :class:`SiteConfigError` that names
the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.schedule import cron_fields

SITE_ID = r"^[a-z0-9][a-z0-9_-]*$"


def compile_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"not a valid regular expression ({error})") from error
    return value


def compile_selector(value: str | None) -> str | None:
    """A CSS selector the cleaner can use (lxml's cssselect translates it to XPath)."""
    if value is None:
        return None
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(value)
    except SelectorError as error:
        raise ValueError(f"not a valid CSS selector ({error})") from error
    return value


Pattern = Annotated[str, Field(min_length=1)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Region(Frozen):
    province: str
    city: str | None = None
    county: str | None = None

    def label(self) -> str:
        return "/".join(part for part in (self.province, self.city, self.county) if part)


class Pagination(Frozen):
    """How list pages continue: numbered URLs (``index_{n}.html``, ``?page={n}``) and "下一页" links."""

    next_texts: tuple[str, ...] = ("下一页", "下页", "后页", "›", "»")
    max_pages: int = Field(50, ge=1)


class Hints(Frozen):
    """Per-site help for the cleaner when a template defeats the general rules."""

    encoding: str | None = None
    body_selector: str | None = None
    title_selector: str | None = None
    date_selector: str | None = None

    @field_validator("body_selector", "title_selector", "date_selector")
    @classmethod
    def selectors_compile(cls, value: str | None) -> str | None:
        return compile_selector(value)


class Schedule(Frozen):
    """When to crawl: every ``interval_minutes``, or a five-field ``cron`` expression."""

    interval_minutes: int | None = Field(None, ge=1)
    cron: str | None = None

    @model_validator(mode="after")
    def one_of(self) -> Schedule:
        if (self.interval_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of interval_minutes or cron")
        if self.cron is not None:
            cron_fields(self.cron)  # CronError (a ValueError) names the field that cannot be read
        return self


class Politeness(Frozen):
    obey_robots: bool = True
    download_delay: float | None = Field(None, ge=0)
    concurrency: int | None = Field(None, ge=1)
    autothrottle: bool | None = None


class SiteConfig(Frozen):
    id: str = Field(pattern=SITE_ID)
    name: str = Field(min_length=1)
    region: Region
    start_urls: tuple[str, ...] = Field(min_length=1)
    allowed_domains: tuple[str, ...] = Field(min_length=1)
    #: links matching these are list pages (followed for more links); start URLs always are
    list_url_patterns: tuple[Pattern, ...] = ()
    #: links matching these are articles (fetched and emitted as raw pages)
    article_url_patterns: tuple[Pattern, ...] = Field(min_length=1)
    #: what an article's URL gains before its extension on page N of a multi-page article (group 1 = N):
    #: ``t20200209_512345.html`` → ``t20200209_512345_2.html``
    continuation_pattern: Pattern = r"_(\d+)"
    #: links matching these from an article are attachments (PDF, DOC…), recorded with their content type
    attachment_patterns: tuple[Pattern, ...] = (r"\.(?:pdf|docx?|xlsx?|wps)$",)
    pagination: Pagination = Pagination()
    sitemap_urls: tuple[str, ...] = ()
    rss_urls: tuple[str, ...] = ()
    hints: Hints = Hints()
    schedule: Schedule
    #: list-to-list hops from a start URL other than pagination (a section's sub-columns)
    max_depth: int = Field(3, ge=0)
    max_pages: int = Field(1000, ge=1)
    politeness: Politeness = Politeness()

    @field_validator("list_url_patterns", "article_url_patterns", "attachment_patterns")
    @classmethod
    def patterns_compile(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(compile_pattern(v) for v in values)

    @field_validator("continuation_pattern")
    @classmethod
    def continuation_compiles(cls, value: str) -> str:
        return compile_pattern(value)

    @field_validator("start_urls", "sitemap_urls", "rss_urls")
    @classmethod
    def urls_are_http(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for url in values:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return values


class SiteConfigError(ValueError):
    """A site file could not be used; the message names the file and the field."""


def describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(file)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def load_site(path: Path) -> SiteConfig:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SiteConfigError(f"{path}: cannot read: {error}") from error
    if not isinstance(data, dict):
        raise SiteConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as error:
        raise SiteConfigError(f"{path}: {describe(error)}") from error
    if site.id != path.stem:
        raise SiteConfigError(f"{path}: id: {site.id!r} must match the file name {path.stem!r}")
    return site


def load_sites(paths: Iterable[Path]) -> tuple[list[SiteConfig], list[SiteConfigError]]:
    """Every file that loads, and every error, so one bad file does not hide the others."""
    sites, errors = [], []
    for path in sorted(paths):
        try:
            sites.append(load_site(path))
        except SiteConfigError as error:
            errors.append(error)
    return sites, errors
