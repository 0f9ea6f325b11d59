"""What the commands show people: tables, progress on stderr, one-line errors with the fix."""

from __future__ import annotations

import gc
import io
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from kafka.errors import KafkaTimeoutError
from scrapy import signals
from scrapy.crawler import Crawler

from cleaner.reasons import Reason
from crawler.run import CrawlEvent, connect_progress, outcome_of, summarise
from crawler.spider import FetchFailed, NewsSpider
from newsflow.cli import main
from newsflow.console import Progress, display_width, elapsed, print_record, table, truncate
from newsflow.crawl_cli import CrawlProgress, report_notes, report_table
from newsflow.options import explain
from newsflow.stream_cli import replay_table
from sinks.log import DeliveryError, LogError
from sinks.topics import Outcome


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- width and tables ----------------------------------------------------------------------------
def test_cjk_characters_are_two_cells_wide() -> None:
    assert display_width("清河市") == 6
    assert display_width("ab") == 2
    assert display_width("清河 news") == 9
    assert display_width("ＡＢ") == 4  # fullwidth forms
    assert display_width("e\u0301") == 1  # a combining accent takes no cell


def test_truncate_counts_cells() -> None:
    assert truncate("清河市人民政府", 7) == "清河市…"
    assert display_width(truncate("清河市人民政府", 7)) <= 7
    assert truncate("short", 10) == "short"


def test_table_lines_up_cjk_and_ascii_rows_and_right_aligns_numbers() -> None:
    text = table(("site", "name", "pages"), [("qinghe", "清河市人民政府", 5), ("a", "ab", 1200)])
    lines = text.splitlines()
    assert lines[0].startswith("site") and set(lines[1]) <= {"-", " "}
    rows = [(lines[0], "name"), (lines[2], "清河市"), (lines[3], "ab")]
    starts = {display_width(line[: line.index(name)]) for line, name in rows}
    assert starts == {len("qinghe  ")}, f"the name column starts in one place:\n{text}"
    ends = {display_width(line) for line, _ in rows}
    assert len(ends) == 1, f"numbers are right-aligned: every row ends in the same column:\n{text}"
    assert lines[2].endswith("    5") and lines[3].endswith(" 1200")


def test_table_footer_alignment_and_cells() -> None:
    text = table(("what", "n", "s"), [("a", 1, 0.25), ("b", None, 10.0)], footer=("total", 1, 10.25))
    lines = text.splitlines()
    assert len(lines) == 6 and lines[4] == lines[1]
    assert lines[2].endswith("1   0.2") or lines[2].endswith("1   0.3")  # one decimal
    assert lines[3].rstrip().endswith("10.0") and " None" not in lines[3]
    assert lines[5].startswith("total")
    left = table(("a", "b"), [("x", 1)], align="ll")
    assert left.splitlines()[2] == "x  1"
    with pytest.raises(ValueError):
        table(("a", "b"), [("x", 1)], align="lx")
    with pytest.raises(ValueError):
        table(("a", "b"), [("x",)])


def test_elapsed() -> None:
    assert elapsed(41.9) == "00:41"
    assert elapsed(3723) == "1:02:03"


# -- progress --------------------------------------------------------------------------------------
def test_progress_in_a_log_writes_every_five_seconds_or_tenth_at_most() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress("replaying", total=1000, stream=out, tty=False, clock=clock) as bar:
        for done in range(0, 1001, 10):  # 1 % per second
            clock.now += 1
            bar.update(done, detail=f"{done}/1000 records")
    lines = out.getvalue().splitlines()
    assert 9 <= len(lines) <= 21, lines
    assert lines[-1].startswith("replaying  100%") and "1000/1000 records" in lines[-1]
    assert "█" not in out.getvalue() and "\r" not in out.getvalue()


def test_progress_in_a_log_without_a_total_only_writes_every_interval() -> None:
    clock, out = Clock(), io.StringIO()
    bar = Progress("crawling", stream=out, tty=False, clock=clock)
    for pages in range(1, 31):  # 30 pages in 15 seconds
        clock.now += 0.5
        bar.update(0, detail=f"{pages} pages")
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines == ["crawling  10 pages  00:05", "crawling  20 pages  00:10", "crawling  30 pages  00:15"]


def test_a_quick_command_writes_nothing_to_a_log() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress("crawling", stream=out, tty=False, clock=clock) as bar:
        bar.update(0, detail="3 pages")
    assert out.getvalue() == ""


