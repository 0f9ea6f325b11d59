"""The address guard's rule (pure logic: the resolver is a table, nothing is looked up)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

from crawler.guard import AddressGuard, GuardedResolver, RefusedAddress
from crawler.settings import CrawlerSettings, process_settings

TABLE = {
    "www.siping.gov.cn": ["61.161.34.10"],
    "intranet.example": ["10.1.2.3"],
    "mixed.example": ["61.161.34.11", "192.168.0.7"],  # one private answer is enough to refuse
    "v6.example": ["2400:da00::6666"],
    "mapped.example": ["::ffff:169.254.169.254"],
}


def resolver(host: str) -> list[str]:
    if host not in TABLE:
        raise OSError(f"no such host {host}")
    return TABLE[host]


@pytest.mark.parametrize(
    "url",
    ["http://www.siping.gov.cn/zwgk/1.html", "https://61.161.34.10/", "http://v6.example/a", "http://[2400:da00::1]/"],
)
def test_public_addresses_pass(url: str) -> None:
    AddressGuard(resolver=resolver).check(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/admin",
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://intranet.example/",
        "http://mixed.example/",
        "http://mapped.example/",
        "http://unknown.example/",
        "file:///etc/passwd",
    ],
)
def test_private_loopback_link_local_and_unresolvable_are_refused(url: str) -> None:
    with pytest.raises(RefusedAddress, match="refused"):
        AddressGuard(resolver=resolver).check(url)


def test_an_explicitly_allowed_address_passes_and_only_that_one() -> None:
    guard = AddressGuard(["127.0.0.1"], resolver=resolver)
    guard.check("http://127.0.0.1:8080/news/index.html")
    with pytest.raises(RefusedAddress):
        guard.check("http://127.0.0.2/")


# -- issue 14, defect 15: rebinding, 6to4 and resolver errors --------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:c0a8:0101::1]/",  # 6to4 of 192.168.1.1
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",  # 6to4 of 169.254.169.254
        "http://[2002:7f00:0001::1]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    ],
)
def test_defect_15_addresses_embedding_a_private_ipv4_are_refused(url: str) -> None:
    with pytest.raises(RefusedAddress, match="not a public address"):
        AddressGuard(resolver=resolver).check(url)


def test_defect_15_6to4_of_a_public_address_passes() -> None:
    AddressGuard(resolver=resolver).check("http://[2002:3da1:220a::1]/")  # 61.161.34.10


@pytest.mark.parametrize("error", [UnicodeError("label too long"), ValueError("bad answer")])
def test_defect_15_any_resolver_error_is_a_refusal(error: Exception) -> None:
    def failing(host: str) -> list[str]:
        raise error

    with pytest.raises(RefusedAddress, match=f"does not resolve .*{error}"):
        AddressGuard(resolver=failing).check("http://www.siping.gov.cn/")
    with pytest.raises(RefusedAddress, match="not an IP"):
        AddressGuard(resolver=lambda host: ["not an IP"]).check("http://www.siping.gov.cn/")


def test_defect_15_the_connection_lookup_is_checked_again() -> None:
    """A name that answers a public address to the check and a private one to the connection is refused."""
    answers = iter([["61.161.34.10"], ["127.0.0.1"]])
    guard = AddressGuard(resolver=lambda host: next(answers))
    guard.check("http://rebind.example/")  # the middleware's look-up: public
    with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1, not a public address"):
        guard.addresses("rebind.example")  # the look-up GuardedResolver makes for the connection


def test_defect_15_the_crawl_process_resolves_through_the_guard() -> None:
    settings = process_settings(CrawlerSettings(allowed_addresses="127.0.0.1"), resolver)
    assert load_object(settings["TWISTED_DNS_RESOLVER"]) is GuardedResolver
    built = GuardedResolver.from_crawler(SimpleNamespace(settings=Settings(settings)), reactor=None)
    assert built.guard.addresses("www.siping.gov.cn") == ["61.161.34.10"]
    assert built.guard.addresses("127.0.0.1") == ["127.0.0.1"]
    with pytest.raises(RefusedAddress):
        built.guard.addresses("intranet.example")
