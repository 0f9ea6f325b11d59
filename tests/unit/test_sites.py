"""Site configs: a good file loads; a bad one fails naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.sites import SiteConfigError, load_site
from newsflow.cli import main

GOOD = """\
id: {id}
name: 四平市人民政府
region: {{province: 吉林省, city: 四平市}}
start_urls: [http://www.siping.gov.cn/zwgk/zwyw/index.html]
allowed_domains: [www.siping.gov.cn]
list_url_patterns: ['/zwyw/index(_\\d+)?\\.html$']
article_url_patterns: ['/zwyw/\\d{{6}}/t\\d{{8}}_\\d+\\.html$']
schedule: {{interval_minutes: 30}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_site_loads_frozen(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, "siping", GOOD.format(id="siping")))
    assert site.region.label() == "吉林省/四平市"
    assert site.politeness.obey_robots and site.pagination.max_pages == 50
    with pytest.raises(Exception, match="frozen"):
        site.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t.replace("name: 四平市人民政府\n", ""), "name", "Field required"),
        (
            lambda t: t.replace("'/zwyw/index(_\\d+)?\\.html$'", "'/zwyw/index(_\\d+?\\.html$'"),
            "list_url_patterns",
            "regular expression",
        ),
        (lambda t: t + "start_url: http://x\n", "start_url", "unknown key"),
        (lambda t: t.replace("{interval_minutes: 30}", "{cron: '5 * *'}"), "schedule", "five fields"),
        (lambda t: t.replace("{interval_minutes: 30}", "{cron: '99 * * * *'}"), "schedule", "minute field"),
        (lambda t: t.replace("[http://www.siping.gov.cn/zwgk/zwyw/index.html]", "[ftp://x/]"), "start_urls", "http"),
        (lambda t: t.replace("id: siping", "id: other"), "id", "must match the file name"),
    ],
)
def test_a_bad_site_names_file_and_field(tmp_path: Path, change, field: str, message: str) -> None:
    path = write(tmp_path, "siping", change(GOOD.format(id="siping")))
    with pytest.raises(SiteConfigError) as raised:
        load_site(path)
    text = str(raised.value)
    assert str(path) in text and field in text and message in text, text


def test_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="cannot read"):
        load_site(write(tmp_path, "broken", "id: [unclosed\n"))
    with pytest.raises(SiteConfigError, match="expected a mapping"):
        load_site(write(tmp_path, "list", "- a\n- b\n"))


def test_sites_validate_reports_every_file(tmp_path: Path) -> None:
    write(tmp_path, "siping", GOOD.format(id="siping"))
    write(tmp_path, "bad", GOOD.format(id="bad").replace("allowed_domains: [www.siping.gov.cn]\n", ""))
    result = CliRunner().invoke(main, ["sites", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "ok    siping" in result.output
    assert "bad.yaml: allowed_domains: Field required" in result.output
    assert "1 of 2 site file(s) are invalid" in result.output
    good = CliRunner().invoke(main, ["sites", "validate", str(tmp_path / "siping.yaml")])
    assert good.exit_code == 0, good.output


def test_the_bundled_site_files_are_valid() -> None:
    result = CliRunner().invoke(main, ["sites", "validate"])
    assert result.exit_code == 0, result.output


def test_an_invalid_css_selector_fails_validation(tmp_path: Path) -> None:
    write(tmp_path, "siping", GOOD.format(id="siping") + "hints: {body_selector: 'div#content['}\n")
    result = CliRunner().invoke(main, ["sites", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "siping.yaml: hints.body_selector: not a valid CSS selector" in result.output, result.output
    write(tmp_path, "siping", GOOD.format(id="siping") + "hints: {body_selector: 'div#content > p.text'}\n")
    assert CliRunner().invoke(main, ["sites", "validate", str(tmp_path)]).exit_code == 0
