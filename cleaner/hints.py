"""Per-site hints for a page: what a site config knows better than the general rules.

A site whose template defeats detection can name its encoding and CSS selectors
for the body, the title and the date. Each hint is tried first and falls back to
the general rules when it does not fit the page (a wrong encoding that does not
decode, a selector that matches nothing useful), so a stale hint costs nothing.
The crawler puts a site's hints on its raw records; the worker hands them here.
:class:`PageHints` is the one definition: the site file's ``hints`` block
(:mod:`crawler.sites`) and the raw record's headers (:mod:`sinks.topics`) are
derived from its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class PageHints:
    encoding: str | None = None
    body_selector: str | None = None
    title_selector: str | None = None
    date_selector: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str | None]) -> PageHints | None:
        chosen = {k: v for k, v in values.items() if k in HINT_FIELDS and v}
        return cls(**chosen) if chosen else None

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in HINT_FIELDS if getattr(self, name)}


#: the hints' names, defined once here: a site file's ``hints`` keys and the raw record's ``ce_hint*`` headers
HINT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PageHints))
