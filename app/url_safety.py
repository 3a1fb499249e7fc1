"""Where fishhook may connect on a client's behalf: http(s) URLs whose host resolves only to
public addresses (no SSRF). Shared by the relay and anything else that fetches a URL.

A relay URL is checked at submit time and again at send time, since DNS can change in
between. At send time the connection is pinned to the address that was checked, so a DNS answer that
changes between the check and the connect (rebinding) cannot reach an internal host.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (169.254.169.254 is link-local already; these are not).
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}

# Every range of the IANA IPv4 and IPv6 Special-Purpose Address Registries (2025), whether
# the registry calls it globally reachable or not: none is where a client's webhook lives.
# Python's own is_global misses several (and differs between versions), hence the list.
_SPECIAL_V4 = [
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
]  # fmt: skip
_SPECIAL_V6 = [
    ipaddress.IPv6Network(net)
    for net in (
        "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32",
        "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "ff00::/8",
    )
]  # fmt: skip
# Only 2000::/3 is global unicast: ::1, ::, IPv4-compatible ::a.b.c.d, fec0::/10 and the
# rest lie outside it.
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeURL(Exception):
    """The URL is not one fishhook will send to; the message says why, for the client."""


@dataclass(frozen=True, slots=True)
class Target:
    url: httpx.URL
    # The checked address to connect to, or None to let the client resolve (private allowed).
    address: str | None


def is_public(address: IPAddress) -> bool:
    """A public unicast address, also once any IPv4 address embedded in it is taken out
    (IPv4-mapped, NAT64 and 6to4 forms reach that IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_public(embedded)
        if address not in _GLOBAL_UNICAST or any(address in net for net in _SPECIAL_V6):
            return False
    elif any(address in net for net in _SPECIAL_V4):
        return False
    return address.is_global and not address.is_multicast and address not in _METADATA


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
        raise UnsafeURL(f"callback_url host {host!r} does not resolve") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check(url: str, *, allow_private: bool) -> Target:
    """The target to send to; raises UnsafeURL when the URL may not be used."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURL(f"callback_url is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeURL("callback_url must be an http or https URL with a host")
    if any(len(label) > 63 for label in parsed.host.split(".")) or len(parsed.host) > 253:
        raise UnsafeURL("callback_url host has a DNS label over 63 characters or is over 253")
    if allow_private:
        return Target(parsed, None)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve(parsed.host, port)
    refused = [str(a) for a in addresses if not is_public(a)]
    if refused or not addresses:
        raise UnsafeURL(
            f"callback_url host {parsed.host!r} resolves to a loopback, private, link-local or "
            f"reserved address ({', '.join(refused)}); set FISHHOOK_RELAY_ALLOW_PRIVATE=true "
            "to allow it"
        )
    return Target(parsed, str(addresses[0]))


def pinned(target: Target) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """URL to request, extra headers and request extensions for a connection to the checked
    address, with the original host kept for the Host header and for TLS (SNI, certificate)."""
    if target.address is None:
        return target.url, {}, {}
    return (
        target.url.copy_with(host=target.address),
        {"host": target.url.netloc.decode("ascii")},
        {"sni_hostname": target.url.host},
    )
