"""IPv6 packets: the fixed header (RFC 8200 §3), the ordered chain of extension
headers (RFC 8200 §4) and the upper-layer payload.

A packet is ``IPv6Packet(header, chain, payload)``. ``chain`` is a tuple in
wire order (AH processing depends on the order, so it is never a mapping) of

* :class:`HopByHop` (next header 0, RFC 8200 §4.3) and
  :class:`DestinationOptions` (60, §4.6), holding TLV options
  (:mod:`secmob.wire.options`);
* :class:`RoutingType0` (43, §4.4; parsed only, RFC 5095 deprecates its
  processing), :class:`RoutingType2` (RFC 6275 §6.4, one address) and
  :class:`RawRouting` (other routing types, kept as octets);
* :class:`Fragment` (44, §4.5);
* :class:`~secmob.wire.ipsec_headers.AH` (51, RFC 4302 §2) and
  :class:`~secmob.wire.ipsec_headers.ESP` (50, RFC 4303 §2). ESP ends the
  chain: what follows its sequence number is opaque.

``payload`` is a :class:`~secmob.wire.l4.UDP`, :class:`~secmob.wire.l4.TCP`
or :class:`~secmob.wire.l4.ICMPV6` when the last next header names one of
them (and the packet is not a fragment), else raw bytes (No Next Header 59,
unknown protocols, fragments, everything after ESP is inside ESP).

Headers are decoded in the order they arrive; the codec does not police the
order RFC 8200 §4.1 recommends (a Hop-by-Hop header after another header is
still decoded). Jumbograms (RFC 2675, Payload Length 0) are not supported.

Every field is stored as received, so ``IPv6Packet.parse(b).to_bytes() == b``
for every accepted input. Lengths that follow from the content (Hdr Ext Len,
AH Payload Len) are derived; Payload Length and checksums are stored fields,
filled only by :meth:`IPv6Packet.build` or the segments' ``with_checksum``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire._encode import encoded
from secmob.wire.ipsec_headers import AH, ESP
from secmob.wire.l4 import Segment, decode_segment
from secmob.wire.options import HomeAddressOption, Option, decode_options, encode_options

__all__ = [
    "AH",
    "ESP",
    "DestinationOptions",
    "ExtensionHeader",
    "Fragment",
    "HopByHop",
    "IPv6Header",
    "IPv6Packet",
    "RawRouting",
    "RoutingType0",
    "RoutingType2",
    "decode_chain",
    "encode_chain",
    "header_code",
    "link_chain",
]

HOPOPT, ROUTING, FRAGMENT, ESP_NH, AH_NH, NO_NEXT_HEADER, DSTOPTS = 0, 43, 44, 50, 51, 59, 60
_IPV6_UPPER = (6, 17, 58)


@dataclass(frozen=True, slots=True)
class IPv6Header:
    """The 40-octet IPv6 header (RFC 8200 §3)."""

    traffic_class: int
    flow_label: int
    payload_length: int
    next_header: int
    hop_limit: int
    src: bytes
    dst: bytes
    version: int = 6

    NAME = "IPv6"

    @classmethod
    def decode(cls, r: Reader) -> IPv6Header:
        start = r.pos
        word = r.u32()
        version = word >> 28
        if version != 6:
            raise DecodeError("IPv6", f"version {version}, expected 6", start)
        plen, nh, hlim = r.u16(), r.u8(), r.u8()
        src, dst = r.take(16), r.take(16)
        return cls((word >> 20) & 0xFF, word & 0xFFFFF, plen, nh, hlim, src, dst, version)

    def encode(self, w: Writer) -> None:
        if len(self.src) != 16 or len(self.dst) != 16:
            raise UsageError("IPv6 addresses are 16 octets")
        if not (0 <= self.traffic_class <= 0xFF and 0 <= self.flow_label <= 0xFFFFF
                and 0 <= self.version <= 15):
            raise UsageError("traffic class is 8 bits, flow label 20 bits, version 4 bits")
        w.u32((self.version << 28) | (self.traffic_class << 20) | self.flow_label)
        w.u16(self.payload_length).u8(self.next_header).u8(self.hop_limit)
        w.put(self.src).put(self.dst)


def _decode_options_header(r: Reader) -> tuple[int, tuple[Option, ...]]:
    nh, hlen = r.u8(), r.u8()
    return nh, decode_options(r.block(hlen * 8 + 6))


def _encode_options_header(w: Writer, name: str, nh: int, options: Sequence[Option]) -> None:
    area = encode_options(options)
    total = 2 + len(area)
    if total % 8 or total > 2048:
        raise UsageError(
            f"{name} header would be {total} octets; it must be a multiple of 8 up to 2048 "
            "(use layout_options to add padding)"
        )
    w.u8(nh).u8(total // 8 - 1).put(area)


@dataclass(frozen=True, slots=True)
class HopByHop:
    """Hop-by-Hop Options header (RFC 8200 §4.3)."""

    next_header: int
    options: tuple[Option, ...] = ()

    CODE = HOPOPT
    NAME = "Hop-by-Hop Options"

    @classmethod
    def decode(cls, r: Reader) -> HopByHop:
        return cls(*_decode_options_header(r))

    def encode(self, w: Writer) -> None:
        _encode_options_header(w, self.NAME, self.next_header, self.options)


@dataclass(frozen=True, slots=True)
class DestinationOptions:
    """Destination Options header (RFC 8200 §4.6); carries the Home Address
    option of RFC 6275 §6.3."""

    next_header: int
    options: tuple[Option, ...] = ()

    CODE = DSTOPTS
    NAME = "Destination Options"

    @classmethod
    def decode(cls, r: Reader) -> DestinationOptions:
        return cls(*_decode_options_header(r))

    def encode(self, w: Writer) -> None:
        _encode_options_header(w, self.NAME, self.next_header, self.options)

    def home_address(self) -> bytes | None:
        """The address of the first Home Address option, if any."""
        for opt in self.options:
            if isinstance(opt, HomeAddressOption):
                return opt.home_address
        return None


@dataclass(frozen=True, slots=True)
class RoutingType0:
    """Type 0 Routing header (RFC 8200 §4.4 layout, as defined in RFC 2460 §4.4;
    RFC 5095 deprecates processing it). Hdr Ext Len is twice the number of
    addresses."""

    next_header: int
    segments_left: int
    addresses: tuple[bytes, ...] = ()
    reserved: int = 0

    CODE = ROUTING
    NAME = "Routing"
    routing_type = 0

    def encode(self, w: Writer) -> None:
        if any(len(a) != 16 for a in self.addresses) or len(self.addresses) > 127:
            raise UsageError("a type 0 Routing header holds up to 127 addresses of 16 octets")
        w.u8(self.next_header).u8(2 * len(self.addresses)).u8(0).u8(self.segments_left)
        w.u32(self.reserved)
        for a in self.addresses:
            w.put(a)


@dataclass(frozen=True, slots=True)
class RoutingType2:
    """Type 2 Routing header (RFC 6275 §6.4): Hdr Ext Len 2, one address (the
    mobile node's home address)."""

    next_header: int
    segments_left: int
    address: bytes
    reserved: int = 0

    CODE = ROUTING
    NAME = "Routing"
    routing_type = 2

    def encode(self, w: Writer) -> None:
        if len(self.address) != 16:
            raise UsageError("the type 2 Routing header address is 16 octets")
        w.u8(self.next_header).u8(2).u8(2).u8(self.segments_left).u32(self.reserved)
        w.put(self.address)


@dataclass(frozen=True, slots=True)
class RawRouting:
    """A Routing header of any other type (RFC 8200 §4.4); ``data`` is everything
    after Segments Left."""

    next_header: int
    routing_type: int
    segments_left: int
    data: bytes = bytes(4)

    CODE = ROUTING
    NAME = "Routing"

    def encode(self, w: Writer) -> None:
        total = 4 + len(self.data)
        if total % 8 or total > 2048:
            raise UsageError(f"Routing header would be {total} octets, not a multiple of 8")
        w.u8(self.next_header).u8(total // 8 - 1).u8(self.routing_type)
        w.u8(self.segments_left).put(self.data)


def _decode_routing(r: Reader) -> RoutingType0 | RoutingType2 | RawRouting:
    start = r.pos
    nh, hlen, rtype, sl = r.u8(), r.u8(), r.u8(), r.u8()
    body = r.block(hlen * 8 + 4)
    if rtype == 0:
        if hlen % 2:
            raise DecodeError("Routing", f"type 0 Hdr Ext Len {hlen} is odd", start + 1)
        reserved = body.u32()
        return RoutingType0(nh, sl, tuple(body.take(16) for _ in range(hlen // 2)), reserved)
    if rtype == 2:
        if hlen != 2:
            raise DecodeError("Routing", f"type 2 Hdr Ext Len {hlen}, expected 2", start + 1)
        reserved = body.u32()
        return RoutingType2(nh, sl, body.take(16), reserved)
    return RawRouting(nh, rtype, sl, body.rest())


@dataclass(frozen=True, slots=True)
class Fragment:
    """Fragment header (RFC 8200 §4.5). ``offset`` is in 8-octet units;
    ``reserved`` (8 bits) and ``res`` (2 bits) are kept as received."""

    next_header: int
    offset: int
    more: bool
    identification: int
    reserved: int = 0
    res: int = 0

    CODE = FRAGMENT
    NAME = "Fragment"

    @classmethod
    def decode(cls, r: Reader) -> Fragment:
        nh, reserved, word, ident = r.u8(), r.u8(), r.u16(), r.u32()
        return cls(nh, word >> 3, bool(word & 1), ident, reserved, (word >> 1) & 3)

    def encode(self, w: Writer) -> None:
        w.u8(self.next_header).u8(self.reserved)
        w.u16((self.offset << 3) | (self.res << 1) | int(self.more)).u32(self.identification)

    @property
    def is_fragment(self) -> bool:
        """True unless this is an atomic fragment (offset 0, M flag clear)."""
        return self.offset != 0 or self.more


ExtensionHeader = (
    HopByHop | DestinationOptions | RoutingType0 | RoutingType2 | RawRouting | Fragment | AH | ESP
)
def header_code(h: ExtensionHeader) -> int:
    """The Next Header value that announces ``h``."""
    return h.CODE


_ALL_EXTENSIONS = frozenset({HOPOPT, DSTOPTS, ROUTING, FRAGMENT, AH_NH, ESP_NH})


def decode_chain(
    r: Reader, nh: int, upper: Sequence[int], decode_upper: bool = True,
    extensions: frozenset[int] = _ALL_EXTENSIONS,
) -> tuple[tuple[ExtensionHeader, ...], Segment | bytes]:
    """Decode extension headers and the payload from ``r`` starting with ``nh``.

    Shared by IPv6 and by IPv4, where ``extensions`` is only AH and ESP."""
    chain: list[ExtensionHeader] = []
    outer = r.header
    while True:
        h: ExtensionHeader
        if nh not in extensions:
            r.header = outer
            if nh == NO_NEXT_HEADER or not decode_upper:
                return tuple(chain), r.rest()
            return tuple(chain), decode_segment(nh, r, upper)
        if nh == HOPOPT:
            r.header = HopByHop.NAME
            h = HopByHop.decode(r)
        elif nh == DSTOPTS:
            r.header = DestinationOptions.NAME
            h = DestinationOptions.decode(r)
        elif nh == ROUTING:
            r.header = "Routing"
            h = _decode_routing(r)
        elif nh == FRAGMENT:
            r.header = Fragment.NAME
            h = Fragment.decode(r)
        elif nh == AH_NH:
            r.header = AH.NAME
            h = AH.decode(r)
        else:
            r.header = ESP.NAME
            chain.append(ESP.decode(r))
            r.header = outer
            return tuple(chain), b""
        chain.append(h)
        nh = h.next_header
        if isinstance(h, Fragment) and h.is_fragment:
            r.header = outer
            return tuple(chain), r.rest()


def link_chain(
    chain: Sequence[ExtensionHeader], last: int,
) -> tuple[ExtensionHeader, ...]:
    """Copies of ``chain`` whose Next Header fields name the following header,
    the last one naming ``last`` (the upper-layer protocol)."""
    out: list[ExtensionHeader] = []
    for i, h in enumerate(chain):
        if isinstance(h, ESP):
            if i != len(chain) - 1:
                raise UsageError("ESP must be the last header of the chain")
            out.append(h)
            continue
        nxt = header_code(chain[i + 1]) if i + 1 < len(chain) else last
        out.append(dataclasses.replace(h, next_header=nxt))
    return tuple(out)


def encode_chain(w: Writer, chain: Sequence[ExtensionHeader], payload: Segment | bytes) -> None:
    for h in chain:
        h.encode(w)
    if isinstance(payload, bytes):
        w.put(payload)
    else:
        payload.encode(w)


@dataclass(frozen=True, slots=True)
class IPv6Packet:
    """An IPv6 packet: header, ordered extension-header chain, payload."""

    header: IPv6Header
    chain: tuple[ExtensionHeader, ...] = ()
    payload: Segment | bytes = b""

    @classmethod
    def parse(cls, data: bytes, *, decode_upper: bool = True) -> IPv6Packet:
        """Decode a whole packet. Octets beyond Payload Length are rejected
        (:class:`DecodeError`); a shorter buffer raises :class:`Truncated`."""
        r = Reader(data, "IPv6")
        header = IPv6Header.decode(r)
        body = r.block(header.payload_length)
        r.finish()
        chain, payload = decode_chain(body, header.next_header, _IPV6_UPPER, decode_upper)
        return cls(header, chain, payload)

    @classmethod
    def build(
        cls, src: bytes, dst: bytes, chain: Sequence[ExtensionHeader] = (),
        payload: Segment | bytes = b"", *, protocol: int | None = None, hop_limit: int = 64,
        traffic_class: int = 0, flow_label: int = 0, fill_checksum: bool = True,
    ) -> IPv6Packet:
        """A packet with Next Header fields linked, Payload Length set and, when
        ``fill_checksum``, the upper-layer checksum computed over the pseudo-header
        of RFC 8200 §8.1 (final destination, home address as source).

        ``protocol`` names the upper layer of a raw ``payload`` (default 59, No
        Next Header); a segment names its own.
        """
        last = protocol if protocol is not None else getattr(
            payload, "PROTOCOL", NO_NEXT_HEADER)
        linked = link_chain(chain, last)
        first = header_code(linked[0]) if linked else last
        draft = cls(IPv6Header(traffic_class, flow_label, 0, first, hop_limit, src, dst),
                    linked, payload)
        if fill_checksum and not isinstance(payload, bytes):
            s, d = draft.pseudo_header_addresses()
            draft = dataclasses.replace(draft, payload=payload.with_checksum(s, d))
        body = encoded("IPv6", lambda w: encode_chain(w, draft.chain, draft.payload))
        return dataclasses.replace(
            draft, header=dataclasses.replace(draft.header, payload_length=len(body)))

    def to_bytes(self) -> bytes:
        def encode(w: Writer) -> None:
            self.header.encode(w)
            encode_chain(w, self.chain, self.payload)

        return encoded("IPv6", encode)

    def pseudo_header_addresses(self) -> tuple[bytes, bytes]:
        """Source and destination for the upper-layer checksum (RFC 8200 §8.1):
        the final destination when a routing header has segments left, and the
        home address of a Home Address option as source (RFC 6275 §6.1.1,
        §11.3.1)."""
        src, dst = self.header.src, self.header.dst
        routed = False
        for h in self.chain:
            if isinstance(h, DestinationOptions) and (home := h.home_address()) is not None:
                src = home
            elif isinstance(h, RoutingType0) and h.segments_left and h.addresses and not routed:
                dst, routed = h.addresses[-1], True
            elif isinstance(h, RoutingType2) and h.segments_left and not routed:
                dst, routed = h.address, True
        return src, dst

    def verify_checksum(self) -> None:
        """Verify the upper-layer checksum (raises :class:`DecodeError`)."""
        if isinstance(self.payload, bytes):
            raise UsageError("the payload is not a parsed UDP, TCP or ICMPv6 segment")
        self.payload.verify_checksum(*self.pseudo_header_addresses())
