"""Structured logs for the service: one JSON object per line on stderr (or plain text for people)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

#: ``extra=`` fields the service attaches (site, crawl id, …) that become JSON keys
STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry = {
            "time": moment.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        extras = {k: v for k, v in record.__dict__.items() if k not in STANDARD and not k.startswith("_")}
        entry = {**extras, **entry}  # an extra field never hides a standard one
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(kind: str = "json", level: str = "INFO") -> None:
    """Route every logger (Scrapy's and kafka-python's included) through one stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    if kind == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "scrapy", "twisted", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # kafka-python logs every refused connection as an error; the log's own messages name the cause
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
