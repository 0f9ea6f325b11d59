"""Structured logs: one JSON object per record with the ``extra=`` fields, or plain text for people."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsflow.logs import JsonFormatter, setup_logging

NOISY = ("kafka", "scrapy", "twisted", "urllib3")


@pytest.fixture
def restore_root() -> Iterator[logging.Logger]:
    """``setup_logging`` rewires the root logger: put it back so other tests are not affected."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY}
    try:
        yield root
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing JSON into a buffer (not propagated, so the root is untouched)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("newsflow.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def test_one_json_object_per_record_with_the_standard_fields(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    before = datetime.now(UTC)
    logger.info("crawl %s done: %d pages", "c1", 12)
    logger.warning("second")
    first, second = entries(stream)
    assert set(first) == {"time", "level", "logger", "message", "thread"}
    assert first["level"] == "info" and second["level"] == "warning"
    assert first["logger"] == "newsflow.test_logs"
    assert first["message"] == "crawl c1 done: 12 pages"
    assert first["thread"] == threading.current_thread().name
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    moment = datetime.fromisoformat(first["time"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC) + timedelta(seconds=1)


def test_extra_fields_become_keys(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.info("crawl finished", extra={"site": "s1", "crawl_id": "c", "pages": 3, "_private": "x"})
    (entry,) = entries(stream)
    assert entry["site"] == "s1"
    assert entry["crawl_id"] == "c"
    assert entry["pages"] == 3
    assert "_private" not in entry
    assert entry["message"] == "crawl finished"


def test_values_json_cannot_hold_are_written_as_text(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.info("中文 消息", extra={"path": Path("/tmp/x"), "ids": {1}})
    (line,) = stream.getvalue().splitlines()
    assert "中文 消息" in line  # not \u-escaped
    entry = json.loads(line)
    assert entry["path"] == "/tmp/x"
    assert entry["ids"] == "{1}"


def test_an_exception_goes_under_error_on_the_same_line(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logger.exception("crawl failed", extra={"site": "s1"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    (entry,) = entries(stream)
    assert entry["level"] == "error"
    assert entry["message"] == "crawl failed"
    assert entry["site"] == "s1"
    assert entry["error"].startswith("Traceback (most recent call last):")
    assert "ValueError: boom\nsecond line" in entry["error"]
    assert "test_an_exception_goes_under_error_on_the_same_line" in entry["error"]


def test_no_error_key_without_an_exception(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.error("plain error")
    (entry,) = entries(stream)
    assert "error" not in entry


def test_a_record_from_another_thread_names_it(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    worker = threading.Thread(target=logger.info, args=("from a worker",), name="cleaner-1")
    worker.start()
    worker.join(timeout=10)
    (entry,) = entries(stream)
    assert entry["thread"] == "cleaner-1"


def test_setup_logging_json_routes_the_root_through_one_json_handler(restore_root: logging.Logger) -> None:
    restore_root.addHandler(logging.NullHandler())
    setup_logging("json", "debug")
    assert len(restore_root.handlers) == 1
    handler = restore_root.handlers[0]
    assert isinstance(handler.formatter, JsonFormatter)
    assert restore_root.level == logging.DEBUG
    for name in NOISY[1:]:
        assert logging.getLogger(name).level == logging.WARNING
    # issue 15 item 4: kafka-python's own connection errors are not shown; newsflow's messages name the cause
    assert logging.getLogger("kafka").level == logging.CRITICAL


def test_setup_logging_text_is_not_json(restore_root: logging.Logger) -> None:
    setup_logging("text")
    (handler,) = restore_root.handlers
    assert handler.formatter is not None
    assert not isinstance(handler.formatter, JsonFormatter)
    assert restore_root.level == logging.INFO
    record = logging.LogRecord("newsflow.x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    line = handler.formatter.format(record)
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    assert re.search(r"WARNING\s+\S+ newsflow\.x: hello world$", line)


def test_setup_logging_writes_to_stderr(restore_root: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("json", "INFO")
    logging.getLogger("newsflow.y").info("to stderr", extra={"site": "s9"})
    logging.getLogger("newsflow.y").debug("below the level")
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert json.loads(line)["site"] == "s9"


def test_setup_logging_keeps_noisy_libraries_at_least_at_the_root_level(restore_root: logging.Logger) -> None:
    setup_logging("text", "error")
    assert restore_root.level == logging.ERROR
    for name in NOISY[1:]:
        assert logging.getLogger(name).level == logging.ERROR
    assert logging.getLogger("kafka").level == logging.CRITICAL
