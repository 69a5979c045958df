"""Router Advertisements with Prefix Information options (RFC 4861 §4.2,
§4.6.2, validation of §6.1.2; the Home Agent flag of RFC 6275 §7.1 and the
Router Address flag of §7.2).

Router Advertisement (ICMPv6 type 134, code 0), after the checksum::

    Cur Hop Limit (8) | M O H reserved (8) | Router Lifetime (16)
    Reachable Time (32)
    Retrans Timer (32)
    Options ...

Every option is Type (8), Length (8, in units of 8 octets, never 0) and
data. The Prefix Information option (type 3, Length 4)::

    Prefix Length (8) | L A R reserved (8) | Valid Lifetime (32)
    Preferred Lifetime (32) | Reserved2 (32) | Prefix (128)

Other options are kept as :class:`RawNDOption`, so a decoded advertisement
re-encodes to the same octets. :func:`parse_router_advertisement` checks a
whole IPv6 packet as a host must before acting on it (§6.1.2): Hop Limit
255, a link-local source, a valid ICMPv6 checksum, code 0, at least 16
octets, and no option of Length 0.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire.ipv6 import IPv6Packet
from secmob.wire.l4 import ICMPV6

__all__ = [
    "ALL_NODES",
    "ND_ROUTER_ADVERT",
    "PrefixInformation",
    "RawNDOption",
    "RouterAdvertisement",
    "parse_router_advertisement",
]

ND_ROUTER_ADVERT = 134
"""ICMPv6 type of a Router Advertisement (RFC 4861 §4.2)."""
ALL_NODES = ipaddress.IPv6Address("ff02::1").packed
"""The all-nodes multicast address, where unsolicited advertisements go."""
OPT_PREFIX_INFORMATION = 3
_RA = "Router Advertisement"
_M, _O, _H = 0x80, 0x40, 0x20
_L, _A, _R = 0x80, 0x40, 0x20


@dataclass(frozen=True)
class PrefixInformation:
    """Prefix Information option (RFC 4861 §4.6.2; R flag, RFC 6275 §7.2).

    ``on_link`` (L), ``autonomous`` (A, usable for address
    autoconfiguration), ``router_address`` (R: ``prefix`` holds the router's
    whole address). Lifetimes are in seconds (0xffffffff: infinity).
    """

    prefix_length: int
    prefix: bytes
    valid_lifetime: int = 2592000
    preferred_lifetime: int = 604800
    on_link: bool = True
    autonomous: bool = True
    router_address: bool = False
    reserved1: int = 0
    reserved2: int = 0

    def __post_init__(self) -> None:
        if len(self.prefix) != 16:
            raise UsageError(f"a prefix is 16 octets, got {len(self.prefix)}")
        if not 0 <= self.prefix_length <= 128:
            raise UsageError(f"prefix length must be 0..128, got {self.prefix_length}")
        if self.reserved1 & ~0x1F or not self.reserved1 >= 0:
            raise UsageError("reserved1 holds the 5 low bits of the flags octet")

    @property
    def network(self) -> ipaddress.IPv6Network:
        """The prefix as a network (host bits cleared)."""
        return ipaddress.IPv6Network((self.prefix, self.prefix_length), strict=False)

    def encode(self, w: Writer) -> None:
        flags = ((_L if self.on_link else 0) | (_A if self.autonomous else 0)
                 | (_R if self.router_address else 0) | self.reserved1)
        w.u8(OPT_PREFIX_INFORMATION).u8(4).u8(self.prefix_length).u8(flags)
        w.u32(self.valid_lifetime).u32(self.preferred_lifetime).u32(self.reserved2)
        w.put(self.prefix)

    @classmethod
    def decode(cls, r: Reader) -> PrefixInformation:
        plen, flags = r.u8(), r.u8()
        valid, preferred, reserved2 = r.u32(), r.u32(), r.u32()
        return cls(plen, r.take(16), valid, preferred, bool(flags & _L), bool(flags & _A),
                   bool(flags & _R), flags & 0x1F, reserved2)

    def __repr__(self) -> str:
        flags = "".join(f for f, on in (("L", self.on_link), ("A", self.autonomous),
                                        ("R", self.router_address)) if on)
        return f"PrefixInformation({self.network}, {flags or '-'})"


@dataclass(frozen=True)
class RawNDOption:
    """Any other Neighbor Discovery option: its type and the octets after the
    Length field (a multiple of 8, minus 2)."""

    type: int
    data: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 255 or (len(self.data) + 2) % 8 or len(self.data) > 2038:
            raise UsageError("an ND option is 8n octets with a type of 0..255")

    def encode(self, w: Writer) -> None:
        w.u8(self.type).u8((len(self.data) + 2) // 8).put(self.data)


NDOption = PrefixInformation | RawNDOption


@dataclass(frozen=True)
class RouterAdvertisement:
    """A Router Advertisement message (RFC 4861 §4.2; H flag, RFC 6275 §7.1)."""

    cur_hop_limit: int = 64
    managed: bool = False
    other: bool = False
    home_agent: bool = False
    router_lifetime: int = 1800
    reachable_time: int = 0
    retrans_timer: int = 0
    options: tuple[NDOption, ...] = ()
    flags_reserved: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not 0 <= self.cur_hop_limit <= 255 or not 0 <= self.router_lifetime <= 0xFFFF:
            raise UsageError("Cur Hop Limit is 8 bits, Router Lifetime 16 bits")
        if self.flags_reserved & ~0x1F or self.flags_reserved < 0:
            raise UsageError("flags_reserved holds the 5 low bits of the flags octet")

    def prefixes(self) -> list[PrefixInformation]:
        """The Prefix Information options, in order."""
        return [o for o in self.options if isinstance(o, PrefixInformation)]

    def body(self) -> bytes:
        """The ICMPv6 message body after the checksum field."""
        w = Writer()
        flags = ((_M if self.managed else 0) | (_O if self.other else 0)
                 | (_H if self.home_agent else 0) | self.flags_reserved)
        w.u8(self.cur_hop_limit).u8(flags).u16(self.router_lifetime)
        w.u32(self.reachable_time).u32(self.retrans_timer)
        for o in self.options:
            o.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes) -> RouterAdvertisement:
        """Decode the body after the ICMPv6 checksum (§4.2). Raises
        :class:`~secmob.errors.Truncated` or :class:`DecodeError` (an option of
        Length 0, a Prefix Information option whose Length is not 4)."""
        r = Reader(body, _RA)
        hop, flags, lifetime = r.u8(), r.u8(), r.u16()
        reachable, retrans = r.u32(), r.u32()
        options: list[NDOption] = []
        while not r.at_end():
            start = r.pos
            otype, length = r.u8(), r.u8()
            if length == 0:
                raise DecodeError(_RA, f"option type {otype} has Length 0 (RFC 4861 §4.6)",
                                  start + 1)
            block = r.block(length * 8 - 2)
            if otype == OPT_PREFIX_INFORMATION:
                if length != 4:
                    raise DecodeError(_RA, f"Prefix Information option has Length {length}, "
                                      "expected 4", start + 1)
                options.append(PrefixInformation.decode(block))
            else:
                options.append(RawNDOption(otype, block.rest()))
        return cls(hop, bool(flags & _M), bool(flags & _O), bool(flags & _H), lifetime,
                   reachable, retrans, tuple(options), flags & 0x1F)

    def to_packet(self, source: bytes, destination: bytes = ALL_NODES) -> bytes:
        """The whole IPv6 packet (Hop Limit 255, §6.1.2), checksum filled."""
        msg = ICMPV6(ND_ROUTER_ADVERT, 0, 0, self.body())
        return IPv6Packet.build(source, destination, (), msg, hop_limit=255).to_bytes()


def parse_router_advertisement(packet: bytes) -> RouterAdvertisement:
    """Decode and validate a Router Advertisement packet (RFC 4861 §6.1.2).

    Raises :class:`DecodeError` (or :class:`~secmob.errors.Truncated`) naming
    the failed check: not ICMPv6 type 134, Hop Limit other than 255, source
    not link-local, wrong checksum, code other than 0, shorter than 16 octets,
    or a malformed option."""
    p = IPv6Packet.parse(packet)
    msg = p.payload
    if p.chain or not isinstance(msg, ICMPV6) or msg.type != ND_ROUTER_ADVERT:
        raise DecodeError(_RA, "not an ICMPv6 Router Advertisement (type 134)", 40)
    if p.header.hop_limit != 255:
        raise DecodeError(_RA, f"Hop Limit {p.header.hop_limit}, expected 255 "
                          "(RFC 4861 §6.1.2)", 7)
    if not ipaddress.IPv6Address(p.header.src).is_link_local:
        raise DecodeError(_RA, "the source is not a link-local address (RFC 4861 §6.1.2)", 8)
    msg.verify_checksum(p.header.src, p.header.dst)
    if msg.code != 0:
        raise DecodeError(_RA, f"ICMPv6 code {msg.code}, expected 0", 41)
    if len(msg.body) < 12:
        raise DecodeError(_RA, f"{len(msg.body) + 4} octets, fewer than 16", 44)
    return RouterAdvertisement.decode(msg.body)