def test_progress_on_a_terminal_redraws_one_line() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress("crawling", total=4, stream=out, tty=True, clock=clock) as bar:
        for done in range(5):
            clock.now += 1
            bar.update(done, detail=f"{4 - done} sites left")
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\x1b[K\n")
    assert "\rcrawling  ██████████  0 sites left  00:05" in text
    assert "█████░░░░░" in text  # half way


def test_quiet_progress_writes_nothing_and_stdout_is_refused() -> None:
    out = io.StringIO()
    with Progress("crawling", total=2, stream=out, tty=True, quiet=True) as bar:
        bar.update(2)
    assert out.getvalue() == ""
    with pytest.raises(ValueError):
        Progress("crawling", stream=sys.stdout)


# -- crawl progress ----------------------------------------------------------------------------------
def test_crawl_signals_reach_the_progress_hook() -> None:
    crawler = Crawler(NewsSpider, {})
    heard: list[tuple[str, CrawlEvent]] = []
    connect_progress(crawler, "qinghe", lambda site, event: heard.append((site, event)))
    gc.collect()  # the relays must outlive the call that connected them
    send = crawler.signals.send_catch_log
    send(signals.response_received, response=None, request=None, spider=None)
    send(signals.item_scraped, item=object(), response=None, spider=None)
    send(signals.item_scraped, item=FetchFailed("http://a/1.html", Reason.HTTP_STATUS, "500"), response=None)
    send(signals.item_dropped, item=object(), response=None, exception=None, spider=None)
    send(signals.spider_closed, spider=None, reason="finished")
    assert [e for site, e in heard if site == "qinghe"] == [
        CrawlEvent.FETCHED,
        CrawlEvent.EMITTED,
        CrawlEvent.REJECTED,
        CrawlEvent.DROPPED,
        CrawlEvent.CLOSED,
    ]


def test_crawl_progress_counts_pages_and_sites_left() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress("crawling", total=2, stream=out, tty=True, clock=clock) as bar:
        counter = CrawlProgress(bar, sites=2)
        for event in (CrawlEvent.FETCHED, CrawlEvent.FETCHED, CrawlEvent.EMITTED, CrawlEvent.CLOSED):
            clock.now += 1
            counter("a", event)
    assert (counter.fetched, counter.emitted, counter.closed) == (2, 1, 1)
    assert "█████░░░░░  2 pages  1 new  1 site left  00:04" in out.getvalue()


# -- summaries -------------------------------------------------------------------------------------
def test_crawl_summary_has_a_row_per_site_and_a_total() -> None:
    stats = {
        "downloader/response_count": 12,
        "newsflow/emitted": 5,
        "newsflow/unchanged": 6,
        "newsflow/rejected": 1,
        "newsflow/rejected/fetch.timeout": 1,
        "elapsed_time_seconds": 3.21,
        "finish_reason": "finished",
    }
    capped = {**stats, "newsflow/guard/refused": 2, "finish_reason": "closespider_pagecount"}
    now = "2026-11-23T08:00:00.000Z"
    reports = [summarise("qinghe", "q-1", stats, now), summarise("清河市", "q-2", capped, now)]
    lines = report_table(reports).splitlines()
    assert lines[0].split() == [
        "site",
        "fetched",
        "new/changed",
        "unchanged",
        "rejected",
        "refused",
        "seconds",
        "outcome",
    ]
    assert lines[2].split() == ["qinghe", "12", "5", "6", "1", "0", "3.2", "finished"]
    assert lines[3].split() == ["清河市", "12", "5", "6", "1", "2", "3.2", "capped"]
    assert lines[5].split() == ["total", "24", "10", "12", "2", "2", "3.2"]
    assert any("stopped at max_pages" in note for note in report_notes(reports))


def test_replay_summary_counts_outcomes_by_reason() -> None:
    stats = Counter({"articles": 7, "duplicates": 2, "rejected/quality.too_short": 3, "tombstones": 1})
    text = replay_table(stats, read=15)
    rows = {line[:28].strip(): line[28:].strip() for line in text.splitlines()}
    assert rows["articles"] == "7" and rows["reposts among them"] == "2"
    assert rows["rejected: quality.too_short"] == "3" and rows["tombstones"] == "1"
    assert rows["outside --until / --site"] == "4" and rows["raw records read"] == "15"


# -- errors ----------------------------------------------------------------------------------------
def log_error(message: str, cause: BaseException) -> LogError:
    try:
        raise LogError(message) from cause
    except LogError as error:
        return error


def test_log_errors_say_how_to_fix_them() -> None:
    unreachable = log_error("cannot reach Kafka at k:9092: KafkaTimeoutError", KafkaTimeoutError("no"))
    assert "is the broker running? Set NEWSFLOW_STREAMS_BOOTSTRAP_SERVERS" in explain(unreachable)
    locked = log_error("cannot open the embedded log x.db", sqlite3.OperationalError("database is locked"))
    assert explain(locked).endswith("another newsflow process is writing to it; run again when it is done.")
    missing = log_error("cannot open the embedded log x.db", sqlite3.OperationalError("unable to open"))
    assert "NEWSFLOW_STREAMS_DB_PATH" in explain(missing)
    refused = DeliveryError("1 record(s) not acknowledged (is max.message.bytes low?)", (), permanent=True)
    assert explain(refused) == "1 record(s) not acknowledged (is max.message.bytes low?)."


def write_sites(folder: Path, *ids: str) -> Path:
    folder.mkdir()
    for site_id in ids:
        site = {
            "id": site_id,
            "name": "测试站点",
            "region": {"province": "福建省"},
            "start_urls": ["http://127.0.0.1:1/index.html"],
            "allowed_domains": ["127.0.0.1"],
            "article_url_patterns": [r"/\d+\.html$"],
            "schedule": {"interval_minutes": 60},
        }
        (folder / f"{site_id}.yaml").write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return folder


def test_crawl_argument_errors_are_one_sentence_with_the_fix(tmp_path: Path) -> None:
    sites = str(write_sites(tmp_path / "sites", "alpha", "beta"))
    runner = CliRunner()
    result = runner.invoke(main, ["crawl", "--sites-dir", sites, "--site", "gamma"])
    assert result.exit_code == 1
    assert "no site 'gamma'; known: alpha, beta. Check the id or pass --sites-dir." in result.output
    result = runner.invoke(main, ["crawl", "--sites-dir", sites, "--allow-address", "localhost"])
    assert result.exit_code == 2 and "'localhost' is not an IP address; pass one like 127.0.0.1." in result.output
    result = runner.invoke(main, ["crawl", "--sites-dir", sites, "--report", str(tmp_path / "no" / "r.json")])
    assert result.exit_code == 1 and "there is no folder" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["crawl", "--sites-dir", str(empty)])
    assert result.exit_code == 1 and "no .yaml site files in" in result.output
    assert "Traceback" not in result.output


