"""Packets exchanged by the Mobile IPv6 nodes (RFC 6275 §6.3, §6.4, §9.3,
§10.4; IPv6-in-IPv6 tunnels of RFC 2473 §3) and the records the nodes keep.

:func:`build` makes an IPv6 packet carrying a Mobility Header message or an
upper-layer payload, with a type 2 Routing header (to a mobile node's home
address through its care-of address) and/or a Home Address destination
option (from a mobile node's care-of address). The Mobility Header checksum
uses the home address as source and the home address of the routing header
as destination, as §6.1.1 asks.

:func:`parse` gives the :class:`Arrival` view of a received packet: the
addresses an upper layer sees (home address for the source, the routing
header's address for the destination), the upper-layer protocol and octets.
:func:`encapsulate` / :func:`decapsulate` are the IPv6-in-IPv6 tunnel of a
home agent and a mobile node.

The nodes record what they did as :class:`Event` values and keep the
upper-layer payloads they accepted as :class:`Delivery` values.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from dataclasses import dataclass
from typing import Protocol

from secmob.errors import DecodeError, UsageError
from secmob.wire import mobility as mh
from secmob.wire.ipv6 import (
    ESP,
    DestinationOptions,
    ExtensionHeader,
    IPv6Header,
    IPv6Packet,
    RoutingType2,
)
from secmob.wire.l4 import Segment
from secmob.wire.options import HomeAddressOption, layout_options

__all__ = [
    "IPV6_IN_IPV6",
    "Arrival",
    "Delivery",
    "Event",
    "InboundDecision",
    "OutboundDecision",
    "ProtectingSA",
    "Protection",
    "build",
    "decapsulate",
    "describe",
    "encapsulate",
    "forwarded",
    "mobility_packet",
    "parse",
    "protect",
    "show",
    "tunnel",
]

IPV6_IN_IPV6 = 41
"""Next Header value of an encapsulated IPv6 packet (RFC 2473 §3)."""
ROUTE_DIRECT, ROUTE_TUNNEL, ROUTE_OPTIMISED = "direct", "tunnel", "route-optimised"


def show(address: bytes) -> str:
    """An address in its text form, for messages and reprs."""
    return str(ipaddress.ip_address(address))


@dataclass(frozen=True)
class Event:
    """Something a node did or refused: ``kind`` is a short word
    (``"sent"``, ``"accepted"``, ``"refused"``, ``"discarded"``, ...),
    ``status`` the Binding Acknowledgement / Binding Error status involved."""

    time: float
    kind: str
    detail: str
    status: int | None = None


@dataclass(frozen=True)
class Delivery:
    """An upper-layer payload a node accepted: the addresses the upper layer
    sees (home addresses, RFC 6275 §9.3.1, §11.3.3) and how it came
    (``"direct"``, ``"tunnel"`` or ``"route-optimised"``)."""

    time: float
    source: bytes
    destination: bytes
    protocol: int
    payload: bytes
    route: str

    def __repr__(self) -> str:
        return (f"Delivery({show(self.source)} -> {show(self.destination)}, "
                f"protocol {self.protocol}, {len(self.payload)} octets, {self.route})")


def build(src: bytes, dst: bytes, payload: Segment | bytes, *, protocol: int | None = None,
          home_address: bytes | None = None, routing_to: bytes | None = None,
          hop_limit: int = 64) -> bytes:
    """An IPv6 packet ``src -> dst`` with, when given, a type 2 Routing header
    naming ``routing_to`` (RFC 6275 §6.4, Segments Left 1) and a Destination
    Options header with a Home Address option (§6.3), in that order
    (§6.3: the option follows the routing header). The upper-layer checksum
    of a segment is computed over the home addresses (RFC 8200 §8.1)."""
    chain: list[ExtensionHeader] = []
    if routing_to is not None:
        chain.append(RoutingType2(0, 1, routing_to))
    if home_address is not None:
        chain.append(DestinationOptions(0, layout_options((HomeAddressOption(home_address),))))
    return IPv6Packet.build(src, dst, chain, payload, protocol=protocol,
                            hop_limit=hop_limit).to_bytes()


def mobility_packet(src: bytes, dst: bytes, message: mh.MobilityMessage | bytes, *,
                    home_address: bytes | None = None, routing_to: bytes | None = None,
                    hop_limit: int = 64) -> bytes:
    """:func:`build` for a Mobility Header message. A message object gets its
    checksum here (source: the home address when there is a Home Address
    option; destination: the routing header's address when there is one,
    §6.1.1); bytes are used as given (e.g. signed by :mod:`secmob.mip6.rr`)."""
    if isinstance(message, mh.MobilityMessage):
        message = message.to_bytes(home_address or src, routing_to or dst)
    return build(src, dst, message, protocol=mh.MH_PROTOCOL, home_address=home_address,
                 routing_to=routing_to, hop_limit=hop_limit)


def encapsulate(outer_src: bytes, outer_dst: bytes, inner: bytes, *,
                hop_limit: int = 64) -> bytes:
    """``inner`` inside an IPv6 header ``outer_src -> outer_dst`` with Next
    Header 41 (RFC 2473 §3)."""
    if len(inner) > 0xFFFF:
        raise UsageError("the inner packet does not fit an IPv6 Payload Length")
    header = IPv6Header(0, 0, len(inner), IPV6_IN_IPV6, hop_limit, outer_src, outer_dst)
    return IPv6Packet(header, (), inner).to_bytes()


def decapsulate(packet: bytes) -> tuple[bytes, bytes]:
    """The outer source and the inner packet of an IPv6-in-IPv6 packet
    (RFC 2473 §3.2). Raises :class:`DecodeError` when ``packet`` is not one."""
    outer = IPv6Packet.parse(packet, decode_upper=False)
    if outer.chain or outer.header.next_header != IPV6_IN_IPV6:
        raise DecodeError("IPv6 tunnel", "not an IPv6-in-IPv6 packet (Next Header 41)", 6)
    assert isinstance(outer.payload, bytes)
    return outer.header.src, outer.payload


def forwarded(packet: bytes) -> bytes:
    """``packet`` with its Hop Limit decremented, as a router forwards it
    (RFC 8200 §3); raises :class:`DecodeError` when it reaches zero."""
    if len(packet) < 40 or packet[7] <= 1:
        raise DecodeError("IPv6", "Hop Limit exhausted; the packet is not forwarded", 7)
    return packet[:7] + bytes((packet[7] - 1,)) + packet[8:]


@dataclass(frozen=True)
class Arrival:
    """A received IPv6 packet as a Mobile IPv6 node sees it.

    ``home_address`` is the Home Address option's address, ``routed_to`` the
    type 2 Routing header's address (when it has a segment left), ``protocol``
    the last Next Header (50 when ESP hides the rest) and ``payload`` the
    upper-layer octets."""

    packet: IPv6Packet
    src: bytes
    dst: bytes
    home_address: bytes | None
    routed_to: bytes | None
    protocol: int
    payload: bytes

    @property
    def source(self) -> bytes:
        """The source an upper layer sees: the home address if there is one."""
        return self.home_address if self.home_address is not None else self.src

    @property
    def destination(self) -> bytes:
        """The final destination: the routing header's address if there is one."""
        return self.routed_to if self.routed_to is not None else self.dst

    def mobility(self) -> mh.MobilityMessage:
        """The Mobility Header message, its checksum verified (§9.2).

        Raises :class:`DecodeError` when the packet carries no Mobility Header,
        the message is malformed or the checksum is wrong."""
        if self.protocol != mh.MH_PROTOCOL:
            raise DecodeError("Mobility Header", f"Next Header is {self.protocol}, not 135", 6)
        mh.verify_checksum(self.source, self.destination, self.payload)
        return mh.decode(self.payload)

    def without_mobility_headers(self) -> Arrival:
        """The same packet with the Home Address option and the routing
        header applied: source the home address, destination the final one."""
        return dataclasses.replace(self, src=self.source, dst=self.destination,
                                   home_address=None, routed_to=None)


