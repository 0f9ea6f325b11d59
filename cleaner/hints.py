"""Per-site hints for a page: what a site config knows better than the general rules.

A site whose template defeats detection can name its encoding and CSS selectors
for the body, the title and the date. Each hint is tried first and falls back to
the general rules when it does not fit the page (a wrong encoding that does not
decode, a selector that matches nothing useful), so a stale hint costs nothing.
The crawler puts a site's hints on its raw records; the worker hands them here.
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
        known = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in values.items() if k in known and v}
        return cls(**chosen) if chosen else None

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
