"""A fast walk over an IP packet's headers that finds offsets, not objects.

The IPsec engine needs, per packet, only a handful of facts: the addresses,
the upper-layer protocol and ports (the SPD selectors), where ESP or AH
goes (outbound, transport mode) or where it is (inbound), and which Next
Header octet names that place. :func:`skim` finds them in one pass over the
bytes without building header objects; :mod:`secmob.wire.ipv6` and
:mod:`secmob.wire.ipv4` remain the full codecs.

Transport-mode placement (RFC 4303 §3.1.1, RFC 4302 §3.1.1, RFC 8200 §4.1,
RFC 6275 §6.3): ESP/AH follows the Hop-by-Hop, Routing and Fragment headers,
any Destination Options header that precedes a Routing header (it is for
intermediate destinations) and any Destination Options header carrying a
Home Address option (processed before IPsec at the receiver). Other
Destination Options headers are end-to-end and go inside ESP.

Malformed input raises :class:`~secmob.errors.Truncated` or
:class:`~secmob.errors.DecodeError` naming the header and the offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from secmob.errors import DecodeError, Truncated

__all__ = ["EXTENSION_HEADERS", "Skim", "skim"]

HOPOPT, ROUTING, FRAGMENT, ESP, AH, DSTOPTS = 0, 43, 44, 50, 51, 60
TCP, UDP, ICMP, ICMPV6, MH, SCTP, DCCP, UDPLITE = 6, 17, 1, 58, 135, 132, 33, 136
_PORTS = frozenset({TCP, UDP, SCTP, DCCP, UDPLITE})
_HOME_ADDRESS_OPTION = 201
_H = struct.Struct("!H")


@dataclass(slots=True)
class Skim:
    """Offsets and selector values of one packet.

    ``src``/``dst`` are the header's addresses; ``home_address`` is the
    address of a Home Address option (RFC 6275 §6.3) when there is one, and
    ``final_dst`` the last address of a Routing header with segments left.
    ``insert_at`` is where a transport-mode ESP/AH header goes and
    ``nh_at`` the offset of the Next Header (IPv4: Protocol) octet that
    names the header at ``insert_at``. ``ipsec_at`` is the offset of the
    first AH or ESP header (-1 if none; then ``nh_at`` names it).
    ``protocol`` is the upper-layer protocol (or 50/51 when IPsec hides it),
    ``upper_at`` its offset, and ``sport``/``dport``/``icmp_type``/
    ``icmp_code``/``mh_type`` are -1 when not present or not readable
    (non-initial fragments, short segments).
    """

    version: int
    src: bytes
    dst: bytes
    protocol: int
    insert_at: int
    nh_at: int
    ipsec_at: int
    upper_at: int
    home_address: bytes | None = None
    final_dst: bytes | None = None
    fragment: bool = False
    sport: int = -1
    dport: int = -1
    icmp_type: int = -1
    icmp_code: int = -1
    mh_type: int = -1


def _need(data: bytes, header: str, offset: int, n: int) -> None:
    if offset + n > len(data):
        raise Truncated(header, offset, n, max(len(data) - offset, 0))


def _home_address(data: bytes, start: int, end: int) -> bytes | None:
    """The address of a Home Address option in the TLV area ``data[start:end]``."""
    i = start
    while i < end:
        t = data[i]
        if t == 0:  # Pad1
            i += 1
            continue
        if i + 2 > end:
            raise DecodeError("Destination Options", "option runs past the header", i)
        length = data[i + 1]
        if i + 2 + length > end:
            raise DecodeError("Destination Options", "option runs past the header", i)
        if t == _HOME_ADDRESS_OPTION:
            if length != 16:
                raise DecodeError("Home Address option",
                                  f"Option Length must be 16, got {length}", i + 1)
            return data[i + 2 : i + 18]
        i += 2 + length
    return None


def _upper(s: Skim, data: bytes) -> None:
    off, proto = s.upper_at, s.protocol
    if s.fragment:
        return
    if proto in _PORTS:
        if off + 4 <= len(data):
            s.sport, s.dport = struct.unpack_from("!HH", data, off)
    elif proto in (ICMP, ICMPV6):
        if off + 2 <= len(data):
            s.icmp_type, s.icmp_code = data[off], data[off + 1]
    elif proto == MH and off + 3 <= len(data):
        s.mh_type = data[off + 2]


_EXTENSIONS = frozenset({HOPOPT, ROUTING, FRAGMENT, DSTOPTS, ESP, AH})
#: Next Header values :func:`skim` walks past (or stops at, for AH and ESP).
EXTENSION_HEADERS = _EXTENSIONS


def _skim6(data: bytes) -> Skim:
    _need(data, "IPv6", 0, 40)
    plen = _H.unpack_from(data, 4)[0]
    if 40 + plen != len(data):
        if 40 + plen > len(data):
            raise Truncated("IPv6", 40, plen, len(data) - 40)
        raise DecodeError("IPv6", f"{len(data) - 40 - plen} octet(s) beyond Payload Length",
                          40 + plen)
    nh, nh_at, off = data[6], 6, 40
    if nh not in _EXTENSIONS:  # no extension headers: the common case
        s = Skim(6, data[8:24], data[24:40], nh, 40, 6, -1, 40)
        _upper(s, data)
        return s
    # (code, start, end, carries a Home Address option) per header before AH/ESP
    seen: list[tuple[int, int, int, int]] = []
    home = final = None
    fragment = False
    ipsec_at = -1
    while nh in _EXTENSIONS:
        if nh in (ESP, AH):
            ipsec_at = off
            break
        name = {HOPOPT: "Hop-by-Hop Options", ROUTING: "Routing", FRAGMENT: "Fragment",
                DSTOPTS: "Destination Options"}[nh]
        _need(data, name, off, 8)
        length = 8 if nh == FRAGMENT else (data[off + 1] + 1) * 8
        _need(data, name, off, length)
        if nh == DSTOPTS:
            has_home = _home_address(data, off + 2, off + length)
            if has_home is not None:
                home = has_home
        else:
            has_home = None
        if nh == ROUTING and data[off + 3]:  # segments left: the final destination
            addrs = data[off + 8 : off + length]
            if data[off + 2] in (0, 2) and len(addrs) >= 16:
                final = addrs[-16:]
        seen.append((nh, off, off + length, int(has_home is not None)))
        if nh == FRAGMENT:
            frag_off = _H.unpack_from(data, off + 2)[0] >> 3
            fragment = frag_off != 0
        nh_at, nh, off = off, data[off], off + length
        if fragment:
            break
    # Transport placement: after the last header that has to stay outside.
    insert_nh_at, insert_at = 6, 40
    # The first octet of an extension header is the Next Header naming what follows it.
    for i, (code, start, end, with_home) in enumerate(seen):
        before_routing = code == DSTOPTS and any(c == ROUTING for c, *_ in seen[i + 1 :])
        if code != DSTOPTS or before_routing or with_home:
            insert_nh_at, insert_at = start, end
    s = Skim(6, data[8:24], data[24:40], nh, insert_at, insert_nh_at, ipsec_at, off,
             home, final, fragment)
    if ipsec_at >= 0:
        s.nh_at = nh_at
    _upper(s, data)
    return s


def _skim4(data: bytes) -> Skim:
    _need(data, "IPv4", 0, 20)
    ihl = (data[0] & 0x0F) * 4
    if ihl < 20:
        raise DecodeError("IPv4", f"IHL {ihl // 4} is below the minimum of 5", 0)
    _need(data, "IPv4", 0, ihl)
    total = _H.unpack_from(data, 2)[0]
    if total != len(data):
        if total > len(data):
            raise Truncated("IPv4", 0, total, len(data))
        raise DecodeError("IPv4", f"{len(data) - total} octet(s) beyond Total Length", total)
    if total < ihl:
        raise DecodeError("IPv4", f"Total Length {total} is shorter than the header", 2)
    proto = data[9]
    fragment = (_H.unpack_from(data, 6)[0] & 0x1FFF) != 0
    s = Skim(4, data[12:16], data[16:20], proto, ihl, 9,
             ihl if proto in (ESP, AH) else -1, ihl, fragment=fragment)
    _upper(s, data)
    return s


def skim(data: bytes) -> Skim:
    """Walk the headers of the IPv4 or IPv6 packet ``data`` (see :class:`Skim`)."""
    if not data:
        raise Truncated("IP", 0, 1, 0)
    version = data[0] >> 4
    if version == 6:
        return _skim6(data)
    if version == 4:
        return _skim4(data)
    raise DecodeError("IP", f"version {version} is neither 4 nor 6", 0)
