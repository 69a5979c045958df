"""The octets the AH ICV is computed over: mutable fields normalised
(RFC 4302 §3.3.3.1).

:func:`ah_icv_input` takes a packet as it is on the wire (parsed or bytes)
and returns the same packet with

* IPv6 (RFC 4302 §3.3.3.1.2): Traffic Class, Flow Label and Hop Limit zeroed;
  in Hop-by-Hop and Destination Options headers before AH, the Option Data of
  every option whose type has the "may change en route" bit (``0x20``,
  RFC 8200 §4.2) set replaced by zeros (type and length kept); Routing headers
  type 0 and type 2 (RFC 6275 §6.4) rearranged as they will appear at the
  final destination (Destination Address = final destination, the visited
  addresses in the header, Segments Left 0); with a Home Address option,
  the IPv6 source and the option's address exchanged, so the source field
  holds the home address and the option the care-of address (RFC 6275
  §11.3.2 for the sender, §9.3.1 for the receiver: "the Home Address option
  contains the care-of address, and the source IPv6 address field of the
  IPv6 header contains the home address");
* IPv4 (RFC 4302 §3.3.3.1.1): TOS (DSCP and ECN), Flags, Fragment Offset,
  TTL and Header Checksum zeroed; every option not listed as immutable in
  RFC 4302 Appendix A.1 replaced, type and length included, by zero octets;
  with a Loose or Strict Source Route option not yet completed, the
  Destination Address replaced by the final destination;
* an atomic Fragment header (Offset 0, M 0) before AH removed, the previous
  Next Header taking its value and the Payload Length shrinking by 8 (RFC 4302
  Appendix A.2: AH MUST "remove" (or skip over) this header); a real fragment
  raises :class:`~secmob.errors.DecodeError` (it is reassembled first, §3.4.1);
* the AH ICV field zeroed; everything after AH kept as it is (RFC 4302
  §3.3.3.1: the upper-level data is assumed immutable).

Headers after AH are not touched. The ESN high-order bits (RFC 4302
§3.3.3.2.2) belong to the ICV computation, not to this layout step.
"""

from __future__ import annotations

import dataclasses

from secmob._buffer import Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire.ipsec_headers import AH
from secmob.wire.ipv4 import LSRR, SSRR, IPv4Header, IPv4Packet
from secmob.wire.ipv6 import (
    DestinationOptions,
    ExtensionHeader,
    Fragment,
    HopByHop,
    IPv6Packet,
    RawRouting,
    RoutingType0,
    RoutingType2,
    encode_chain,
)
from secmob.wire.options import OPTION_MUTABLE_BIT, HomeAddressOption, Option, RawOption

__all__ = ["IMMUTABLE_IPV4_OPTIONS", "ah_icv_input", "final_destination_view"]

IMMUTABLE_IPV4_OPTIONS = frozenset({0, 1, 130, 133, 134, 148, 149})
"""Option type octets RFC 4302 Appendix A.1 lists as immutable: End of Option
List, No Operation, Security, Extended Security, Commercial Security, Router
Alert, Sender Directed Multi-Destination Delivery."""


def ah_icv_input(
    packet: IPv6Packet | IPv4Packet | bytes, *, swap_home_address: bool = True,
) -> bytes:
    """The packet with its mutable fields normalised for the AH ICV (RFC 4302 §3.3.3.1).

    ``swap_home_address=False`` is for a packet whose source address and Home
    Address option were already exchanged (a receiver may do so before AH
    processing, RFC 6275 §11.3.2). Raises :class:`~secmob.errors.UsageError` when
    the packet has no AH header and :class:`~secmob.errors.DecodeError` when a
    routing header's final form cannot be predicted.
    """
    if isinstance(packet, bytes | bytearray | memoryview):
        data = bytes(packet)
        quick = _directly_after_ip_header(data)
        if quick is not None:
            return quick
        if data and data[0] >> 4 == 4:
            packet = IPv4Packet.parse(data, decode_upper=False)
        else:
            packet = IPv6Packet.parse(data, decode_upper=False)
    if isinstance(packet, IPv4Packet):
        return _ipv4(packet)
    return _ipv6(packet, swap_home_address)


def _directly_after_ip_header(data: bytes) -> bytes | None:
    """The ICV input of the common case, AH right after an IPv6 header or an
    option-less IPv4 header, computed on the bytes; ``None`` for anything else
    (the general path decodes the packet).

    Same rules as the general path: IPv6 Traffic Class, Flow Label and Hop
    Limit (RFC 4302 §3.3.3.1.2), IPv4 TOS, Flags, Fragment Offset, TTL and
    Header Checksum (§3.3.3.1.1.1) zeroed, and the ICV field of AH zeroed.
    What follows AH is covered as it is.
    """
    n = len(data)
    if n >= 52 and data[0] >> 4 == 6 and data[6] == 51 and (data[4] << 8 | data[5]) + 40 == n:
        end = 40 + (data[41] + 2) * 4
        if 52 <= end <= n:  # a shorter AH is malformed: the general path says so
            return b"".join((b"\x60\x00\x00\x00", data[4:7], b"\x00", data[8:52],
                             bytes(end - 52), data[end:]))
    elif n >= 32 and data[0] == 0x45 and data[9] == 51 and (data[2] << 8 | data[3]) == n:
        end = 20 + (data[21] + 2) * 4
        if 32 <= end <= n:
            return b"".join((data[:1], b"\x00", data[2:6], b"\x00\x00\x00", data[9:10],
                             b"\x00\x00", data[12:32], bytes(end - 32), data[end:]))
    return None


