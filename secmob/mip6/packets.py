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
import struct
from dataclasses import dataclass
from typing import Any, Protocol

from secmob.errors import DecodeError, SecmobError, UsageError
from secmob.wire import mobility as mh
from secmob.wire.ipv6 import (
    AH_NH,
    DSTOPTS,
    ESP,
    ESP_NH,
    FRAGMENT,
    HOPOPT,
    NO_NEXT_HEADER,
    ROUTING,
    DestinationOptions,
    ExtensionHeader,
    IPv6Header,
    IPv6Packet,
    RoutingType2,
)
from secmob.wire.l4 import Segment
from secmob.wire.options import HomeAddressOption, encode_options, layout_options

__all__ = [
    "IPV6_IN_IPV6",
    "Arrival",
    "Delivery",
    "Event",
    "InboundDecision",
    "OutboundDecision",
    "ProtectingSA",
    "Protection",
    "admit",
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


class Event:
    """Something a node did or refused: ``kind`` is a short word
    (``"sent"``, ``"accepted"``, ``"refused"``, ``"discarded"``, ...),
    ``status`` the Binding Acknowledgement / Binding Error status involved.

    Immutable; equal when time, kind, detail and status are.
    :meth:`deferred` makes one whose ``detail`` is formatted when first read,
    so that a node's busy paths do not turn addresses into text nobody reads.
    """

    __slots__ = ("_fields",)

    # One list, [time, kind, detail or its template, status, template parts]:
    # making an event sets a single slot, and reading ``detail`` formats the
    # template in place.
    _fields: list[Any]

    def __init__(self, time: float, kind: str, detail: str, status: int | None = None) -> None:
        object.__setattr__(self, "_fields", [time, kind, detail, status, ()])

    @classmethod
    def deferred(cls, time: float, kind: str, template: str, *parts: object,
                 status: int | None = None) -> Event:
        """An event whose detail is ``template.format(*parts)``, computed on
        first read; ``bytes`` parts are addresses, shown in text form
        (:func:`show`)."""
        e = object.__new__(cls)
        object.__setattr__(e, "_fields", [time, kind, template, status, parts])
        return e

    @property
    def time(self) -> float:
        """When (the ``now`` the node was given)."""
        t: float = self._fields[0]
        return t

    @property
    def kind(self) -> str:
        """What kind of thing happened: ``"sent"``, ``"accepted"``, ..."""
        k: str = self._fields[1]
        return k

    @property
    def status(self) -> int | None:
        """The Binding Acknowledgement / Binding Error status involved, if any."""
        s: int | None = self._fields[3]
        return s

    @property
    def detail(self) -> str:
        """What happened, in words."""
        f = self._fields
        if f[4]:
            f[2] = f[2].format(*(show(p) if isinstance(p, bytes) else p for p in f[4]))
            f[4] = ()
        text: str = f[2]
        return text

    def _key(self) -> tuple[float, str, str, int | None]:
        return (self.time, self.kind, self.detail, self.status)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Event)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Event(time={self.time!r}, kind={self.kind!r}, detail={self.detail!r}, "
                f"status={self.status!r})")

    def __reduce__(self) -> tuple[type[Event], tuple[float, str, str, int | None]]:
        return (Event, self._key())

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


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
    if type(payload) is bytes and (quick := _assemble(src, dst, payload, protocol, home_address,
                                                      routing_to, hop_limit)) is not None:
        return quick
    chain: list[ExtensionHeader] = []
    if routing_to is not None:
        chain.append(RoutingType2(0, 1, routing_to))
    if home_address is not None:
        chain.append(DestinationOptions(0, layout_options((HomeAddressOption(home_address),))))
    return IPv6Packet.build(src, dst, chain, payload, protocol=protocol,
                            hop_limit=hop_limit).to_bytes()


# The Destination Options header of :func:`build` after its first two octets:
# the padding before the Home Address option and the option's type and length,
# as layout_options places them (8n+6 alignment, RFC 6275 §6.3).
_HAO_AREA = encode_options(layout_options((HomeAddressOption(bytes(16)),)))[:-16]
_HAO_HEADER_LEN = (2 + len(_HAO_AREA) + 16) // 8 - 1
_FIXED_HEADER = struct.Struct("!IHBB")


