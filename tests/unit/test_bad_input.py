"""Acceptance 5: bad input never raises; it becomes a Rejection with a reason."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cleaner import Article, CleanerSettings, Reason, Rejection, clean_page

S = CleanerSettings()
URL = "http://www.example.gov.cn/a.html"
ARTICLE = "商洛市政协机关把疫情防控作为首要任务，服从全市抗疫一盘棋，共克时艰。" * 4


def page(body: str, charset: str = "utf-8") -> str:
    return f'<html><head><meta charset="{charset}"><title>标题_网站</title></head><body>{body}</body></html>'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", Reason.EMPTY_BODY),
        (b"   \n", Reason.EMPTY_BODY),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), Reason.BINARY),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", Reason.BINARY),
        (b"<html><head><title>x</title></head></html>", Reason.NO_BODY),
        (
            page("<p>This is an English page about the weather in London, nothing Chinese here.</p>" * 5).encode(),
            Reason.NOT_CHINESE,
        ),
        (page("<p>短文。</p>").encode(), Reason.TOO_SHORT),
        (page("<p>" + "锟斤拷" * 30 + "</p>").encode(), Reason.HOPELESS_MOJIBAKE),
    ],
)
def test_bad_pages_are_rejected_with_a_reason(body: bytes, reason: Reason) -> None:
    result = clean_page(body, url=URL, settings=S)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.detail


def test_ten_megabyte_page_is_rejected_before_parsing() -> None:
    body = page("<p>" + ARTICLE * 40_000 + "</p>").encode()
    assert len(body) > 10_000_000
    result = clean_page(body, url=URL, settings=S)
    assert isinstance(result, Rejection) and result.reason == Reason.TOO_LARGE


@pytest.mark.parametrize("codec", ["utf-8", "gb18030", "gbk", "big5", "big5hkscs"])
def test_invalid_byte_sequences_in_every_encoding(codec: str) -> None:
    good = page("<p>" + ARTICLE + "</p>", "big5" if "big5" in codec else codec)
    text = good if "big5" not in codec else good.replace("政协", "政協").replace("务", "務")
    body = text.encode(codec, errors="replace")
    broken = body[:200] + b"\xff\xfe\x81\xa1\x80" * 40 + body[200:]
    result = clean_page(broken, url=URL, settings=S)
    assert isinstance(result, (Article, Rejection))
    assert result.encoding is not None  # decoding happened and says what it replaced
    if isinstance(result, Rejection):
        assert result.reason in set(Reason) - {Reason.INTERNAL_ERROR}
    else:
        assert result.encoding.replacement_ratio > 0 or result.encoding.declared_wrong


def assert_foreseen(result: Article | Rejection) -> None:
    """clean_page catches everything, so "it did not raise" proves nothing: no stage may have failed unforeseen."""
    assert isinstance(result, (Article, Rejection))
    if isinstance(result, Rejection):
        assert not result.reason.value.endswith(".internal_error"), result.detail
        assert result.reason.stage.value == result.stage


@given(st.binary(max_size=4000))
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_end_in_a_foreseen_outcome(body: bytes) -> None:
    """The property that could not fail (it passed whatever clean_page did) now asserts one that can."""
    assert_foreseen(clean_page(body, url=URL, settings=S))


def test_the_property_check_fails_on_an_internal_error() -> None:
    """The check above is not vacuous: an internal error fails it."""
    with pytest.raises(AssertionError):
        assert_foreseen(Rejection(URL, Reason.INTERNAL_ERROR, "KeyError: x"))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("cleaner.pipeline.decode_body", Reason.DECODE_INTERNAL_ERROR),
        ("cleaner.pipeline.extract_html", Reason.INTERNAL_ERROR),
        ("cleaner.pipeline.assess", Reason.QUALITY_INTERNAL_ERROR),
    ],
)
def test_internal_error_names_the_stage_that_failed(
    monkeypatch: pytest.MonkeyPatch, target: str, reason: Reason
) -> None:
    """Reason.INTERNAL_ERROR said ``extract`` whatever stage failed."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("unforeseen")

    monkeypatch.setattr(target, broken)
    result = clean_page(page("<p>" + ARTICLE + "</p>").encode(), url=URL, settings=S)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.stage == reason.value.split(".")[0]
    assert "KeyError" in result.detail


TAGS = st.sampled_from(["p", "div", "td", "span", "br", "h1", "script", "a", "table", "tr", "li", "font"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@st.composite
def random_html(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(TAGS)
        parts.append(f"<{tag} class='{draw(st.sampled_from(['TRS_Editor', 'title', 'x', 'content']))}'>{draw(TEXT)}")
        if draw(st.booleans()):
            parts.append(f"</{tag}>")
    charset = draw(st.sampled_from(["utf-8", "gbk", "big5", "latin-1", "bogus"]))
    html = f"<html><head><meta charset={charset}><title>{draw(TEXT)}</title></head><body>{''.join(parts)}"
    return html.encode(draw(st.sampled_from(["utf-8", "gb18030", "utf-16"])), errors="replace")


@given(random_html())
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_html_ends_in_a_foreseen_outcome(body: bytes) -> None:
    assert_foreseen(clean_page(body, url=URL, settings=S))
