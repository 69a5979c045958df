"""SPD selectors and the packet values they are matched against (RFC 4301 §4.4.1.1).

A :class:`Selector` names, for one SPD entry, the traffic the entry applies to:

* local and remote addresses -- each a list of ranges (a single address, a
  prefix and a low-high range are all ranges) or :data:`ANY`; IPv4 and IPv6
  never mix within one selector;
* the next layer protocol -- a number, :data:`ANY`, or (IPv6 only)
  :data:`OPAQUE`;
* local and remote ports -- lists of ranges, :data:`ANY` or :data:`OPAQUE`,
  for protocols with two ports (TCP, UDP, SCTP, DCCP, UDP-Lite);
* the ICMP / ICMPv6 message type and code -- RFC 4301's 16-bit selector: a
  single type with a range of codes, a single type with ANY code, or ANY
  type and ANY code. For IKE the type is the high octet and the code the low
  octet of the 16-bit value (:meth:`Selector.icmp_range16`);
* the Mobility Header type (protocol 135) -- one value each for the local
  and the remote end (RFC 4301 §4.4.1.3 B: the Local's and Remote's "port"
  selectors say whether the type may be sent and received), as the example
  SPD entries of RFC 4877 §6.1 write them (``local_mh_type = BU &
  remote_mh_type = BAck``): an outbound message is matched against the local
  MH type, an inbound one against the remote MH type. For IKE the MH type is
  the high octet of the 16-bit local "port" (RFC 4301 §4.4.1.1).

RFC 4301 §4.4.1 ("OPAQUE and ANY") defines the two special values: ANY "is a
wildcard that matches any value in the corresponding field of the packet, or
that matches packets where that field is not present or is obscured"; OPAQUE
"indicates that the corresponding selector field is not available for
examination" (a non-initial fragment has no ports, prior IPsec may have
encrypted them), so it matches only a packet whose field is *not available*.
A literal value never matches an unavailable field (§4.4.1.1: "If a port
selector specifies a value other than ANY or OPAQUE, it cannot match packets
that are non-initial fragments"). :class:`Traffic` carries the packet's values, with
:data:`OPAQUE` for those that are not available.

The Name selector of RFC 4301 is not modelled (it applies to IKE identities,
not to packets).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from secmob.errors import UsageError
from secmob.ipsec.common import Direction

__all__ = [
    "ANY",
    "ICMP",
    "ICMPV6",
    "MOBILITY_HEADER",
    "OPAQUE",
    "PORT_PROTOCOLS",
    "AddressSet",
    "Direction",
    "IPAddress",
    "Selector",
    "Special",
    "Traffic",
    "addresses",
]

IPAddress: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"


class Special(enum.Enum):
    """The two special selector values of RFC 4301 §4.4.1.1."""

    ANY = "ANY"
    OPAQUE = "OPAQUE"

    def __repr__(self) -> str:
        return self.value


ANY: Literal[Special.ANY] = Special.ANY
OPAQUE: Literal[Special.OPAQUE] = Special.OPAQUE


ICMP = 1
ICMPV6 = 58
MOBILITY_HEADER = 135
#: Next layer protocols that carry a source and a destination port.
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})  # TCP, UDP, DCCP, SCTP, UDP-Lite

_BITS = {4: 32, 6: 128}
Range: TypeAlias = tuple[int, int]
PortSpec: TypeAlias = "Special | int | tuple[int, int] | Iterable[int | tuple[int, int]]"
Ports: TypeAlias = "Special | tuple[Range, ...]"


@dataclass(frozen=True)
class AddressSet:
    """A list of inclusive address ranges of one family (RFC 4301 §4.4.1.1).

    ``ranges`` are integer (first, last) pairs, sorted and merged.
    """

    version: int
    ranges: tuple[Range, ...]

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        if address.version != self.version:
            return False
        value = int(address)
        return any(lo <= value <= hi for lo, hi in self.ranges)

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The ranges as the smallest list of CIDR prefixes covering exactly them."""
        make = ipaddress.IPv4Address if self.version == 4 else ipaddress.IPv6Address
        out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for lo, hi in self.ranges:
            out.extend(ipaddress.summarize_address_range(make(lo), make(hi)))
        return out

    def __str__(self) -> str:
        return ", ".join(str(n) for n in self.networks())

    def __repr__(self) -> str:
        return f"AddressSet({str(self)!r})"


