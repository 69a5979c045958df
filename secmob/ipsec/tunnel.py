"""IPsec tunnel mode around the ESP/AH payload (RFC 4301 §5.1.2): the outer
header built from the SA's tunnel endpoints, the ECN of the outer header
carried into the inner one on decapsulation, and the inner packet cut to its
own length (without TFC padding).

An outer IPv6 or IPv4 header can carry an inner packet of either family
(IP protocol 41 or 4).
"""

from __future__ import annotations

import struct

from secmob.errors import DecodeError
from secmob.ipsec.sad import SecurityAssociation
from secmob.wire.checksum import internet_checksum

__all__ = [
    "IPV4_IN_IP",
    "IPV6_IN_IP",
    "decapsulated",
    "inner_packet",
    "outer_header",
    "traffic_class",
]

#: IP protocol numbers of an inner IPv4 and an inner IPv6 packet.
IPV4_IN_IP, IPV6_IN_IP = 4, 41

_H = struct.Struct("!H")


def traffic_class(packet: bytes) -> int:
    """DSCP and ECN of an IP header: the IPv6 Traffic Class or the IPv4 TOS octet."""
    if packet[0] >> 4 == 6:
        return ((packet[0] & 0x0F) << 4) | (packet[1] >> 4)
    return packet[1]


def outer_header(sa: SecurityAssociation, next_header: int, body_length: int,
                  inner: bytes, ident: int) -> bytes:
    """The outer header of a tunnel-mode packet (RFC 4301 §5.1.2.1).

    DSCP and ECN are copied from the inner header; the hop limit (TTL) is
    constructed (64). An IPv4 outer header copies the inner DF bit (an inner
    IPv6 packet is never fragmented en route, so DF is set) and carries
    ``ident`` as Identification when DF is clear (RFC 6864 §4.1).
    """
    src, dst = sa.tunnel_source, sa.tunnel_destination
    assert src is not None and dst is not None  # tunnel SAs always have both
    tc = traffic_class(inner)
    if len(src) == 16:
        return struct.pack("!IHBB", (6 << 28) | (tc << 20), body_length, next_header,
                           64) + src + dst
    df = inner[0] >> 4 == 6 or bool(inner[6] & 0x40)
    header = bytearray(struct.pack("!BBHHHBBH", 0x45, tc, 20 + body_length,
                                   0 if df else ident, 0x4000 if df else 0, 64,
                                   next_header, 0) + src + dst)
    _H.pack_into(header, 10, internet_checksum(bytes(header)))
    return bytes(header)


def decapsulated(inner: bytes, outer: bytes) -> bytes:
    """The inner packet with congestion marked when the outer header was
    (RFC 4301 §5.1.2.1 note 6, RFC 3168 §9.2.1): an outer ECN of CE turns an
    ECN-capable inner ECN (ECT(0), ECT(1)) into CE."""
    if traffic_class(outer) & 3 != 3 or traffic_class(inner) & 3 not in (1, 2):
        return inner
    marked = bytearray(inner)
    if inner[0] >> 4 == 6:
        marked[1] |= 0x30
    else:
        marked[1] |= 0x03
        ihl = (marked[0] & 0x0F) * 4
        marked[10:12] = b"\x00\x00"
        _H.pack_into(marked, 10, internet_checksum(bytes(marked[:ihl])))
    return bytes(marked)


def inner_packet(inner: bytes, next_header: int) -> bytes:
    """The inner packet of a tunnel, without TFC padding (RFC 4303 §2.7: the
    inner header's length says where the packet ends)."""
    if next_header == IPV6_IN_IP:
        if len(inner) < 40 or inner[0] >> 4 != 6:
            raise DecodeError("IPsec tunnel", "inner packet is not IPv6", 0)
        end = 40 + _H.unpack_from(inner, 4)[0]
    else:
        if len(inner) < 20 or inner[0] >> 4 != 4:
            raise DecodeError("IPsec tunnel", "inner packet is not IPv4", 0)
        end = _H.unpack_from(inner, 2)[0]
    if end > len(inner):
        raise DecodeError("IPsec tunnel", f"inner packet claims {end} octets, "
                                          f"{len(inner)} arrived", 0)
    return inner[:end]