def parse(packet: bytes) -> Arrival:
    """The :class:`Arrival` view of ``packet``.

    Raises :class:`DecodeError` / :class:`~secmob.errors.Truncated` for a
    malformed packet, and :class:`DecodeError` for a type 2 Routing header with
    a Segments Left other than 0 or 1 (RFC 6275 §6.4)."""
    p = IPv6Packet.parse(packet, decode_upper=False)
    home = routed = None
    protocol = p.header.next_header
    for h in p.chain:
        if isinstance(h, DestinationOptions) and (a := h.home_address()) is not None:
            home = a
        elif isinstance(h, RoutingType2):
            if h.segments_left > 1:
                raise DecodeError("Routing", f"type 2 Segments Left {h.segments_left}, "
                                  "expected 0 or 1 (RFC 6275 §6.4)", 43)
            if h.segments_left == 1:
                routed = h.address
        if isinstance(h, ESP):
            protocol = 50
            break
        protocol = h.next_header
    payload = p.payload if isinstance(p.payload, bytes) else p.payload.to_bytes()
    return Arrival(p, p.header.src, p.header.dst, home, routed, protocol, payload)


# --------------------------------------------------------------------------
# The IPsec engine, as the nodes see it (they take one; mip6 does not
# import secmob.ipsec). secmob.ipsec.engine.Engine satisfies these.
# --------------------------------------------------------------------------


class ProtectingSA(Protocol):
    """What a node reads of a security association."""

    @property
    def spi(self) -> int: ...

    @property
    def mode(self) -> enum.Enum: ...


class OutboundDecision(Protocol):
    """What a node reads of :meth:`Engine.outbound`'s result."""

    @property
    def verdict(self) -> enum.Enum: ...

    @property
    def packet(self) -> bytes | None: ...

    @property
    def sas(self) -> tuple[ProtectingSA, ...]: ...