def _one_range(spec: object) -> tuple[int, Range]:
    """Parse one address, prefix or ``low-high`` range into (version, range)."""
    if isinstance(spec, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return spec.version, (int(spec), int(spec))
    if isinstance(spec, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return spec.version, (int(spec.network_address), int(spec.broadcast_address))
    if not isinstance(spec, str):
        raise UsageError(f"an address selector must be an address, prefix or range, not {spec!r}")
    text = spec.strip()
    try:
        if "-" in text:
            low_text, high_text = (part.strip() for part in text.split("-", 1))
            low = ipaddress.ip_address(low_text)
            high = ipaddress.ip_address(high_text)
            if low.version != high.version:
                raise UsageError(
                    f"address range {spec!r} mixes IPv{low.version} and IPv{high.version}"
                )
            if int(low) > int(high):
                raise UsageError(f"address range {spec!r} is inverted: {low} is above {high}")
            return low.version, (int(low), int(high))
        if "/" in text:
            address_text, length_text = text.split("/", 1)
            version = ipaddress.ip_address(address_text).version
            if not length_text.isdigit() or int(length_text) > _BITS[version]:
                raise UsageError(
                    f"prefix {spec!r}: the length must be 0..{_BITS[version]} for IPv{version}"
                )
            net = ipaddress.ip_network(text, strict=True)
            return net.version, (int(net.network_address), int(net.broadcast_address))
        addr = ipaddress.ip_address(text)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"address selector {spec!r} is not valid: {exc}") from None
    return addr.version, (int(addr), int(addr))


def addresses(spec: object) -> AddressSet | Literal[Special.ANY]:
    """Build an address selector from a description.

    ``spec`` is :data:`ANY` (or the string ``"any"``), one address, prefix
    (``"2001:db8::/32"``) or range (``"10.0.0.1-10.0.0.9"``) as a string or
    :mod:`ipaddress` object, an :class:`AddressSet`, or a list of those (one
    family only). Raises :class:`~secmob.errors.UsageError` for mixed families,
    inverted ranges, bad prefix lengths and prefixes with host bits set.
    """
    if spec is ANY or (isinstance(spec, str) and spec.strip().lower() == "any"):
        return ANY
    if isinstance(spec, AddressSet):
        return spec
    items = [spec] if isinstance(spec, str) or not isinstance(spec, Iterable) else list(spec)
    if not items:
        raise UsageError("an address selector list must not be empty (use ANY for all)")
    parsed = [_one_range(item) for item in items]
    versions = {version for version, _ in parsed}
    if len(versions) > 1:
        raise UsageError(f"address selector {spec!r} mixes IPv4 and IPv6 addresses")
    merged: list[Range] = []
    for lo, hi in sorted(r for _, r in parsed):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return AddressSet(versions.pop(), tuple(merged))


def _ports(spec: PortSpec, what: str, limit: int = 0xFFFF) -> Ports:
    """Normalise a port-like selector: ANY, OPAQUE, a value, a range or a list of them."""
    if isinstance(spec, Special):
        return spec
    if isinstance(spec, int):
        items: list[int | tuple[int, int]] = [spec]
    elif isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int) for v in spec):
        items = [(int(spec[0]), int(spec[1]))]  # type: ignore[arg-type]
    else:
        items = list(spec)
    if not items:
        raise UsageError(f"{what} selector list must not be empty (use ANY for all)")
    ranges: list[Range] = []
    for item in items:
        lo, hi = (item, item) if isinstance(item, int) else item
        if not (0 <= lo <= limit and 0 <= hi <= limit):
            raise UsageError(f"{what} {item!r} is out of range 0..{limit}")
        if lo > hi:
            raise UsageError(f"{what} range {item!r} is inverted: {lo} is above {hi}")
        ranges.append((lo, hi))
    return tuple(sorted(ranges))


def _in(value: int | Special, sel: Ports) -> bool:
    """RFC 4301 §4.4.1.1 matching of one port-like field."""
    if sel is ANY:
        return True
    if sel is OPAQUE:
        return value is OPAQUE
    if isinstance(value, Special):
        return False
    return any(lo <= value <= hi for lo, hi in sel)


