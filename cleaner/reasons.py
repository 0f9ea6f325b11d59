"""Rejection reasons: the stable vocabulary of ``newsflow.rejected``.

The values are a contract with every consumer of the rejected topic: add new
members, never rename or remove one. Each value is ``<stage>.<reason>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cleaner.records import EncodingInfo


class Stage(StrEnum):
    FETCH = "fetch"
    DECODE = "decode"
    EXTRACT = "extract"
    QUALITY = "quality"
    PUBLISH = "publish"  # the cleaning worker, after the cleaner: identity, the near-duplicate index


class Reason(StrEnum):
    # fetch: decided by the cleaning worker from the raw record, before the cleaner runs
    HTTP_STATUS = "fetch.http_status"
    GONE = "fetch.gone"
    MALFORMED_RECORD = "fetch.malformed_record"
    RECORD_TOO_LARGE = "fetch.record_too_large"
    # fetch: decided by the crawler when no response body came back
    TIMEOUT = "fetch.timeout"
    DOWNLOAD_TOO_LARGE = "fetch.too_large"
    FETCH_FAILED = "fetch.failed"
    REDIRECT_LOOP = "fetch.redirect_loop"  # a redirect back to a URL of its own chain, or too many of them
    BAD_REDIRECT = "fetch.bad_redirect"  # a redirect to a scheme the crawler does not fetch (file:, data:)
    BAD_LINK = "fetch.bad_link"  # a link on a list page that is not a URL (``http://[bad/``)
    # decode
    EMPTY_BODY = "decode.empty_body"
    TOO_LARGE = "decode.too_large"
    BINARY = "decode.binary"
    NOT_HTML = "decode.not_html"
    HOPELESS_MOJIBAKE = "decode.hopeless_mojibake"
    # extract
    NO_BODY = "extract.no_body"
    PARSE_ERROR = "extract.parse_error"
    TIME_LIMIT = "extract.time_limit"  # cleaning the page took longer than the worker allows
    # quality
    EMPTY = "quality.empty"
    TOO_SHORT = "quality.too_short"
    NOT_CHINESE = "quality.not_chinese"
    RESIDUAL_MOJIBAKE = "quality.residual_mojibake"
    SPAM = "quality.spam"
    # anything a stage did not foresee, by the stage it happened in; the detail carries the exception
    FETCH_INTERNAL_ERROR = "fetch.internal_error"
    DECODE_INTERNAL_ERROR = "decode.internal_error"
    INTERNAL_ERROR = "extract.internal_error"
    QUALITY_INTERNAL_ERROR = "quality.internal_error"
    PUBLISH_INTERNAL_ERROR = "publish.internal_error"

    @classmethod
    def internal(cls, stage: Stage) -> Reason:
        """The internal error of ``stage``."""
        return cls(f"{stage.value}.internal_error")

    @property
    def stage(self) -> Stage:
        return Stage(self.value.split(".", 1)[0])


class Reject(Exception):
    """Raised by a stage to turn the page into a :class:`Rejection`."""

    def __init__(self, reason: Reason, detail: str, encoding: EncodingInfo | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.encoding = encoding  # set when the bytes were decoded before the rejection


class StageFailed(Exception):
    """An unforeseen error inside a stage, with the stage it happened in (see :func:`in_stage`)."""

    def __init__(self, stage: Stage, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.stage = stage
        self.error = error


@contextmanager
def in_stage(stage: Stage) -> Iterator[None]:
    """Within the block an unforeseen exception becomes :class:`StageFailed` naming ``stage``."""
    try:
        yield
    except (Reject, StageFailed):
        raise
    except Exception as error:
        raise StageFailed(stage, error) from error
