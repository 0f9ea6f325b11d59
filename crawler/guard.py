"""The address guard: no request, and no redirect, to loopback, private, link-local or metadata addresses.

A crawler that follows links from the open web must not be steered into the
machine it runs on or the network behind it (``http://169.254.169.254/`` is a
cloud metadata service, ``10.0.0.1`` a router). :class:`AddressGuard` resolves
the host of every URL and refuses it when any address is not public, unless
the address is explicitly allowed (the tests and the demo allow ``127.0.0.1``
for their own server). :class:`AddressGuardMiddleware` applies it to every
request Scrapy schedules, redirects included (a redirect is a new request).

A name checked by the middleware could resolve to another address when the
connection looks it up again (DNS rebinding), so the connection's own lookup
goes through the guard too: :class:`GuardedResolver` is the reactor's resolver,
and a connection only ever gets an address the guard has just checked.
Addresses that embed an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are
judged by the address they embed.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from zope.interface import implementer

log = logging.getLogger(__name__)

Resolver = Callable[[str], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(IgnoreRequest):
    """The URL's host is (or resolves to) an address the crawler must not reach."""


def system_resolver(host: str) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, 6to4 (2002::/16), Teredo, NAT64."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found += list(address.teredo)
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and not all(is_public(a) for a in embedded(address)):
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE)
    )


class AddressGuard:
    def __init__(self, allowed: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self.allowed = frozenset(ipaddress.ip_address(a) for a in allowed)
        self.resolver = resolver

    def check(self, url: str) -> None:
        """Return if ``url`` may be fetched; raise :class:`RefusedAddress` saying why not."""
        try:
            host = urlsplit(url).hostname
        except ValueError as error:
            raise RefusedAddress(f"refused {url}: not a URL ({error})") from error
        if not host:
            raise RefusedAddress(f"refused {url}: no host")
        self.judge(url, host, self.lookup(url, host))

    def lookup(self, url: str, host: str) -> list[IPAddress]:
        """An address literal is itself; a name is resolved."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            return self.resolve(url, host)

    def judge(self, url: str, host: str, addresses: list[IPAddress]) -> None:
        for address in addresses:
            if address not in self.allowed and not is_public(address):
                raise RefusedAddress(f"refused {url}: {host} is {address}, not a public address")

    def resolve(self, url: str, host: str) -> list[IPAddress]:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host)]
        except (OSError, UnicodeError, ValueError) as error:  # UnicodeError: a label IDNA cannot encode
            raise RefusedAddress(f"refused {url}: {host} does not resolve ({type(error).__name__}: {error})") from error
        if not addresses:
            raise RefusedAddress(f"refused {url}: {host} has no address")
        return addresses

    def addresses(self, host: str) -> list[str]:
        """The addresses of ``host``, every one checked; what a connection may use (raises RefusedAddress)."""
        addresses = self.lookup(host, host)
        self.judge(f"a connection to {host}", host, addresses)
        return [str(a) for a in addresses]


@implementer(IResolverSimple)
class GuardedResolver:
    """The reactor's resolver: each lookup a connection makes is checked by the guard, so the address a
    connection uses is one the guard checked, whatever the name resolved to a moment before.

    Built by Scrapy from the crawl process's settings (``TWISTED_DNS_RESOLVER``), with the same
    ``NEWSFLOW_ALLOWED_ADDRESSES`` and ``NEWSFLOW_RESOLVER`` as the middleware. No cache: a
    name is looked up and checked for every new connection.
    """

    def __init__(self, reactor: Any, guard: AddressGuard) -> None:
        self.reactor = reactor
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        return cls(reactor, guard_from(crawler.settings))

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        lookup = deferToThreadPool(self.reactor, self.reactor.getThreadPool(), self.guard.addresses, name)
        return lookup.addCallbacks(self.preferred, self.refused)

    @staticmethod
    def preferred(addresses: list[str]) -> str:
        """IPv4 first, as Scrapy's own resolver does (a host without IPv6 routes still connects)."""
        return next((a for a in addresses if ":" not in a), addresses[0])

    @staticmethod
    def refused(failure: Failure) -> Failure:
        if failure.check(RefusedAddress):
            log.warning("%s", failure.value)
            return Failure(DNSLookupError(str(failure.value)))
        return failure


def guard_from(settings: Settings) -> AddressGuard:
    return AddressGuard(
        settings.getlist("NEWSFLOW_ALLOWED_ADDRESSES"), settings.get("NEWSFLOW_RESOLVER") or system_resolver
    )


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
        return cls(guard_from(crawler.settings), crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            self.guard.check(request.url)
        except RefusedAddress as refusal:
            log.warning("%s", refusal)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("newsflow/guard/refused")
            raise