@dataclass(frozen=True)
class Selector:
    """The selectors of one SPD entry (RFC 4301 §4.4.1.1).

    Build it with :meth:`make`, which parses addresses and ports and checks the
    combination; the raw constructor expects normalised values.
    """

    local: AddressSet | Literal[Special.ANY] = ANY
    remote: AddressSet | Literal[Special.ANY] = ANY
    protocol: int | Special = ANY
    local_port: Ports = ANY
    remote_port: Ports = ANY
    icmp_type: int | Special = ANY
    icmp_code: Ports = ANY
    local_mh_type: int | Special = ANY
    remote_mh_type: int | Special = ANY
    version: int | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        sides = [s.version for s in (self.local, self.remote) if isinstance(s, AddressSet)]
        if len(set(sides)) > 1:
            raise UsageError(
                "local and remote addresses of one SPD entry mix IPv4 and IPv6 "
                f"(local {self.local}, remote {self.remote})"
            )
        object.__setattr__(self, "version", sides[0] if sides else None)
        self._check_protocol()

    def _check_protocol(self) -> None:
        proto = self.protocol
        if isinstance(proto, int) and not 0 <= proto <= 255:
            raise UsageError(f"next layer protocol {proto} is out of range 0..255")
        if proto is OPAQUE and self.version == 4:
            raise UsageError("next layer protocol OPAQUE exists for IPv6 only (RFC 4301 §4.4.1.1)")
        uses_ports = isinstance(proto, int) and proto in PORT_PROTOCOLS
        if not uses_ports and (self.local_port is not ANY or self.remote_port is not ANY):
            raise UsageError(
                f"port selectors need a protocol with ports {sorted(PORT_PROTOCOLS)}, "
                f"not protocol {proto!r}"
            )
        icmp_protocols = {4: (ICMP,), 6: (ICMPV6,), None: (ICMP, ICMPV6)}[self.version]
        icmp_ok = proto in icmp_protocols
        if self.icmp_type is not ANY or self.icmp_code is not ANY:
            if not icmp_ok:
                raise UsageError(
                    f"ICMP type/code selectors need protocol ICMP (1, IPv4) or ICMPv6 "
                    f"(58, IPv6), not protocol {proto!r} with IPv{self.version or '4/6'}"
                )
            if self.icmp_type is ANY and self.icmp_code is not ANY:
                raise UsageError(
                    "ICMP code selector needs a single ICMP type: RFC 4301 §4.4.1.1 allows "
                    "one type with a range of codes, one type with ANY code, or ANY/ANY"
                )
            if isinstance(self.icmp_type, int) and not 0 <= self.icmp_type <= 255:
                raise UsageError(f"ICMP type {self.icmp_type} is out of range 0..255")
            if self.icmp_type is OPAQUE and self.icmp_code is not ANY:
                raise UsageError("an OPAQUE ICMP type takes ANY code")
        for name in ("local_mh_type", "remote_mh_type"):
            value = getattr(self, name)
            if value is ANY:
                continue
            if proto != MOBILITY_HEADER or self.version == 4:
                raise UsageError(
                    f"{name} needs protocol 135 (IPv6 Mobility Header), not {proto!r}"
                )
            if isinstance(value, int) and not 0 <= value <= 255:
                raise UsageError(f"{name} {value} is out of range 0..255")

    @classmethod
    def make(
        cls,
        local: object = ANY,
        remote: object = ANY,
        protocol: int | Special = ANY,
        *,
        local_port: PortSpec = ANY,
        remote_port: PortSpec = ANY,
        icmp_type: int | Special = ANY,
        icmp_code: PortSpec = ANY,
        local_mh_type: int | Special = ANY,
        remote_mh_type: int | Special = ANY,
    ) -> Selector:
        """Parse and check a selector; see :func:`addresses` for the address forms.

        Ports, ICMP codes: an int, an inclusive ``(low, high)`` pair, a list of
        those, :data:`ANY` or :data:`OPAQUE`.
        """
        return cls(
            local=addresses(local),
            remote=addresses(remote),
            protocol=protocol,
            local_port=_ports(local_port, "local port"),
            remote_port=_ports(remote_port, "remote port"),
            icmp_type=icmp_type,
            icmp_code=_ports(icmp_code, "ICMP code", 0xFF),
            local_mh_type=local_mh_type,
            remote_mh_type=remote_mh_type,
        )

    def icmp_range16(self) -> tuple[int, int] | Special:
        """The ICMP selector as RFC 4301's 16-bit value for IKE (type high, code low).

        A list of code ranges is summarised by its lowest and highest code.
        """
        if isinstance(self.icmp_type, Special):
            return self.icmp_type
        if isinstance(self.icmp_code, Special):
            return (self.icmp_type << 8, (self.icmp_type << 8) | 0xFF)
        return (
            (self.icmp_type << 8) | self.icmp_code[0][0],
            (self.icmp_type << 8) | self.icmp_code[-1][1],
        )

    def matches(self, traffic: Traffic, direction: Direction) -> bool:
        """Whether ``traffic`` going in ``direction`` matches every selector.

        This is the literal reading of RFC 4301 §4.4.1.1, used as the
        reference the SPD index is tested against.
        """
        for sel, addr in ((self.local, traffic.local), (self.remote, traffic.remote)):
            if sel is ANY:
                continue
            if addr not in sel:
                return False
        proto = self.protocol
        if proto is not ANY:
            if proto is OPAQUE:
                return traffic.protocol is OPAQUE
            if traffic.protocol != proto:
                return False
        if not (_in(traffic.local_port, self.local_port)
                and _in(traffic.remote_port, self.remote_port)):
            return False
        if self.icmp_type is not ANY:
            if self.icmp_type is OPAQUE:
                return traffic.icmp_type is OPAQUE
            if traffic.icmp_type != self.icmp_type:
                return False
            if not _in(traffic.icmp_code, self.icmp_code):
                return False
        mh = self.local_mh_type if direction is Direction.OUTBOUND else self.remote_mh_type
        if mh is ANY:
            return True
        if mh is OPAQUE:
            return traffic.mh_type is OPAQUE
        return traffic.mh_type == mh


