"""CLI: ``newsflow clean`` runs in-process (``newsflow demo`` crawls, so it is an integration test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from newsflow.cli import main
from tests.conftest import CMS_FIXTURES, SEEDS


def test_clean_prints_one_json_object_per_input_with_its_path(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "003_8831f7879ce4abd2.txt", tmp_path / "a.txt")
    page = next(CMS_FIXTURES.glob("trs_*.html"))
    shutil.copy(page, tmp_path / "b.html")
    (tmp_path / "c.html").write_bytes(b"%PDF-1.4 not a page")
    result = CliRunner().invoke(main, ["clean", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["a.txt", "b.html", "c.html"]
    assert records[0]["title"] == "以使命担当筑起疫情防控安全线——福清市基层防控工作综述"
    assert records[1]["schema"] == "newsflow.article/1"
    assert (records[2]["schema"], records[2]["reason"]) == ("newsflow.rejected/1", "decode.binary")


def test_clean_with_jobs_and_script(tmp_path: Path) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, tmp_path / path.name)
    result = CliRunner().invoke(main, ["clean", "--jobs", "2", "--script", "zh-Hant", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
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
