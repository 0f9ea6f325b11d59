"""Multi-page articles: the container keeps every page's bytes, and the cleaner joins the pages."""

from __future__ import annotations

import pytest

from cleaner import CleanerSettings, Rejection, clean_page
from cleaner.multipart import Part, is_multipart, pack_parts, unpack_parts
from tests.conftest import CMS_FIXTURES, char_f1


def test_pack_and_unpack_keep_bytes_untouched() -> None:
    parts = [
        Part("http://x/1.html", "text/html; charset=gbk", "第一页".encode("gbk") + b"\r\n\r\n--not-a-boundary"),
        Part("http://x/1_2.html", None, bytes(range(256))),
    ]
    content_type, body = pack_parts(parts)
    assert is_multipart(content_type)
    back = unpack_parts(body, content_type)
    assert [p.body for p in back] == [p.body for p in parts]
    assert [p.url for p in back] == ["http://x/1.html", "http://x/1_2.html"]
    assert back[0].content_type == "text/html; charset=gbk"


@pytest.mark.parametrize("body", [b"", b"--b\r\nContent-Type: x\r\n\r\nno end", b"garbage"])
def test_a_broken_container_is_an_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        unpack_parts(body, 'multipart/mixed; boundary="b"')


def test_clean_page_joins_the_pages_of_a_container() -> None:
    settings = CleanerSettings()
    one = (CMS_FIXTURES / "trs_01_utf8.html").read_bytes()
    two = (CMS_FIXTURES / "govcn_02_gbk.html").read_bytes()
    alone = [clean_page(b, url="http://x.gov.cn/a.html", settings=settings) for b in (one, two)]
    assert not any(isinstance(a, Rejection) for a in alone)
    content_type, body = pack_parts(
        [
            Part("http://x.gov.cn/a.html", "text/html; charset=utf-8", one),
            Part("http://x.gov.cn/a_2.html", "text/html", two),
        ]
    )
    joined = clean_page(body, url="http://x.gov.cn/a.html", headers={"content-type": content_type}, settings=settings)
    assert not isinstance(joined, Rejection)
    assert joined.title == alone[0].title and joined.published_at == alone[0].published_at
    assert char_f1(joined.text, alone[0].text + "\n" + alone[1].text) > 0.97
    broken = clean_page(
        b"nonsense", url="http://x.gov.cn/a.html", headers={"content-type": content_type}, settings=settings
    )
    assert isinstance(broken, Rejection) and broken.reason.value == "decode.not_html"
