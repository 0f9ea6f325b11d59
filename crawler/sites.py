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

import re2
import yaml
from cssselect import GenericTranslator, SelectorError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from cleaner.hints import HINT_FIELDS
from crawler.schedule import fires_every_year

SITE_ID = r"^[a-z0-9][a-z0-9_-]*$"
#: a host name as Scrapy's offsite check compares it: no scheme, path, port or blank
DOMAIN = r"^[^\s/:@?#]+$"
#: bounds that keep a site's numbers meaningful (a delay of an hour is already a site that is not crawled)
MAX_DELAY_SECONDS = 3600.0
MAX_INTERVAL_MINUTES = 366 * 24 * 60
MAX_CONCURRENCY = 64
MAX_PAGES = 1_000_000
RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False  # the error reaches the user as a SiteConfigError instead


def compile_pattern(value: str, *, flags: str = "") -> re2._Regexp:
    """A site pattern, compiled by RE2: linear time whatever the pattern (``(a+)+b`` cannot hang a crawl).

    RE2 has no backreferences or lookarounds; a pattern that needs them is refused here, at validation.
    """
    try:
        return re2.compile(flags + value, options=RE2_OPTIONS)
    except re2.error as error:
        message = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) else error
        raise ValueError(f"not a valid RE2 regular expression ({message})") from error


def checked_pattern(value: str) -> str:
    compile_pattern(value)
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
    max_pages: int = Field(50, ge=1, le=MAX_PAGES)


class SiteHints(Frozen):
    """Per-site help for the cleaner when a template defeats the general rules: the cleaner's
    :class:`~cleaner.hints.PageHints`, field for field (``Hints`` is built from it); selectors must parse."""

    @model_validator(mode="after")
    def selectors_parse(self) -> SiteHints:
        for name, value in self:
            if name.endswith("_selector") and value:
                try:
                    GenericTranslator().css_to_xpath(value)
                except SelectorError as error:
                    raise ValueError(f"{name} {value!r} is not a CSS selector ({error})") from error
        return self


HINT_TYPES: dict[str, Any] = {name: (str | None, None) for name in HINT_FIELDS}
Hints = create_model("Hints", __base__=SiteHints, **HINT_TYPES)


class Schedule(Frozen):
    """When to crawl: every ``interval_minutes``, or a five-field ``cron`` expression."""

    interval_minutes: int | None = Field(None, ge=1, le=MAX_INTERVAL_MINUTES)
    cron: str | None = None

    @model_validator(mode="after")
    def one_of(self) -> Schedule:
        if (self.interval_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of interval_minutes or cron")
        if self.cron is not None and not fires_every_year(self.cron):  # CronError names an unreadable field
            raise ValueError(f"cron {self.cron!r} does not fire every year (no such day in those months)")
        return self


class Politeness(Frozen):
    obey_robots: bool = True
    download_delay: float | None = Field(None, ge=0, le=MAX_DELAY_SECONDS, allow_inf_nan=False)
    concurrency: int | None = Field(None, ge=1, le=MAX_CONCURRENCY)
    autothrottle: bool | None = None


class SiteConfig(Frozen):
    id: str = Field(pattern=SITE_ID)
    name: str = Field(min_length=1)
    region: Region
    start_urls: tuple[str, ...] = Field(min_length=1)
    allowed_domains: tuple[Annotated[str, Field(pattern=DOMAIN)], ...] = Field(min_length=1)
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
    max_depth: int = Field(3, ge=0, le=100)
    max_pages: int = Field(1000, ge=1, le=MAX_PAGES)
    politeness: Politeness = Politeness()

    @field_validator("list_url_patterns", "article_url_patterns", "attachment_patterns")
    @classmethod
    def patterns_compile(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(checked_pattern(v) for v in values)

    @field_validator("continuation_pattern")
    @classmethod
    def continuation_has_a_page_number(cls, value: str) -> str:
        if compile_pattern(value).groups < 1:
            raise ValueError(f"{value!r} needs a group for the page number, as in the default _(\\d+)")
        return value

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
    """The site in ``path``; whatever is wrong with the file (bytes, YAML, fields) is a :class:`SiteConfigError`."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SiteConfigError(f"{path}: cannot read: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except RecursionError as error:
        raise SiteConfigError(f"{path}: cannot read: nested too deep") from error
    except (OSError, ValueError, yaml.YAMLError) as error:  # ValueError: a YAML date like 2020-13-45
        raise SiteConfigError(f"{path}: cannot read: {error}") from error
    if not isinstance(data, dict):
        raise SiteConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as error:
        raise SiteConfigError(f"{path}: {describe(error)}") from error
    except RecursionError as error:
        raise SiteConfigError(f"{path}: a value is nested too deep") from error
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
