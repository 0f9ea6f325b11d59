"""Decode stage: declared charsets are verified against the bytes."""

from __future__ import annotations

import pytest

from cleaner import CleanerSettings, Reason, Reject
from cleaner.decode import decode_body

TEXT = "商洛市政协机关干部迅速行动，投入战疫一线。市政协副主席带队督导检查疫情防控工作，压实责任、细化安排。"
TRAD = "商洛市政協機關幹部迅速行動，投入戰疫一線。市政協副主席帶隊督導檢查疫情防控工作，壓實責任、細化安排。"


def page(charset: str | None, text: str = TEXT) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return f"<html><head>{meta}<title>news</title></head><body><p>{text}</p></body></html>"


S = CleanerSettings()


@pytest.mark.parametrize(
    ("declared", "codec", "text", "used"),
    [
        ("utf-8", "utf-8", TEXT, "utf-8"),
        ("gb2312", "gb18030", TEXT, "gb18030"),
        ("gbk", "gbk", TEXT + "朱镕基", "gb18030"),
        ("big5", "cp950", TRAD, "cp950"),
        (None, "gbk", TEXT, "gb18030"),
        (None, "cp950", TRAD, "cp950"),
        (None, "utf-8", TEXT, "utf-8"),
    ],
)
def test_declared_and_missing(declared: str | None, codec: str, text: str, used: str) -> None:
    body = page(declared, text).encode(codec)
    decoded, info = decode_body(body, {}, S)
    assert text in decoded
    assert info.used == used
    assert not info.declared_wrong
    assert info.replacement_ratio == 0.0


@pytest.mark.parametrize(
    ("declared", "codec", "text", "used"),
    [
        ("utf-8", "gbk", TEXT, "gb18030"),
        ("gb2312", "utf-8", TEXT, "utf-8"),
        ("big5", "gbk", TEXT, "gb18030"),
        ("gbk", "cp950", TRAD, "cp950"),
    ],
)
def test_wrong_declarations_are_detected(declared: str, codec: str, text: str, used: str) -> None:
    body = page(declared, text).encode(codec)
    decoded, info = decode_body(body, {}, S)
    assert text in decoded
    assert info.used == used
    assert info.declared == declared
    assert info.declared_wrong


def test_http_header_wins_over_meta() -> None:
    body = page("utf-8").encode("gbk")
    decoded, info = decode_body(body, {"Content-Type": "text/html; charset=GBK"}, S)
    assert TEXT in decoded
    assert (info.declared, info.source, info.declared_wrong) == ("gbk", "http", False)


def test_bom() -> None:
    decoded, info = decode_body(b"\xef\xbb\xbf" + page(None).encode("utf-8"), {}, S)
    assert TEXT in decoded and info.source == "bom"


def test_invalid_bytes_are_counted_not_hidden() -> None:
    body = page("gbk").encode("gbk")
    body = body.replace("疫情".encode("gbk"), b"\xff\xfe")
    decoded, info = decode_body(body, {}, S)
    assert info.replacement_ratio > 0
    assert "\ufffd" in decoded


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"", {}, Reason.EMPTY_BODY),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, {}, Reason.BINARY),
        (b"%PDF-1.4 ...", {}, Reason.BINARY),
        (b"<html>x</html>", {"content-type": "application/pdf"}, Reason.NOT_HTML),
        (b"<html>" + "锟斤拷".encode() * 20 + b"</html>", {}, Reason.HOPELESS_MOJIBAKE),
        (
            b"<html>" + b"\x81\x20" * 500 + b"</html>",
            {"content-type": "text/html; charset=gbk"},
            Reason.HOPELESS_MOJIBAKE,
        ),
    ],
)
def test_rejections(body: bytes, headers: dict[str, str], reason: Reason) -> None:
    with pytest.raises(Reject) as caught:
        decode_body(body, headers, S)
    assert caught.value.reason == reason


def test_too_large() -> None:
    with pytest.raises(Reject) as caught:
        decode_body(b"<html>" + b"a" * 2000, {}, CleanerSettings(max_body_bytes=1000))
    assert caught.value.reason == Reason.TOO_LARGE