def _field(value: int | Special, what: str, limit: int) -> None:
    if isinstance(value, Special):
        if value is ANY:
            raise UsageError(f"a packet's {what} is a value or OPAQUE, never ANY")
        return
    if not 0 <= value <= limit:
        raise UsageError(f"{what} {value} is out of range 0..{limit}")


@dataclass(frozen=True, slots=True)
class Traffic:
    """The selector values of one packet, seen from this node (RFC 4301 §4.4.1.1).

    ``local``/``remote`` and the ports are from this node's point of view: for
    an outbound packet local is the source, for an inbound packet local is
    the destination (:meth:`from_packet` does the mapping). A field that is
    not available -- ports of a non-initial fragment, an encrypted next
    layer -- is :data:`OPAQUE`, which is also the default.
    """

    local: IPAddress
    remote: IPAddress
    protocol: int | Special = OPAQUE
    local_port: int | Special = OPAQUE
    remote_port: int | Special = OPAQUE
    icmp_type: int | Special = OPAQUE
    icmp_code: int | Special = OPAQUE
    mh_type: int | Special = OPAQUE
    version: int = field(init=False, repr=False, compare=False)
    local_value: int = field(init=False, repr=False, compare=False)
    remote_value: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("local", "remote"):
            value = getattr(self, name)
            if not isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
                try:
                    object.__setattr__(self, name, ipaddress.ip_address(value))
                except ValueError as exc:
                    raise UsageError(f"traffic {name} address: {exc}") from None
        if self.local.version != self.remote.version:
            raise UsageError(
                f"traffic mixes IPv{self.local.version} and IPv{self.remote.version} addresses"
            )
        object.__setattr__(self, "version", self.local.version)
        object.__setattr__(self, "local_value", int(self.local))
        object.__setattr__(self, "remote_value", int(self.remote))
        _field(self.protocol, "protocol", 255)
        _field(self.local_port, "local port", 0xFFFF)
        _field(self.remote_port, "remote port", 0xFFFF)
        _field(self.icmp_type, "ICMP type", 255)
        _field(self.icmp_code, "ICMP code", 255)
        _field(self.mh_type, "MH type", 255)

    @classmethod
    def from_packet(
        cls,
        direction: Direction,
        src: IPAddress | str,
        dst: IPAddress | str,
        protocol: int | Special = OPAQUE,
        *,
        sport: int | Special = OPAQUE,
        dport: int | Special = OPAQUE,
        icmp_type: int | Special = OPAQUE,
        icmp_code: int | Special = OPAQUE,
        mh_type: int | Special = OPAQUE,
    ) -> Traffic:
        """Map a packet's source/destination fields to local/remote for ``direction``."""
        if direction is Direction.OUTBOUND:
            local, remote, lport, rport = src, dst, sport, dport
        else:
            local, remote, lport, rport = dst, src, dport, sport
        return cls(
            local,  # type: ignore[arg-type]
            remote,  # type: ignore[arg-type]
            protocol,
            lport,
            rport,
            icmp_type,
            icmp_code,
            mh_type,
        )