def _assemble(src: bytes, dst: bytes, payload: bytes, protocol: int | None,
              home_address: bytes | None, routing_to: bytes | None,
              hop_limit: int) -> bytes | None:
    """:func:`build` for a payload of bytes, written out directly; ``None``
    when an argument is out of range (the general path then raises)."""
    last = NO_NEXT_HEADER if protocol is None else protocol
    if (len(src) != 16 or len(dst) != 16 or not 0 <= last <= 255 or not 0 <= hop_limit <= 255
            or (home_address is not None and len(home_address) != 16)
            or (routing_to is not None and len(routing_to) != 16)):
        return None
    body = payload
    if home_address is not None:
        body = bytes((last, _HAO_HEADER_LEN)) + _HAO_AREA + home_address + body
        last = DSTOPTS
    if routing_to is not None:  # RFC 6275 §6.4: Hdr Ext Len 2, type 2, Segments Left 1
        body = bytes((last, 2, 2, 1, 0, 0, 0, 0)) + routing_to + body
        last = ROUTING
    if len(body) > 0xFFFF:
        return None
    return _FIXED_HEADER.pack(0x60000000, len(body), last, hop_limit) + src + dst + body


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

    ``data`` is the packet as received; ``home_address`` is the Home Address
    option's address, ``routed_to`` the type 2 Routing header's address (when
    it has a segment left), ``protocol`` the last Next Header (50 when ESP
    hides the rest) and ``payload`` the upper-layer octets. :attr:`packet`
    is the decoded packet."""

    data: bytes
    src: bytes
    dst: bytes
    home_address: bytes | None
    routed_to: bytes | None
    protocol: int
    payload: bytes

    @property
    def packet(self) -> IPv6Packet:
        """The IPv6 header and extension headers of :attr:`data`, decoded
        (on first use)."""
        p: IPv6Packet | None = self.__dict__.get("_packet")
        if p is None:
            p = IPv6Packet.parse(self.data, decode_upper=False)
            object.__setattr__(self, "_packet", p)
        return p

    @property
    def source(self) -> bytes:
        """The source an upper layer sees: the home address if there is one."""
        return self.home_address if self.home_address is not None else self.src

    @property
    def destination(self) -> bytes:
        """The final destination: the routing header's address if there is one."""
        return self.routed_to if self.routed_to is not None else self.dst

    def mobility(self) -> mh.MobilityMessage:
        """The Mobility Header message, its checksum and Payload Proto
        verified (§9.2).

        Raises :class:`DecodeError` when the packet carries no Mobility Header,
        the message is malformed, the checksum is wrong or Payload Proto is
        not IPPROTO_NONE (59): §9.2 has the node discard such a message."""
        if self.protocol != mh.MH_PROTOCOL:
            raise DecodeError("Mobility Header", f"Next Header is {self.protocol}, not 135", 6)
        mh.verify_checksum(self.source, self.destination, self.payload)
        if self.payload[0] != mh.IPPROTO_NONE:
            raise DecodeError("Mobility Header", f"Payload Proto is {self.payload[0]}, not "
                                                 "IPPROTO_NONE (59) (RFC 6275 §9.2)", 0)
        return mh.decode(self.payload)

    def without_mobility_headers(self) -> Arrival:
        """The same packet with the Home Address option and the routing
        header applied: source the home address, destination the final one."""
        return Arrival(self.data, self.source, self.destination, None, None, self.protocol,
                       self.payload)


# The extension headers IPv6Packet decodes (RFC 8200 §4.1, RFC 4302, RFC 4303).
_EXTENSIONS = frozenset({HOPOPT, ROUTING, FRAGMENT, AH_NH, ESP_NH, DSTOPTS})


def _walk(packet: bytes) -> Arrival | None:
    """The :class:`Arrival` of a well-formed packet whose extension headers
    are only type 2 Routing headers (Segments Left 0 or 1) and Destination
    Options headers, found from offsets without building header objects;
    ``None`` for anything else (then :func:`parse` decodes it in full, and
    raises what the full decoder raises). Accepts exactly what the full
    decoder accepts for these headers and finds the same addresses."""
    n = len(packet)
    if n < 40 or packet[0] >> 4 != 6 or (packet[4] << 8 | packet[5]) != n - 40:
        return None
    nh, pos = packet[6], 40
    home = routed = None
    while nh in _EXTENSIONS:
        if nh == ROUTING:  # RFC 6275 §6.4: Hdr Ext Len 2, one address
            if pos + 24 > n or packet[pos + 1] != 2 or packet[pos + 2] != 2:
                return None
            left = packet[pos + 3]
            if left > 1:
                return None
            if left:
                routed = packet[pos + 8:pos + 24]
            nh, pos = packet[pos], pos + 24
        elif nh == DSTOPTS:  # RFC 8200 §4.2 TLVs; RFC 6275 §6.3 Home Address option
            if pos + 2 > n:
                return None
            end = pos + 8 + packet[pos + 1] * 8
            if end > n:
                return None
            i, found = pos + 2, None
            while i < end:
                kind = packet[i]
                if kind == 0:  # Pad1
                    i += 1
                    continue
                if i + 2 > end or i + 2 + packet[i + 1] > end:
                    return None
                if kind == 201:
                    if packet[i + 1] != 16:
                        return None
                    if found is None:
                        found = packet[i + 2:i + 18]
                i += 2 + packet[i + 1]
            if found is not None:
                home = found
            nh, pos = packet[pos], end
        else:
            return None
    return Arrival(packet, packet[8:24], packet[24:40], home, routed, nh, packet[pos:])


def parse(packet: bytes) -> Arrival:
    """The :class:`Arrival` view of ``packet``.

    Raises :class:`DecodeError` / :class:`~secmob.errors.Truncated` for a
    malformed packet, and :class:`DecodeError` for a type 2 Routing header with
    a Segments Left other than 0 or 1 (RFC 6275 §6.4)."""
    if type(packet) is bytes and (quick := _walk(packet)) is not None:
        return quick
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
    arrival = Arrival(bytes(packet), p.header.src, p.header.dst, home, routed, protocol,
                      payload)
    object.__setattr__(arrival, "_packet", p)
    return arrival


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


def admit(engine: Protection, packet: bytes, now: float) -> tuple[bytes | None, bool, str]:
    """``packet`` through inbound IPsec processing (RFC 4301 §5.2): the packet
    to deliver and whether IPsec protected it, or ``None`` and the reason the
    engine refused it (empty for an authenticated ESP dummy packet, which is
    dropped silently, RFC 4303 §2.6)."""
    try:
        res = engine.inbound(packet, now=now)
    except SecmobError as exc:
        return None, False, str(exc)
    return res.packet, bool(res.sas), ""


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
