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


class UnsafeURL(Exception):
    """The URL is not one fishhook will send to; the message says why, for the client."""


@dataclass(frozen=True, slots=True)
class Target:
    url: httpx.URL
    # The checked address to connect to, or None to let the client resolve (private allowed).
    address: str | None


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast and address not in _METADATA


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
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
