"""Webhook targets: http(s) only, no credentials, and no private addresses unless allowed."""

from __future__ import annotations

import ipaddress

import pytest

from cargoman.graphql_webhooks.targets import (
    IPAddress,
    Resolver,
    TargetRefused,
    check_target,
    is_public,
    parse_url,
    resolve_target,
)


def resolver_for(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(address) for address in addresses]

    return resolve


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("http:///hook", "must name a host"),
        ("https://user:pass@example.com/hook", "credentials"),
        ("https://example.com/hook#part", "fragment"),
        ("https://example.com/a hook", "whitespace"),
        ("", "at most"),
        ("https://example.com/" + "a" * 2100, "at most"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        parse_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.64.0.1",  # shared address space
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fec0::1",  # deprecated site-local
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(TargetRefused, match="resolves to a private, loopback or reserved address"):
        resolve_target(parse_url("https://hooks.example/x"), False, resolver_for(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_accepted(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    resolve = resolver_for("93.184.216.34", "10.0.0.5")
    with pytest.raises(TargetRefused, match="private, loopback or reserved") as refused:
        check_target("https://hooks.example/x", False, resolve)
    # The resolved address is not told: the message must not map internal names to addresses.
    assert "10.0.0.5" not in str(refused.value)


def test_literal_loopback_address_is_refused_without_asking_dns() -> None:
    def no_dns(host: str, port: int) -> list[IPAddress]:
        raise AssertionError("a literal address needs no resolution")

    with pytest.raises(TargetRefused, match="private, loopback or reserved"):
        check_target("http://127.0.0.1:8080/hook", False, no_dns)
    assert str(check_target("http://127.0.0.1:8080/hook", True, no_dns).address) == "127.0.0.1"


def test_private_targets_are_allowed_when_the_setting_says_so() -> None:
    target = check_target("http://internal.example:9000/hook", True, resolver_for("10.0.0.7"))
    assert str(target.address) == "10.0.0.7"


def test_unresolvable_host_is_refused() -> None:
    def fails(host: str, port: int) -> list[IPAddress]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match="does not resolve"):
        check_target("https://nowhere.invalid/hook", True, fails)


def test_the_delivery_connects_to_the_checked_address_under_the_original_name() -> None:
    target = check_target("https://hooks.example:8443/in?x=1", False, resolver_for("93.184.216.34"))
    assert str(target.connect_url) == "https://93.184.216.34:8443/in?x=1"
    assert target.host_header == "hooks.example:8443"
    assert target.extensions == {"sni_hostname": "hooks.example"}

    plain = check_target("http://hooks.example/in", False, resolver_for("2606:4700:4700::1111"))
    assert str(plain.connect_url) == "http://[2606:4700:4700::1111]/in"
    assert plain.host_header == "hooks.example"
    assert plain.extensions == {}
