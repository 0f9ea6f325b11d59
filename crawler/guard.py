"""The address guard: no request, and no redirect, to loopback, private, link-local or metadata addresses.

A crawler that follows links from the open web must not be steered into the
machine it runs on or the network behind it (``http://169.254.169.254/`` is a
cloud metadata service, ``10.0.0.1`` a router). :class:`AddressGuard` resolves
the host of every URL and refuses it when any address is not public, unless
the address is explicitly allowed (the tests and the demo allow ``127.0.0.1``
for their own server). :class:`AddressGuardMiddleware` applies it to every
request Scrapy schedules, redirects included (a redirect is a new request).

Resolving here and connecting later leaves a window for DNS rebinding; the
guard narrows the attack surface, it does not replace a network policy.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

log = logging.getLogger(__name__)

Resolver = Callable[[str], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(IgnoreRequest):
    """The URL's host is (or resolves to) an address the crawler must not reach."""


def system_resolver(host: str) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: IPAddress) -> bool:
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
        or (
            isinstance(address, ipaddress.IPv6Address)
            and address.ipv4_mapped is not None
            and not is_public(address.ipv4_mapped)
        )
    )


class AddressGuard:
    def __init__(self, allowed: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self.allowed = frozenset(ipaddress.ip_address(a) for a in allowed)
        self.resolver = resolver

    def check(self, url: str) -> None:
        """Return if ``url`` may be fetched; raise :class:`RefusedAddress` saying why not."""
        host = urlsplit(url).hostname
        if not host:
            raise RefusedAddress(f"refused {url}: no host")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = self.resolve(url, host)
        for address in addresses:
            if address not in self.allowed and not is_public(address):
                raise RefusedAddress(f"refused {url}: {host} is {address}, not a public address")

    def resolve(self, url: str, host: str) -> list[IPAddress]:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host)]
        except OSError as error:
            raise RefusedAddress(f"refused {url}: {host} does not resolve ({error})") from error
        if not addresses:
            raise RefusedAddress(f"refused {url}: {host} has no address")
        return addresses


class AddressGuardMiddleware:
    """Downloader middleware: every request, redirects included, passes the guard first.

    Settings: ``NEWSFLOW_ALLOWED_ADDRESSES`` (addresses allowed although not public) and
    ``NEWSFLOW_RESOLVER`` (a callable host → addresses; tests swap in one that records).
    """

    def __init__(self, guard: AddressGuard, crawler: Crawler) -> None:
        self.guard = guard
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        resolver = crawler.settings.get("NEWSFLOW_RESOLVER") or system_resolver
        allowed = crawler.settings.getlist("NEWSFLOW_ALLOWED_ADDRESSES")
        return cls(AddressGuard(allowed, resolver), crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            self.guard.check(request.url)
        except RefusedAddress as refusal:
            log.warning("%s", refusal)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("newsflow/guard/refused")
            raise
