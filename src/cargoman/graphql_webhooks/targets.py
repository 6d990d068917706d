"""Where deliveries may go: http(s) URLs whose host resolves to public addresses only.

A webhook URL is chosen by an API caller and fetched by the server, so it must not reach the
server's own network (loopback, private, link-local, multicast, reserved, shared or unspecified
addresses) unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true. The host is resolved when the webhook is
created and again at every delivery; the delivery then connects to the address it checked (the URL
is rewritten to that address, with the original ``Host`` header and, for https, the original name
for SNI and certificate verification), so a DNS answer that changes between check and connect
cannot redirect it. A host with any refused address is refused as a whole.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]


class TargetRefused(Exception):
    """The URL is malformed, does not resolve, or points at an address deliveries may not reach."""


@dataclass(frozen=True)
class PinnedTarget:
    """A checked URL and the address to connect to."""

    url: httpx.URL
    address: IPAddress

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))

    @property
    def host_header(self) -> str:
        host = self.url.host if ":" not in self.url.host else f"[{self.url.host}]"
        return host if self.url.port is None else f"{host}:{self.url.port}"

    @property
    def extensions(self) -> dict[str, Any]:
        """For https: verify the certificate (and send SNI) for the name, not the address."""
        return {"sni_hostname": self.url.host} if self.url.scheme == "https" else {}


def parse_url(text: str) -> httpx.URL:
    """A syntactically acceptable webhook URL, or TargetRefused saying what is wrong."""
    if not text or len(text) > MAX_URL_LENGTH:
        raise TargetRefused(f"must be a URL of at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise TargetRefused("must not contain whitespace or control characters")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise TargetRefused(f"is not a valid URL ({exc})") from exc
    if url.scheme not in ALLOWED_SCHEMES:
        raise TargetRefused("must be an http:// or https:// URL")
    if not url.host:
        raise TargetRefused("must name a host")
    if url.userinfo:
        raise TargetRefused("must not contain credentials (the signature authenticates deliveries)")
    if url.fragment:
        raise TargetRefused("must not contain a fragment")
    return url


def _unwrapped(address: IPAddress) -> IPAddress:
    """IPv4 addresses carried inside IPv6 (mapped, 6to4, Teredo) are judged as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
        if address.teredo is not None:
            return address.teredo[1]
    return address


def is_public(address: IPAddress) -> bool:
    address = _unwrapped(address)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # fec0::/10, deprecated site-local: Python still calls it global, networks still route it.
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def system_resolver(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Drop an IPv6 zone id ("fe80::1%eth0"): the address itself decides.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def resolve_target(url: httpx.URL, allow_private: bool, resolver: Resolver = system_resolver) -> PinnedTarget:
    """Resolve the host and check every address; the first one is where the delivery connects."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(url.host)]
    except ValueError:
        try:
            addresses = resolver(url.host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"host {url.host} does not resolve ({exc})") from exc
    if not addresses:
        raise TargetRefused(f"host {url.host} does not resolve")
    if not allow_private and not all(is_public(address) for address in addresses):
        # The address stays out of the message: it would tell the caller what internal names resolve to.
        raise TargetRefused(
            f"host {url.host} resolves to a private, loopback or reserved address; "
            "set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow it"
        )
    return PinnedTarget(url=url, address=addresses[0])


def check_target(text: str, allow_private: bool, resolver: Resolver = system_resolver) -> PinnedTarget:
    return resolve_target(parse_url(text), allow_private, resolver)
