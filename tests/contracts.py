"""Test helpers shared by unit and integration tests: the published JSON Schemas, reading a topic whole."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from sinks.backends import read_messages
from sinks.log import Log, Message
from sinks.topics import RawPage, record_view
from tests.conftest import CMS_FIXTURES


@cache
def schemas() -> dict[str, Draft202012Validator]:
    """Every schema in ``sinks/schemas``, checked against the 2020-12 meta-schema, by ``$id``."""
    found = {}
    for path in resources.files("sinks").joinpath("schemas").iterdir():
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        found[schema["$id"]] = Draft202012Validator(schema)
    return found


def validate(message: Message) -> dict[str, Any]:
    """The record's JSON view, after checking its value against the schema it names."""
    view = record_view(message)
    if view["value"] is not None:
        schema_id = view["value"]["schema"]
        assert schema_id == message.header("ce_dataschema")
        errors = sorted(schemas()[schema_id].iter_errors(view["value"]), key=str)
        assert not errors, [e.message for e in errors]
    return view


def read_all(log: Log, topic: str, timeout: float = 30.0) -> list[Message]:
    """Everything on ``topic`` up to its current end offsets, in offset order per partition."""
    ends = log.end_offsets(topic)
    want = sum(ends[p] - o for p, o in log.beginning_offsets(topic).items())
    got = read_messages(log, [topic], want=want, timeout=timeout)
    assert len(got) == want, f"read {len(got)} of {want} records from {topic}"
    return sorted(got, key=lambda m: (m.partition, m.offset))


def produce_pages(log: Log, topic: str, copies: int) -> int:
    """``copies`` of every fixture page under distinct URLs, as raw records; returns how many."""
    producer = log.producer()
    pages = sorted(CMS_FIXTURES.glob("*.html"))
    for copy in range(copies):
        for page in pages:
            url = f"http://www.fixture.gov.cn/{copy}/{page.stem}.html"
            raw = RawPage(url, url, 200, page.read_bytes(), "2026-11-20T08:00:00+08:00", "fixture", "c", "text/html")
            producer.send(raw.to_record(topic))
    producer.flush()
    producer.close()
    return copies * len(pages)
