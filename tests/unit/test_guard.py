"""The address guard's rule (pure logic: the resolver is a table, nothing is looked up)."""

from __future__ import annotations

import pytest

from crawler.guard import AddressGuard, RefusedAddress

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
