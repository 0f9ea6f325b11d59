"""Records that leave the cleaner: :class:`Article` and :class:`Rejection`.

Both are frozen, carry a ``schema`` string and have one ``to_dict``/``from_dict``
pair (``to_json``/``from_json`` for the wire).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cleaner.reasons import Reason

ARTICLE_SCHEMA = "newsflow.article/1"
REJECTION_SCHEMA = "newsflow.rejected/1"


@dataclass(frozen=True, slots=True)
class EncodingInfo:
    """How the body bytes became text. Nothing is replaced silently."""

    declared: str | None  # charset the page or HTTP header claimed
    detected: str | None  # what the bytes look like (BOM, validation, detector)
    used: str  # the codec the text was decoded with
    confidence: float  # 0..1 that ``used`` is right
    replacement_ratio: float  # share of characters that are U+FFFD
    source: str  # http, bom, meta, detector, validation, text
    declared_wrong: bool = False


@dataclass(frozen=True, slots=True)
class Quality:
    score: float
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    url: str | None
    title: str | None
    text: str
    script: str  # the script the page is written in: zh-Hans, zh-Hant or mixed
    quality: Quality
    content_hash: str
    simhash: str
    cleaner_version: str
    text_script: str | None = None  # the script text and fields are in (zh-Hans, zh-Hant, or mixed as found)
    subtitle: str | None = None
    summary: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    editor: str | None = None
    keywords: tuple[str, ...] = ()
    published_at: str | None = None
    text_original: str | None = None
    encoding: EncodingInfo | None = None
    repairs: dict[str, int] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    field_sources: dict[str, str] = field(default_factory=dict)
    site: str | None = None
    region: str | None = None
    duplicate_of: str | None = None
    fetched_at: str | None = None
    raw_ref: str | None = None
    schema: str = ARTICLE_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["keywords"] = list(self.keywords)
        data["removed"] = list(self.removed)
        data["quality"]["flags"] = list(self.quality.flags)
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["quality"] = Quality(score=data["quality"]["score"], flags=tuple(data["quality"].get("flags", ())))
        if data.get("encoding"):
            values["encoding"] = EncodingInfo(**data["encoding"])
        for name in ("authors", "keywords", "removed"):
            values[name] = tuple(data.get(name) or ())
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> Article:
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class Rejection:
    url: str | None
    reason: Reason
    detail: str
    encoding: EncodingInfo | None = None
    raw_ref: str | None = None
    site: str | None = None
    fetched_at: str | None = None  # when the page was fetched (ISO 8601), when it was
    schema: str = REJECTION_SCHEMA

    @property
    def stage(self) -> str:
        return self.reason.stage.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "url": self.url,
            "stage": self.stage,
            "reason": self.reason.value,
            "detail": self.detail,
            "encoding": asdict(self.encoding) if self.encoding else None,
            "raw_ref": self.raw_ref,
            "site": self.site,
            "fetched_at": self.fetched_at,
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rejection:
        return cls(
            url=data.get("url"),
            reason=Reason(data["reason"]),
            detail=data["detail"],
            encoding=EncodingInfo(**data["encoding"]) if data.get("encoding") else None,
            raw_ref=data.get("raw_ref"),
            site=data.get("site"),
            fetched_at=data.get("fetched_at"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Rejection:
        return cls.from_dict(json.loads(text))
