"""Site configs: a good file loads; a bad one fails naming the file and the field."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cleaner.hints import HINT_FIELDS, PageHints
from crawler.schedule import CHINA
from crawler.sites import Schedule, SiteConfig, SiteConfigError, load_site
from crawler.spider import NewsSpider
from crawler.state import CrawlState
from newsflow.cli import main
from newsflow.crawl_cli import pick_sites
from newsflow.scheduler import Scheduler
from sinks.log import Message
from sinks.topics import RawPage

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


# -- issue 14, defect 10: site files that passed validation, then hung or crashed the crawl or the scheduler ----------
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t + "politeness: {download_delay: .inf}\n", "politeness.download_delay", "finite number"),
        (lambda t: t + "politeness: {download_delay: 100000}\n", "politeness.download_delay", "less than or equal"),
        (lambda t: t + "continuation_pattern: '_\\d+'\n", "continuation_pattern", "needs a group"),
        (lambda t: t.replace("{interval_minutes: 30}", "{cron: '0 0 31 2 *'}"), "schedule", "does not fire every year"),
        (lambda t: t.replace("{interval_minutes: 30}", "{cron: '0 0 30,31 2 *'}"), "schedule", "does not fire"),
        (
            lambda t: t.replace("{interval_minutes: 30}", "{interval_minutes: 1000000000000000000000000000000}"),
            "schedule.interval_minutes",
            "less than or equal",
        ),
        (lambda t: t.replace("[www.siping.gov.cn]", "['']"), "allowed_domains.0", "should match pattern"),
        (lambda t: t.replace("[www.siping.gov.cn]", "['http://www.siping.gov.cn/']"), "allowed_domains.0", "pattern"),
        (
            lambda t: t.replace("'/zwyw/index(_\\d+)?\\.html$'", "'/zwyw/(?=index)'"),
            "list_url_patterns",
            "not a valid RE2 regular expression",
        ),
    ],
)
def test_defect_10_hostile_site_values_fail_validation(tmp_path: Path, change, field: str, message: str) -> None:
    path = write(tmp_path, "siping", change(GOOD.format(id="siping")))
    with pytest.raises(SiteConfigError) as raised:
        load_site(path)
    text = str(raised.value)
    assert f"{field}: " in text and message in text, text


def test_defect_10_crons_that_fire_every_year_pass(tmp_path: Path) -> None:
    for cron in ("0 0 29 2 1", "0 0 28 2 *", "0 6 31 1-12 *", "*/5 * * * *"):
        load_site(
            write(tmp_path, "siping", GOOD.format(id="siping").replace("{interval_minutes: 30}", f"{{cron: '{cron}'}}"))
        )


@pytest.mark.timeout(20)
def test_defect_10_a_catastrophic_pattern_cannot_hang_the_spider(tmp_path: Path) -> None:
    """``(a+)+$`` backtracks 2^n times in Python's re on "aaa…!"; the spider matches in linear time."""
    text = GOOD.format(id="siping").replace("'/zwyw/\\d{6}/t\\d{8}_\\d+\\.html$'", "'/(a+)+$'")
    site = load_site(write(tmp_path, "siping", text))
    state = CrawlState(tmp_path / "state.db", site.id)
    try:
        spider = NewsSpider(site, state)
        assert not spider.is_article("http://www.siping.gov.cn/" + "a" * 64 + "!")
        assert spider.is_article("http://www.siping.gov.cn/aaa")
    finally:
        state.close()