class InboundDecision(Protocol):
    """What a node reads of :meth:`Engine.inbound`'s result."""

    @property
    def packet(self) -> bytes | None: ...

    @property
    def sas(self) -> tuple[ProtectingSA, ...]: ...


class Protection(Protocol):
    """An IPsec engine: :class:`secmob.ipsec.engine.Engine` (RFC 4301 §5)."""

    def outbound(self, packet: bytes, *, now: float) -> OutboundDecision: ...

    def inbound(self, packet: bytes, *, now: float) -> InboundDecision: ...


def protect(engine: Protection, packet: bytes, now: float) -> tuple[bytes | None, str]:
    """``packet`` as the SPD lets it leave (ESP-protected or bypassing), or
    ``None`` with the reason (discarded, or no SA yet)."""
    res = engine.outbound(packet, now=now)
    if res.verdict.value in ("protected", "bypassed"):
        return res.packet, str(res.verdict.value)
    return None, str(res.verdict.value)


def tunnel(engine: Protection, inner: bytes, outer_src: bytes, outer_dst: bytes,
           now: float) -> tuple[bytes | None, str]:
    """``inner`` tunnelled ``outer_src -> outer_dst`` (RFC 6275 §10.4.1,
    §11.3.1): by the engine when an ESP tunnel-mode policy covers it
    (RFC 4877 §6.2), else as IPv6-in-IPv6 whose outer packet the SPD then
    checks. Returns ``None`` and the reason when the SPD stops it."""
    res = engine.outbound(inner, now=now)
    verdict = str(res.verdict.value)
    if verdict == "protected":
        if res.sas and str(res.sas[0].mode.value) == "tunnel":
            return res.packet, "esp-tunnel"
        return None, "transport-mode policy on a tunnelled packet"
    if verdict != "bypassed":
        return None, verdict
    out, how = protect(engine, encapsulate(outer_src, outer_dst, inner), now)
    return out, "IPv6-in-IPv6" if out is not None else how


_MH_RFC = {0: "RFC 6275 §6.1.2, §9.5.5", 1: "RFC 6275 §6.1.3, §11.6.1",
           2: "RFC 6275 §6.1.4, §11.6.1", 3: "RFC 6275 §6.1.5, §9.4.3",
           4: "RFC 6275 §6.1.6, §9.4.4", 5: "RFC 6275 §6.1.7, §11.7",
           6: "RFC 6275 §6.1.8, §9.5.4", 7: "RFC 6275 §6.1.9, §9.3.3"}


def describe(packet: bytes) -> tuple[str, str]:
    """A one-line summary of a packet and the RFC sections it follows
    (for traces and logs; malformed packets are summarised, not raised)."""
    try:
        a = parse(packet)
    except DecodeError as exc:
        return f"malformed packet ({exc})", "RFC 8200"
    route = ""
    if a.home_address is not None:
        route += f" [Home Address option {show(a.home_address)}]"
    if a.routed_to is not None:
        route += f" [type 2 Routing header {show(a.routed_to)}]"
    head = f"{show(a.src)} -> {show(a.dst)}{route}"
    if a.protocol == IPV6_IN_IPV6 and not a.packet.chain:
        inner, rfc = describe(a.payload)
        return f"tunnel {head} carrying: {inner}", "RFC 2473 §3, " + rfc
    if a.protocol == 50:
        esp = a.packet.chain[-1]
        assert isinstance(esp, ESP)
        return (f"{head}: ESP SPI 0x{esp.spi:08x} sequence {esp.sequence} (home signalling)",
                "RFC 4303 §2, RFC 4877 §6")
    if a.protocol == mh.MH_PROTOCOL:
        try:
            msg = mh.decode(a.payload)
        except DecodeError as exc:
            return f"{head}: malformed Mobility Header ({exc})", "RFC 6275 §6.1"
        extra = ""
        if isinstance(msg, mh.BindingUpdate):
            flags = "".join(f for f, on in (("A", msg.ack), ("H", msg.home_registration),
                                            ("R", msg.mobile_router)) if on)
            extra = f" #{msg.sequence} flags {flags or '-'} lifetime {msg.lifetime}"
        elif isinstance(msg, mh.BindingAcknowledgement):
            extra = f" #{msg.sequence} status {msg.status} lifetime {msg.lifetime}"
        elif isinstance(msg, mh.BindingError):
            extra = f" status {msg.status}"
        name = msg.NAME if not isinstance(msg, mh.UnknownMessage) else f"MH type {msg.type}"
        return f"{head}: {name}{extra}", _MH_RFC.get(msg.mh_type, "RFC 6275 §6.1")
    if a.protocol == 58 and a.payload[:1] == b"\x86":
        return f"{head}: Router Advertisement", "RFC 4861 §4.2, RFC 6275 §11.5.1"
    return f"{head}: protocol {a.protocol}, {len(a.payload)} octets", "RFC 8200"
