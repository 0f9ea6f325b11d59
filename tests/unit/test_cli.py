"""CLI: ``newsflow clean`` runs in-process (``newsflow demo`` crawls, so it is an integration test)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleaner.identity import article_id
from newsflow.clean_cli import chunk_size
from newsflow.cli import main
from newsflow.console import Progress
from tests.conftest import CMS_FIXTURES, ROOT, SEEDS


def test_clean_prints_one_json_object_per_input_with_its_path(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "003_8831f7879ce4abd2.txt", tmp_path / "a.txt")
    page = next(CMS_FIXTURES.glob("trs_*.html"))
    shutil.copy(page, tmp_path / "b.html")
    (tmp_path / "c.html").write_bytes(b"%PDF-1.4 not a page")
    result = CliRunner().invoke(main, ["clean", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["a.txt", "b.html", "c.html"]
    assert records[0]["title"] == "以使命担当筑起疫情防控安全线——福清市基层防控工作综述"
    assert records[1]["schema"] == "newsflow.article/1"
    assert (records[2]["schema"], records[2]["reason"]) == ("newsflow.rejected/1", "decode.binary")


def test_clean_with_jobs_and_script(tmp_path: Path) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, tmp_path / path.name)
    result = CliRunner().invoke(main, ["clean", "--jobs", "2", "--script", "zh-Hant", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5
    assert records[0]["editor"] == "楊嵐"


def test_pretty_output_is_indented() -> None:
    result = CliRunner().invoke(main, ["clean", "--pretty", str(SEEDS / "004_f2452ddb75c7bb69.txt")])
    assert result.exit_code == 0
    assert result.output.startswith("{\n  ")


def test_bad_setting_is_one_clear_sentence(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[cleaner]\nmin_text_chars = -3\n")
    result = CliRunner().invoke(main, ["clean", "--config", str(config), str(SEEDS)])
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output


def test_clean_of_several_inputs_shows_progress_and_a_summary_on_stderr(tmp_path: Path) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "bin.html").write_bytes(b"%PDF-1.4 not a page")
    result = CliRunner().invoke(main, ["clean", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 6
    assert re.search(r"^articles +5$", result.stderr, re.M) and re.search(
        r"^rejected: decode.binary +1$", result.stderr, re.M
    )
    assert re.search(r"^inputs cleaned +6$", result.stderr, re.M)
    assert re.search(r"^6 inputs cleaned in \d+\.\d s \([\d.]+ inputs/s\)$", result.stderr, re.M), result.stderr
    quiet = CliRunner().invoke(main, ["clean", "--quiet", str(tmp_path)])
    assert "cleaning" not in quiet.stderr and "inputs cleaned" in quiet.stderr


def test_progress_shows_rate_and_time_left() -> None:
    ticks = iter([0.0, 2.0, 2.0])
    stream = io.StringIO()
    bar = Progress("cleaning", total=10, stream=stream, tty=False, clock=lambda: next(ticks), unit="input")
    bar.update(4, detail="4/10")
    assert stream.getvalue() == "cleaning   40%  4/10  2.0 inputs/s  ETA 00:03  00:02\n"


def test_jobs_send_files_a_few_at_a_time_however_big_the_folder() -> None:
    assert chunk_size(7776, 2) <= 4  # was 243: nothing showed for seconds
    assert chunk_size(10, 2) == 1


def test_a_page_on_stdin_with_its_url() -> None:
    page = next(CMS_FIXTURES.glob("trs_*.html")).read_bytes()
    url = "http://www.example.gov.cn/news/2020/1.html"
    result = CliRunner().invoke(main, ["clean", "-", "--url", url], input=page)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["path"], record["url"], record["schema"]) == ("-", url, "newsflow.article/1")
    assert record["id"] == article_id(url, record["content_hash"])


def test_a_file_with_its_url_takes_the_id_of_the_url(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    shutil.copy(next(CMS_FIXTURES.glob("trs_*.html")), page)
    url = "http://www.example.gov.cn/news/2020/1.html"
    record = json.loads(CliRunner().invoke(main, ["clean", str(page), "--url", url]).stdout)
    assert record["url"] == url and record["id"] == article_id(url, record["content_hash"])


def test_clean_refuses_what_it_cannot_clean_as_asked(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "a.html").write_text("<p>x</p>")
    (tmp_path / "b.txt").write_text("x")
    result = CliRunner().invoke(main, ["clean", str(tmp_path / "report.pdf")])
    assert result.exit_code == 1 and "report.pdf: not a .html, .htm or .txt file" in result.output
    assert result.stdout == ""
    result = CliRunner().invoke(main, ["clean", str(tmp_path), "--url", "http://a.gov.cn/"])
    assert result.exit_code == 2 and "--url is the address of one page" in result.output
    result = CliRunner().invoke(main, ["clean", "-", str(tmp_path / "a.html")], input=b"<p>x</p>")
    assert result.exit_code == 2 and "- reads one page from stdin; pass it alone." in result.output


@pytest.mark.timeout(60)
def test_ctrl_c_ends_clean_with_one_sentence(tmp_path: Path) -> None:
    for copy in range(80):
        for path in SEEDS.glob("*.txt"):
            shutil.copy(path, tmp_path / f"{copy}-{path.name}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsflow.cli", "clean", "--jobs", "2", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # unbuffered, a write that Ctrl-C interrupts can take part of a record: the rest must follow
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches it
    )
    assert proc.stdout is not None and proc.stderr is not None
    json.loads(proc.stdout.readline())
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.stdout.read(), proc.stderr.read()  # stderr is a few lines: no pipe fills up
    assert proc.wait(timeout=30) == 130, err
    assert re.search(r"^interrupted after \d+ of 400 inputs \(\d+ articles\);", err, re.M), err
    assert "Aborted" not in err and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert all(json.loads(line) for line in out.split("\n") if line)


def test_the_crawl_help_examples_name_sites_that_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsflow.crawl_cli import crawl, pick_sites

    monkeypatch.chdir(ROOT)  # the examples are written for a clone's top folder
    examples = [
        line.split()[2:] for line in (crawl.help or "").splitlines() if line.strip().startswith("newsflow crawl")
    ]
    assert examples
    for args in examples:
        ctx = crawl.make_context("crawl", args)
        assert pick_sites(ctx.params["sites_dir"], ctx.params["ids"]), args