def test_defect_10_a_schedule_that_cannot_be_computed_switches_off_that_site_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A site the validation did not see (built in code) must not crash the scheduler for every site."""
    good = load_site_text("good", GOOD)
    huge = good.model_copy(update={"id": "huge", "schedule": Schedule.model_construct(interval_minutes=10**30)})
    never = good.model_copy(update={"id": "never", "schedule": Schedule.model_construct(cron="0 0 31 2 *")})
    started: list[str] = []

    class Done:
        def poll(self) -> int:
            return 0

    class Launcher:
        def start(self, site: SiteConfig) -> Done:
            started.append(site.id)
            return Done()

    clock = [datetime(2026, 11, 23, 8, 0, tzinfo=CHINA)]
    scheduler = Scheduler([huge, never, good], lambda: clock[0], Launcher(), jitter=0)
    with caplog.at_level(logging.ERROR):
        assert scheduler.tick() == ["huge", "never", "good"]  # every first run is due at once
        clock[0] += timedelta(days=1)
        assert scheduler.tick() == ["good"]
    assert "site huge cannot be scheduled" in caplog.text and "site never cannot be scheduled" in caplog.text
    assert scheduler.state["huge"].next_due is None and scheduler.state["never"].next_due is None


# -- issue 14, defect 11: one unreadable file stopped validate, crawl and run for every site ------------------------
UNREADABLE = {
    "binary": b"\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n" * 20,
    "latin1": "id: latin1\nname: caf\xe9\n".encode("latin-1"),
    "deep": b"a: " + b"[" * 5_000 + b"]" * 5_000 + b"\n",
    "baddate": b"id: baddate\nname: 2020-13-45\n",
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_defect_11_an_unreadable_file_is_an_invalid_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(UNREADABLE[name])
    with pytest.raises(SiteConfigError, match=rf"{name}\.yaml: "):
        load_site(path)


def test_defect_11_sites_validate_and_crawl_go_on_past_an_unreadable_file(tmp_path: Path) -> None:
    write(tmp_path, "siping", GOOD.format(id="siping"))
    for name, data in UNREADABLE.items():
        (tmp_path / f"{name}.yaml").write_bytes(data)
    result = CliRunner().invoke(main, ["sites", "validate", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ok    siping" in result.output and "4 of 5 site file(s) are invalid" in result.output
    assert all(f"error {tmp_path / name}.yaml: " in result.output for name in UNREADABLE), result.output
    # a crawl of a good site is not stopped by the other files; all sites: one sentence naming a bad file
    assert [s.id for s in pick_sites(tmp_path, ("siping",))] == ["siping"]
    everything = CliRunner().invoke(main, ["crawl", "--sites-dir", str(tmp_path)])
    assert everything.exit_code == 1 and "cannot be used" in everything.output and everything.exception is not None
    assert isinstance(everything.exception, SystemExit)


def load_site_text(site_id: str, text: str) -> SiteConfig:
    return SiteConfig.model_validate(yaml.safe_load(text.format(id=site_id)))


def test_hints_are_defined_once_and_ride_on_raw_records_whole(tmp_path: Path) -> None:
    """The site file's hints, the cleaner's PageHints and the ce_hint* headers are one list of names."""
    values = {name: f"div.{name.replace('_', '-')}" for name in HINT_FIELDS}
    text = GOOD.format(id="siping") + "hints: {" + ", ".join(f"{k}: '{v}'" for k, v in values.items()) + "}\n"
    site = load_site(write(tmp_path, "siping", text))
    page = RawPage(
        url="http://www.siping.gov.cn/a.html",
        final_url="http://www.siping.gov.cn/a.html",
        status=200,
        body=b"<html></html>",
        fetched_at="2026-11-23T08:00:00+08:00",
        site=site.id,
        crawl_id="c1",
        hints=tuple(sorted(site.hints.model_dump(exclude_none=True).items())),
    )
    record = page.to_record("newsflow.raw")
    back = RawPage.from_message(Message("newsflow.raw", 0, 0, record.key, record.value, record.headers, 0))
    assert PageHints.from_mapping(dict(back.hints)) == PageHints(**values)


def test_an_invalid_css_selector_in_hints_fails_validation(tmp_path: Path) -> None:
    path = write(tmp_path, "siping", GOOD.format(id="siping") + "hints: {body_selector: 'div#content['}\n")
    with pytest.raises(SiteConfigError, match="hints: body_selector 'div#content\\[' is not a CSS selector"):
        load_site(path)


def test_an_invalid_css_selector_fails_validation(tmp_path: Path) -> None:
    write(tmp_path, "siping", GOOD.format(id="siping") + "hints: {body_selector: 'div#content['}\n")
    result = CliRunner().invoke(main, ["sites", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "siping.yaml" in result.output and "body_selector 'div#content[' is not a CSS selector" in result.output
    write(tmp_path, "siping", GOOD.format(id="siping") + "hints: {body_selector: 'div#content > p.text'}\n")
    assert CliRunner().invoke(main, ["sites", "validate", str(tmp_path)]).exit_code == 0