def _ah_index(chain: tuple[ExtensionHeader, ...] | tuple[AH | object, ...]) -> int:
    for i, h in enumerate(chain):
        if isinstance(h, AH):
            return i
    raise UsageError("the packet has no AH header")


def _zero_ah(h: AH) -> AH:
    return dataclasses.replace(h, icv=bytes(len(h.icv)))


def _zero_mutable(opt: Option) -> Option:
    if opt.option_type & OPTION_MUTABLE_BIT and isinstance(opt, RawOption):
        return RawOption(opt.option_type, bytes(len(opt.data)))
    return opt


def final_destination_view(
    h: RoutingType0 | RoutingType2, dst: bytes,
) -> tuple[RoutingType0 | RoutingType2, bytes]:
    """The routing header and Destination Address as the final destination sees
    them, after the remaining segments were processed (RFC 8200 §4.4 / RFC 2460
    §4.4 for type 0, RFC 6275 §6.4 for type 2)."""
    addresses = h.addresses if isinstance(h, RoutingType0) else (h.address,)
    n, left = len(addresses), h.segments_left
    if left == 0:
        return h, dst
    if left > n:
        raise DecodeError(
            "Routing", f"Segments Left {left} exceeds the {n} address(es) of the header", 3
        )
    i = n - left
    visited = (*addresses[:i], dst, *addresses[i : n - 1])
    if isinstance(h, RoutingType2):
        return dataclasses.replace(h, segments_left=0, address=visited[0]), addresses[-1]
    return dataclasses.replace(h, segments_left=0, addresses=visited), addresses[-1]


def _ipv6(packet: IPv6Packet, swap_home_address: bool) -> bytes:
    ai = _ah_index(packet.chain)
    src, dst = packet.header.src, packet.header.dst
    first_next_header, removed = packet.header.next_header, 0
    chain: list[ExtensionHeader] = []
    for h in packet.chain[:ai]:
        if isinstance(h, Fragment):
            if h.is_fragment:
                raise DecodeError(
                    "Fragment", f"offset {h.offset}, M flag {int(h.more)}: AH applies to whole "
                    "packets; reassemble the fragments first (RFC 4302 §3.4.1)", None)
            # RFC 4302 Appendix A.2: an atomic Fragment header is removed and the
            # previous header names what followed it.
            removed += 8
            prev = chain[-1] if chain else None
            if isinstance(prev, HopByHop | DestinationOptions | RoutingType0 | RoutingType2
                          | RawRouting | Fragment):
                chain[-1] = dataclasses.replace(prev, next_header=h.next_header)
            else:
                first_next_header = h.next_header
            continue
        if isinstance(h, HopByHop | DestinationOptions):
            options: list[Option] = []
            for opt in h.options:
                if isinstance(opt, HomeAddressOption) and swap_home_address:
                    options.append(HomeAddressOption(src))
                    src = opt.home_address
                else:
                    options.append(_zero_mutable(opt))
            chain.append(dataclasses.replace(h, options=tuple(options)))
        elif isinstance(h, RoutingType0 | RoutingType2):
            rh, dst = final_destination_view(h, dst)
            chain.append(rh)
        elif isinstance(h, RawRouting) and h.segments_left:
            raise DecodeError(
                "Routing", f"cannot predict the final form of a type {h.routing_type} "
                f"Routing header with {h.segments_left} segment(s) left", None,
            )
        else:
            chain.append(h)
    chain.append(_zero_ah(packet.chain[ai]))  # type: ignore[arg-type]
    chain.extend(packet.chain[ai + 1 :])
    header = dataclasses.replace(
        packet.header, traffic_class=0, flow_label=0, hop_limit=0, src=src, dst=dst,
        next_header=first_next_header, payload_length=packet.header.payload_length - removed)
    return IPv6Packet(header, tuple(chain), packet.payload).to_bytes()


def _ipv4_final_destination(header: IPv4Header) -> bytes:
    for opt in header.options:
        if opt.type in (LSRR, SSRR) and opt.data:
            pointer, route = opt.data[0], opt.data[1:]
            if pointer <= 2 + len(opt.data) and len(route) >= 4:
                k = len(route) // 4
                return route[(k - 1) * 4 : k * 4]
    return header.dst


def _ipv4(packet: IPv4Packet) -> bytes:
    ai = _ah_index(packet.chain)
    h = packet.header
    w = Writer()
    for opt in h.options:
        if opt.type in IMMUTABLE_IPV4_OPTIONS:
            opt.encode(w)
        else:
            w.put(bytes(opt.length))
    opts = w.put(h.padding).getvalue()
    w = Writer()
    w.u8((h.version << 4) | (5 + len(opts) // 4)).u8(0).u16(h.total_length)
    w.u16(h.identification).u16(0).u8(0).u8(h.protocol).u16(0)
    w.put(h.src).put(_ipv4_final_destination(h)).put(opts)
    chain = list(packet.chain)
    chain[ai] = _zero_ah(chain[ai])  # type: ignore[arg-type]
    encode_chain(w, chain, packet.payload)
    return w.getvalue()
