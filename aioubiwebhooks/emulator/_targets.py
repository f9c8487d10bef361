"""Where webhook test deliveries may go: a pure policy, and a resolver that applies it.

An emulator shared in CI POSTs wherever its callers say. By default a delivery may
go anywhere except link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and the
cloud metadata endpoints (``169.254.169.254`` and its relatives, ``fd00:ec2::254``,
``100.100.100.200``, ``metadata.google.internal``), so that it cannot be used to read
a cloud machine's credentials. ``allow_targets`` narrows the targets to a list of
networks (``10.0.0.0/8``, ``127.0.0.1``) and host names (``receiver.internal``); an
entry that covers a refused address allows it explicitly.

The policy is checked twice: on the URL's host before anything is sent (a literal
address never reaches a resolver), and on every address a host name resolves to,
through :class:`PolicyResolver`, so a name cannot point a delivery somewhere refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeAlias

import attrs
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

__all__ = [
    "REFUSED_NAMES",
    "REFUSED_NETWORKS",
    "PolicyResolver",
    "TargetPolicy",
    "TargetRefused",
]

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED_NETWORKS: Final[tuple[Network, ...]] = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local, with 169.254.169.254 metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
)
"""Addresses a delivery never goes to unless ``allow_targets`` names them."""

REFUSED_NAMES: Final = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)
"""Host names of metadata services, refused before they are resolved."""


class TargetRefused(OSError):
    """The policy refuses a delivery's target; the message says why (never sent)."""


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@attrs.frozen
class TargetPolicy:
    """Which hosts and addresses deliveries may reach. Build it with :meth:`of`.

    Not ``narrowed``: anywhere but :data:`REFUSED_NETWORKS` and :data:`REFUSED_NAMES`.
    ``narrowed``: only the ``networks`` and host ``names`` listed.
    """

    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    narrowed: bool = False

    @classmethod
    def of(cls, allowed: Iterable[str] | None) -> TargetPolicy:
        """A policy from ``allow_targets`` entries; ValueError names a malformed one."""
        if allowed is None:
            return cls()
        if isinstance(allowed, str):
            raise TypeError("allow_targets must be a list of entries, not a string")
        networks: list[Network] = []
        names: set[str] = set()
        for entry in allowed:
            text = entry.strip().lower().rstrip(".")
            if not text:
                raise ValueError(f"allow_targets: an entry is empty (got {entry!r})")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if any(c in text for c in "/:@ ") or text.startswith("-"):
                raise ValueError(
                    f"allow_targets: {entry!r} is neither a network (10.0.0.0/8, ::1) "
                    "nor a host name"
                )
            names.add(text)
        return cls(networks=tuple(networks), names=frozenset(names), narrowed=True)

    def describe(self) -> list[str] | None:
        """The entries of a narrowed policy, or None."""
        if not self.narrowed:
            return None
        return sorted(str(n) for n in self.networks) + sorted(self.names)

    def refuse_host(self, host: str) -> str | None:
        """Why a URL's host is refused before anything is resolved or sent, or None."""
        name = host.lower().rstrip(".")
        address = _address(name)
        if address is not None:
            return self.refuse_address(name, str(address))
        if name in self.names:
            return None
        if name in REFUSED_NAMES:
            return f"{host} is a cloud metadata endpoint"
        return None  # decided by the addresses it resolves to

    def refuse_address(self, host: str, address: str) -> str | None:
        """Why connecting to ``address`` (which ``host`` resolved to) is refused, or None."""
        if host.lower().rstrip(".") in self.names:
            return None
        found = _address(address)
        if found is None:
            return f"{address} is not an IP address"
        if any(found.version == n.version and found in n for n in self.networks):
            return None
        if self.narrowed:
            return f"{found} is not among the allowed targets"
        if any(found.version == n.version and found in n for n in REFUSED_NETWORKS):
            return f"{found} is link-local or a cloud metadata address"
        return None


class PolicyResolver(AbstractResolver):
    """aiohttp's default resolver, keeping only the addresses the policy allows."""

    def __init__(self, policy: Callable[[], TargetPolicy]) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[Any]:
        found = await self._inner.resolve(host, port, family)
        policy = self._policy()
        allowed = [r for r in found if policy.refuse_address(host, r["host"]) is None]
        if found and not allowed:
            raise TargetRefused(policy.refuse_address(host, found[0]["host"]))
        return allowed

    async def close(self) -> None:
        await self._inner.close()
