"""The SSRF guard: no request may reach a loopback, private or otherwise non-public address.

The check runs on the address the connection is actually made to. Host names are resolved by
`SafeResolver`, which hands aiohttp only the addresses that passed the check, so aiohttp connects
to exactly what was checked: there is no second lookup that a DNS rebinding could answer
differently. aiohttp skips the resolver for IP literals in URLs, so those are checked up front by
`literal_refusal`, for the first URL and for every redirect target alike.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressError(OSError):
    """A host resolved only to addresses the guard refuses; the message names them."""


def address_refusal(ip: IPAddress) -> str | None:
    """Why an address must not be connected to (e.g. "loopback"), or None if it is public."""
    # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the IPv4 address an IPv6 one maps to.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT: shared, not public
        return "not-global"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be connected to: public ones, plus `trusted` networks if any.

    `trusted` exists for a deliberate exception (an intranet mirror, a test server); the
    default trusts nothing. `allow_all` switches the guard off (`--allow-private`).
    """

    allow_all: bool = False
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default_factory=tuple)

    @classmethod
    def build(cls, allow_private: bool = False, trusted_networks: Iterable[str] = ()) -> "AddressPolicy":
        return cls(allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in trusted_networks))

    def refusal(self, ip: str | IPAddress) -> str | None:
        """Why `ip` is refused, as "loopback 127.0.0.1", or None if it may be connected to."""
        if self.allow_all:
            return None
        addr = ipaddress.ip_address(ip.split("%", 1)[0] if isinstance(ip, str) else ip)
        if any(addr in net for net in self.trusted):
            return None
        kind = address_refusal(addr)
        return f"{kind} {addr}" if kind else None


def literal_refusal(host: str, policy: AddressPolicy) -> str | None:
    """Check a URL host that is an IP literal (aiohttp does not resolve those); names pass here."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return policy.refusal(host.strip("[]"))


class SafeResolver(AbstractResolver):
    """Resolves with an inner resolver and drops every address the policy refuses.

    If nothing is left, resolution fails with `PrivateAddressError`, which aiohttp wraps in a
    `ClientConnectorDNSError` before any connection is attempted.
    """

    def __init__(self, inner: AbstractResolver, policy: AddressPolicy) -> None:
        self.inner = inner
        self.policy = policy

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        kept, refused = [], []
        for result in results:
            why = self.policy.refusal(result["host"])
            (refused if why else kept).append(why or result)
        if not kept:
            raise PrivateAddressError(f"{host} resolves only to refused addresses: {', '.join(refused)}")
        return kept

    async def close(self) -> None:
        await self.inner.close()


def private_address_error(err: BaseException) -> PrivateAddressError | None:
    """The guard's refusal inside an aiohttp connection error, if that is what it is."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, PrivateAddressError):
            return err
        err = getattr(err, "os_error", None) or err.__cause__ or err.__context__
    return None