def test_help_lists_commands_with_examples() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Examples:\n    newsflow demo" in result.output
    for command in ("clean", "consume", "crawl", "demo", "ingest", "replay", "sites", "topics", "worker"):
        assert f"\n  {command} " in result.output
    for command in ("crawl", "replay"):
        assert "--quiet" in CliRunner().invoke(main, [command, "--help"]).output


def test_defect_13_outcomes_say_how_a_crawl_ended() -> None:
    page = {"downloader/response_count": 3, "robotstxt/response_count": 1}
    cases = {
        "finished": Outcome.FINISHED,
        "closespider_pagecount": Outcome.CAPPED,
        "closespider_timeout": Outcome.TIMED_OUT,  # the crawl's own deadline (crawl_timeout)
        "shutdown": Outcome.INTERRUPTED,
        "cancelled": Outcome.FAILED,
    }
    for reason, outcome in cases.items():
        assert outcome_of({**page, "finish_reason": reason}) is outcome, reason
    assert outcome_of(page) is Outcome.INTERRUPTED  # a second signal: no finish reason at all
    only_robots = {"downloader/response_count": 1, "robotstxt/response_count": 1, "finish_reason": "finished"}
    assert outcome_of(only_robots) is Outcome.FAILED
    ended = (Outcome.FINISHED, Outcome.CAPPED, Outcome.FAILED, Outcome.INTERRUPTED)
    assert [o.exit_code for o in ended] == [0, 0, 1, 130]


class Sip(io.RawIOBase):
    """A raw stdout (``PYTHONUNBUFFERED``) whose writes a signal interrupts: each takes a few bytes only."""

    def __init__(self) -> None:
        self.got = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        taken = bytes(data)[:7]  # type: ignore[call-overload]
        self.got += taken
        return len(taken)


def test_a_record_is_written_whole_when_each_write_takes_part_of_it() -> None:
    record = '{"title": "前三季度全市经济运行稳中向好", "body": "' + "规模以上工业增加值同比增长。" * 50 + '"}'
    sip = Sip()
    print_record(record, sip)  # type: ignore[arg-type]
    assert sip.got.decode("utf-8") == record + "\n"


def test_records_go_to_stdout_after_what_was_printed_before(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    print("first", end="\n")
    print_record('{"n": "第二"}')
    assert capsysbinary.readouterr().out == 'first\n{"n": "第二"}\n'.encode()
