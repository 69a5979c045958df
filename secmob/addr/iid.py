"""Interface identifiers and /64 prefixes: the pieces every address method shares.

An IPv6 unicast address formed by SLAAC is a 64-bit prefix followed by a
64-bit interface identifier (IID), RFC 4291 §2.5.1 and RFC 4862 §5.5.3 (d).
This module holds what the IID methods of :mod:`secmob.addr` have in common:

* :data:`RESERVED_IIDS` and :func:`is_reserved_iid` -- the reserved IID
  ranges of RFC 5453 §3 and the IANA "Reserved IPv6 Interface Identifiers"
  registry, which every random, temporary or stable IID method must avoid
  (RFC 8981 §3.3.1, RFC 7217 §5);
* :func:`prefix64` -- a /64 prefix given as text, an
  :class:`~ipaddress.IPv6Network` or its 8 octets, checked;
* :func:`form_address` -- prefix | IID as an :class:`~ipaddress.IPv6Address`;
* :func:`as_address` -- an IPv4 or IPv6 address given as text or object.

Bad input raises :class:`~secmob.errors.UsageError`.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import TypeAlias

from secmob.errors import UsageError

__all__ = [
    "IID_OCTETS",
    "RESERVED_IIDS",
    "U_BIT",
    "Address",
    "PrefixLike",
    "ReservedRange",
    "as_address",
    "as_ipv6",
    "check_iid",
    "form_address",
    "is_reserved_iid",
    "prefix64",
    "reserved_iid_reason",
]

IID_OCTETS = 8
"""Length of an interface identifier in octets (64 bits, RFC 4291 §2.5.1)."""

U_BIT = 0x02
"""The universal/local bit in the first octet of an IID: bit 6 counting the
left-most bit as 0 (RFC 4291 §2.5.1, Appendix A)."""

Address: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"
PrefixLike: TypeAlias = "str | bytes | ipaddress.IPv6Network"


@dataclass(frozen=True)
class ReservedRange:
    """An inclusive range of reserved 64-bit IIDs."""

    first: int
    last: int
    name: str
    rfc: str

    def __contains__(self, iid: object) -> bool:
        return isinstance(iid, int) and self.first <= iid <= self.last


RESERVED_IIDS: tuple[ReservedRange, ...] = (
    ReservedRange(0, 0, "Subnet-Router Anycast", "RFC 4291 §2.6.1"),
    ReservedRange(0x0200_5EFF_FE00_0000, 0x0200_5EFF_FE00_5212,
                  "IANA Ethernet Block (reserved)", "RFC 5453 §3"),
    ReservedRange(0x0200_5EFF_FE00_5213, 0x0200_5EFF_FE00_5213,
                  "Proxy Mobile IPv6", "RFC 6543"),
    ReservedRange(0x0200_5EFF_FE00_5214, 0x0200_5EFF_FEFF_FFFF,
                  "IANA Ethernet Block (reserved)", "RFC 5453 §3"),
    ReservedRange(0xFDFF_FFFF_FFFF_FF80, 0xFDFF_FFFF_FFFF_FFFF,
                  "Reserved Subnet Anycast", "RFC 2526"),
)
"""The IANA "Reserved IPv6 Interface Identifiers" registry (RFC 5453 §3, §4)."""


def check_iid(iid: bytes, what: str = "interface identifier") -> bytes:
    """Return ``iid`` as bytes if it is 8 octets long, else raise UsageError."""
    if not isinstance(iid, (bytes, bytearray)):
        raise UsageError(f"{what} must be bytes, got {type(iid).__name__}")
    if len(iid) != IID_OCTETS:
        raise UsageError(f"{what} must be {IID_OCTETS} octets (64 bits), got {len(iid)}")
    return bytes(iid)


def reserved_iid_reason(iid: bytes) -> str | None:
    """The name of the reserved range holding ``iid`` (RFC 5453), or None."""
    value = int.from_bytes(check_iid(iid), "big")
    for r in RESERVED_IIDS:
        if value in r:
            return f"{r.name} ({r.rfc})"
    return None


_BOUNDS = tuple((r.first, r.last) for r in RESERVED_IIDS)


def is_reserved_iid(iid: bytes) -> bool:
    """True if ``iid`` lies in a reserved range of RFC 5453 §3 / the IANA registry."""
    value = int.from_bytes(check_iid(iid), "big")
    return any(first <= value <= last for first, last in _BOUNDS)


def prefix64(prefix: PrefixLike) -> bytes:
    """The 8 octets of a /64 prefix.

    ``prefix`` is text (``"2001:db8:1:2::/64"``), an :class:`~ipaddress.IPv6Network`
    or the 8 octets themselves. RFC 4862 §5.5.3 (d): a prefix whose length plus
    the 64-bit IID length is not 128 cannot be used, so any other length raises
    :class:`UsageError`, as do host bits set beyond the prefix.
    """
    if isinstance(prefix, (bytes, bytearray)):
        return check_iid(bytes(prefix), "prefix")
    if isinstance(prefix, str):
        return _prefix64_text(prefix)
    if isinstance(prefix, ipaddress.IPv6Network):
        net = prefix
    else:
        raise UsageError(f"prefix must be text, bytes or IPv6Network, got {type(prefix).__name__}")
    return _prefix64_net(net)


@functools.lru_cache(maxsize=256)
def _prefix64_text(text: str) -> bytes:
    try:
        net = ipaddress.IPv6Network(text.strip())
    except ValueError as exc:
        raise UsageError(f"not an IPv6 prefix {text!r}: {exc}") from None
    return _prefix64_net(net)


def _prefix64_net(net: ipaddress.IPv6Network) -> bytes:
    if net.prefixlen != 64:
        raise UsageError(
            f"prefix {net} has length {net.prefixlen}; SLAAC needs a /64 so that prefix "
            "and 64-bit interface identifier make 128 bits (RFC 4862 §5.5.3 d)"
        )
    return net.network_address.packed[:8]


def form_address(prefix: PrefixLike, iid: bytes) -> ipaddress.IPv6Address:
    """The address ``prefix | iid`` (RFC 4862 §5.5.3 d, RFC 4291 §2.5.1)."""
    return ipaddress.IPv6Address(prefix64(prefix) + check_iid(iid))


def as_address(value: str | Address) -> Address:
    """An IPv4 or IPv6 address from text or an address object (UsageError otherwise)."""
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if not isinstance(value, str):
        raise UsageError(f"address must be text or an ipaddress object, got {type(value).__name__}")
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise UsageError(f"not an IPv4 or IPv6 address: {value!r}") from None


def as_ipv6(value: str | ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    """An IPv6 address from text or an address object (UsageError otherwise)."""
    addr = as_address(value)
    if not isinstance(addr, ipaddress.IPv6Address):
        raise UsageError(f"expected an IPv6 address, got IPv4 address {addr}")
    return addr
