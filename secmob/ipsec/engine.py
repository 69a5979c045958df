"""The IPsec engine: SPD, SAD, ESP and AH on whole IPv6/IPv4 packets (RFC 4301 §5).

:meth:`Engine.outbound` takes a packet leaving this node and returns what
the SPD decides: the protected packet (transport or tunnel mode, ESP and/or
AH), the packet unchanged (BYPASS), a discard, or a request for keys when a
PROTECT entry has no SA yet (what RFC 4301 §5.1 hands to IKE).
:meth:`Engine.inbound` takes an arriving packet, removes its AH/ESP headers
with the checks of RFC 4301 §5.2 (SA lookup, anti-replay, ICV, decryption,
padding) and then checks the result against the SPD: the decapsulated
packet must match the policy of the SA it came through, and a packet that
arrives unprotected must match a BYPASS entry.

Everything is sans-IO: ``now`` is an argument, randomness comes from the
``rng`` given to the engine (needed only for CBC IVs), and packets are
bytes. Failures raise the :mod:`secmob.errors` exception of the check that
failed, and nothing is released for a packet that fails; the anti-replay
window moves only for a packet that authenticated (RFC 4303 §3.4.3), even
if its padding check then fails.

Transport mode places ESP/AH as :mod:`secmob.wire.skim` describes (after
Hop-by-Hop, Routing, Fragment and Home Address Destination Options headers,
RFC 4303 §3.1.1, RFC 6275 §6.3); tunnel mode adds an outer IPv6 or IPv4
header from the SA's tunnel endpoints (RFC 4301 §5.1.2), of either family
around either family (:mod:`secmob.ipsec.tunnel`).
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from collections.abc import Callable
from typing import NamedTuple

from secmob.errors import DecodeError, PolicyViolation, UsageError
from secmob.ipsec import ah, esp
from secmob.ipsec.common import Direction, Mode
from secmob.ipsec.sad import SAD, LifetimeEvent, Protocol, SecurityAssociation
from secmob.ipsec.selectors import OPAQUE, Special, Traffic
from secmob.ipsec.spd import SPD, Action, Entry
from secmob.ipsec.tunnel import IPV4_IN_IP, IPV6_IN_IP, decapsulated, inner_packet, outer_header
from secmob.trace import Tracer
from secmob.wire.ah_mutable import ah_icv_input
from secmob.wire.checksum import internet_checksum
from secmob.wire.skim import EXTENSION_HEADERS, Skim, skim

__all__ = ["Engine", "InboundResult", "OutboundResult", "Verdict"]

RNG = Callable[[int], bytes]
_H = struct.Struct("!H")
_SPI_SEQ = struct.Struct("!II")
_FLOW_CACHE_LIMIT = 1 << 16
_NEW = tuple.__new__  # a NamedTuple result without its Python-level __new__
_UNKNOWN = object()  # not in a cache
_OCTETS = tuple(bytes((i,)) for i in range(256))

#: Where the SPD selectors of an upper-layer header end, counted from the end
#: of a bare IPv6 header (RFC 4301 §4.4.1.1): ports (TCP, UDP, SCTP, DCCP,
#: UDP-Lite), ICMP type and code, the Mobility Header type (its third octet).
#: The flow key of an IPv6 packet without extension headers is its Next
#: Header and its octets from the source address to that end: two packets
#: with the same key have the same SPD selector values and the same
#: transport-mode ESP/AH placement (right after the IPv6 header).
_SELECTOR_END = {6: 4, 17: 4, 132: 4, 33: 4, 136: 4, 1: 2, 58: 2, 135: 3}


class Verdict(enum.Enum):
    """What :meth:`Engine.outbound` decided."""

    PROTECTED = "protected"  #: ``packet`` is the protected packet
    BYPASSED = "bypassed"  #: ``packet`` is the original packet, sent in the clear
    DISCARDED = "discarded"  #: a DISCARD entry matched (or none did); nothing is sent
    ACQUIRE = "acquire"  #: a PROTECT entry has no SA yet: negotiate keys (RFC 4301 §5.1)


class OutboundResult(NamedTuple):
    """What :meth:`Engine.outbound` decided, the packet to send (if any), the
    SPD entry that matched, the SAs applied and the lifetime events they raised."""

    verdict: Verdict
    packet: bytes | None
    entry: Entry | None
    sas: tuple[SecurityAssociation, ...] = ()
    events: tuple[LifetimeEvent, ...] = ()


class InboundResult(NamedTuple):
    """An accepted inbound packet.

    ``packet`` is the packet as delivered after IPsec processing (transport
    mode: without its AH/ESP headers; tunnel mode: the inner packet), or
    ``None`` for an ESP dummy packet (RFC 4303 §2.6), which is dropped after
    it authenticated. ``sas`` are the SAs it came through, outermost first;
    empty for a packet that BYPASS let through.
    """

    packet: bytes | None
    entry: Entry | None
    sas: tuple[SecurityAssociation, ...] = ()
    events: tuple[LifetimeEvent, ...] = ()


def _ip(raw: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv6Address(raw) if len(raw) == 16 else ipaddress.IPv4Address(raw)


def _sel(v: int) -> int | Special:
    return OPAQUE if v < 0 else v


def traffic_of(s: Skim, direction: Direction) -> Traffic:
    """The SPD selector values of a skimmed packet (RFC 4301 §4.4.1.1).

    A Home Address option stands for the source and a type 2 routing header
    for the destination (RFC 6275 §11.3.2, §9.3.2: "The IPsec Security Policy
    Database lookup MUST [be] based on the mobile node's home address").
    """
    src = s.home_address if s.home_address is not None else s.src
    dst = s.final_dst if s.final_dst is not None else s.dst
    # AH and ESP are Next Layer Protocols for the SPD (RFC 4301 §4.4.1.1): an
    # already protected packet selects by 50 / 51, and has no port selectors.
    return Traffic.from_packet(
        direction, _ip(src), _ip(dst), s.protocol, sport=_sel(s.sport), dport=_sel(s.dport),
        icmp_type=_sel(s.icmp_type), icmp_code=_sel(s.icmp_code), mh_type=_sel(s.mh_type))


def _set_length(buf: bytearray, version: int, total: int | None = None) -> None:
    """Fix IPv6 Payload Length, or IPv4 Total Length and header checksum, in the
    header at the start of ``buf`` for a packet of ``total`` octets (default:
    ``len(buf)``)."""
    if total is None:
        total = len(buf)
    if version == 6:
        _H.pack_into(buf, 4, total - 40)
    else:
        _H.pack_into(buf, 2, total)
        ihl = (buf[0] & 0x0F) * 4
        buf[10:12] = b"\x00\x00"
        _H.pack_into(buf, 10, internet_checksum(bytes(buf[:ihl])))


class Engine:
    """SPD + SAD + ESP/AH processing for one node (RFC 4301 §5).

    ``rng(n)`` returns ``n`` random octets; it is used only for CBC IVs (pass
    ``os.urandom`` in real use, a fixed generator in tests). Outbound SAs are
    found through :meth:`SAD.outbound` by the SPD entry that matched; inbound
    SAs carry their SPD entry as ``policy`` so that the decapsulated packet can
    be checked against it.
    """

    def __init__(self, spd: SPD, sad: SAD, *, rng: RNG | None = None,
                 tracer: Tracer | None = None) -> None:
        self._spd = spd
        self._sad = sad
        self.rng = rng
        self.tracer = tracer
        self._flows: dict[tuple[object, ...], tuple[Entry | None, Traffic]] = {}
        self._flows_generation = -1
        # Bare IPv6 flows (keys: see _SELECTOR_END): outbound, the SPD entry and
        # its single transport-mode SA (if that is its bundle); inbound, the
        # entry a decapsulated flow was accepted for, by SA policy. Valid for
        # one SPD generation and one SAD generation.
        self._bare_out: dict[tuple[int, bytes],
                             tuple[Entry | None, SecurityAssociation | None, int]] = {}
        self._bare_in: dict[tuple[object, int, bytes], Entry | None] = {}
        self._bare_spd = self._bare_sad = -1
        self._ident = 0  # IPv4 Identification of outer headers without DF
        # (flow key, an SA's policy entry) pairs already found to match
        self._matched: set[tuple[tuple[object, ...], Entry]] = set()

    @property
    def spd(self) -> SPD:
        """The SPD this engine applies (fixed for the engine's life: its caches
        follow the SPD's changes, so edit the SPD rather than replace it)."""
        return self._spd

    @property
    def sad(self) -> SAD:
        """The SAD this engine uses (fixed for the engine's life, like :attr:`spd`)."""
        return self._sad

    def _next_ident(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    # -- SPD with a flow cache -------------------------------------------------

    def _policy(self, s: Skim, direction: Direction,
                ) -> tuple[Entry | None, Traffic, tuple[object, ...]]:
        """The SPD entry, the selector values and the flow key of a packet;
        repeated flows hit a cache that any SPD change invalidates."""
        if self._flows_generation != self._spd.generation or len(self._flows) > _FLOW_CACHE_LIMIT:
            self._flows.clear()
            self._matched.clear()
            self._flows_generation = self._spd.generation
        key = (direction, s.src, s.dst, s.home_address, s.final_dst, s.protocol, s.sport,
               s.dport, s.icmp_type, s.icmp_code, s.mh_type)
        hit = self._flows.get(key)
        if hit is None:
            traffic = traffic_of(s, direction)
            hit = self._flows[key] = (self._spd.lookup(direction, traffic), traffic)
        return hit[0], hit[1], key

    def _bare_reset(self) -> None:
        """Empty the bare-flow caches (the SPD or the outbound SAD changed)."""
        self._bare_out.clear()
        self._bare_in.clear()
        self._bare_spd, self._bare_sad = self._spd.generation, self._sad.generation

    # -- outbound --------------------------------------------------------------

    def outbound(self, packet: bytes, *, now: float) -> OutboundResult:
        """Process a packet this node sends (RFC 4301 §5.1).

        An IPv6 packet without extension headers whose flow was seen before
        (same SPD and SAD generation) skips the header walk and the SPD
        search: its entry and bundle come from a cache, and a single
        transport-mode ESP or AH SA is applied by the SA's fast path
        (:func:`secmob.ipsec.esp.outbound_path`,
        :func:`secmob.ipsec.ah.outbound_path`: the same checks). Without a
        tracer only; every other packet takes the general path.
        """
        n = len(packet)
        if (self.tracer is None and n >= 40 and packet[0] >> 4 == 6
                and packet[4] << 8 | packet[5] == n - 40 and packet[6] not in EXTENSION_HEADERS):
            if self._bare_spd != self._spd.generation or self._bare_sad != self._sad.generation:
                self._bare_reset()
            nh = packet[6]
            key = (nh, packet[8 : 40 + _SELECTOR_END.get(nh, 0)])
            hit = self._bare_out.get(key)
            if hit is None:
                result = self._outbound(packet, now)
                if len(self._bare_out) >= _FLOW_CACHE_LIMIT:
                    self._bare_out.clear()
                sa = self._single_transport_sa(result.entry)
                self._bare_out[key] = (result.entry, sa, 0 if sa is None or sa.protocol is
                                       Protocol.ESP else ah.header_length(sa))
                return result
            entry, sa, ah_length = hit
            if sa is not None:
                out = self._bare_protect(sa, packet, now, ah_length)
                # Only an SA past a soft limit can have queued an event.
                events = sa.take_events() if sa.soft_expired else ()
                return _NEW(OutboundResult, (Verdict.PROTECTED, out, entry, (sa,), events))
        return self._outbound(packet, now)

    def _bare_protect(self, sa: SecurityAssociation, packet: bytes, now: float,
                      ah_length: int) -> bytes:
        """Transport-mode ESP or AH (of ``ah_length`` octets) right after the
        bare IPv6 header of ``packet`` (RFC 4303 §3.1.1, RFC 4302 §3.1.1),
        which then names it and counts it in its Payload Length; the same
        octets as the general path."""
        after = packet[40:]
        if sa.protocol is Protocol.ESP:
            body = (sa.fast_path or esp.outbound_path(sa))(packet[6], after, now, self.rng)
            return b"".join((packet[:4], _H.pack(len(body)), b"\x32", packet[7:40], body))
        length = _H.pack(len(after) + ah_length)
        # The ICV input (RFC 4302 §3.3.3.1.2): Traffic Class, Flow Label and
        # Hop Limit zero, as secmob.wire.ah_mutable normalises them.
        before = b"".join((b"\x60\x00\x00\x00", length, b"\x33\x00", packet[8:40]))
        header = (sa.fast_path or ah.outbound_path(sa))(packet[6], before, after, now, True)
        return b"".join((packet[:4], length, b"\x33", packet[7:40], header, after))

    def _single_transport_sa(self, entry: Entry | None) -> SecurityAssociation | None:
        """The SA of ``entry``'s bundle when it is one transport-mode SA."""
        if entry is None or entry.action is not Action.PROTECT:
            return None
        bundle = self.sad.outbound(entry)
        if bundle is None or len(bundle.sas) != 1:
            return None
        sa = bundle.sas[0]
        return sa if sa.mode is Mode.TRANSPORT else None

    def _outbound(self, packet: bytes, now: float) -> OutboundResult:
        """:meth:`outbound`, general path."""
        s = skim(packet)
        entry, _, _ = self._policy(s, Direction.OUTBOUND)
        if entry is None or entry.action is Action.DISCARD:
            return OutboundResult(Verdict.DISCARDED, None, entry)
        if entry.action is Action.BYPASS:
            return OutboundResult(Verdict.BYPASSED, packet, entry)
        bundle = self.sad.outbound(entry)
        if bundle is None:
            return OutboundResult(Verdict.ACQUIRE, None, entry)
        out = packet
        events: list[LifetimeEvent] = []
        sas = bundle.sas
        for n, sa in enumerate(sas):  # ESP first, then AH outside it (RFC 4301 §4.5)
            if n:
                s = skim(out)
            out = self._protect(sa, out, s, now)
            events.extend(sa.take_events())
        return OutboundResult(Verdict.PROTECTED, out, entry, sas, tuple(events))

    def _protect(self, sa: SecurityAssociation, packet: bytes, s: Skim, now: float) -> bytes:
        tunnel = sa.mode is Mode.TUNNEL
        if tunnel:
            inner_nh = IPV6_IN_IP if s.version == 6 else IPV4_IN_IP
            if sa.protocol is Protocol.ESP:
                body = esp.protect(sa, inner_nh, packet, now=now, rng=self.rng,
                                   tracer=self.tracer)
                return outer_header(sa, 50, len(body), packet, self._next_ident()) + body
            return self._ah_tunnel(sa, inner_nh, packet, now)
        if s.fragment:
            raise UsageError("transport-mode IPsec applies to whole packets, not fragments "
                             "(RFC 4301 §7)")
        head = bytearray(packet[: s.insert_at])
        next_header = head[s.nh_at]
        if sa.protocol is Protocol.ESP:
            body = esp.protect(sa, next_header, packet[s.insert_at :], now=now, rng=self.rng,
                               tracer=self.tracer)
            head[s.nh_at] = 50
            _set_length(head, s.version, len(head) + len(body))
            return b"".join((head, body))
        return self._ah_transport(sa, head, next_header, packet[s.insert_at :], s, now)

    def _ah_transport(self, sa: SecurityAssociation, head: bytearray, next_header: int,
                      rest: bytes, s: Skim, now: float) -> bytes:
        ipv6 = s.version == 6
        length = ah.header_length(sa, ipv6=ipv6)
        head[s.nh_at] = 51
        placeholder = head + bytes(length) + rest
        placeholder[len(head)] = next_header
        placeholder[len(head) + 1] = length // 4 - 2
        _set_length(placeholder, s.version)
        normalised = ah_icv_input(bytes(placeholder))
        cut = len(head)
        at = cut - (len(placeholder) - len(normalised))  # an atomic Fragment header is left out
        header = ah.protect(sa, next_header, normalised[:at], normalised[at + length :],
                            now=now, ipv6=ipv6)
        out = placeholder[:cut] + header + rest
        return bytes(out)

    def _ah_tunnel(self, sa: SecurityAssociation, inner_nh: int, inner: bytes,
                   now: float) -> bytes:
        ipv6 = sa.tunnel_source is not None and len(sa.tunnel_source) == 16
        length = ah.header_length(sa, ipv6=ipv6)
        outer = bytearray(outer_header(sa, 51, length + len(inner), inner,
                                        self._next_ident()))
        placeholder = outer + bytes(length) + inner
        placeholder[len(outer)] = inner_nh
        placeholder[len(outer) + 1] = length // 4 - 2
        normalised = ah_icv_input(bytes(placeholder))
        cut = len(outer)
        header = ah.protect(sa, inner_nh, normalised[:cut], normalised[cut + length :],
                            now=now, ipv6=ipv6)
        return bytes(outer) + header + inner

    # -- inbound ---------------------------------------------------------------

    def inbound(self, packet: bytes, *, now: float) -> InboundResult:
        """Process a packet addressed to this node (RFC 4301 §5.2).

        Raises, for the first check that fails: :class:`DecodeError` /
        :class:`Truncated` (malformed packet), :class:`UnknownSPI`,
        :class:`SAExpired`, :class:`ReplayError`, :class:`IntegrityError`,
        :class:`PaddingError`, or :class:`PolicyViolation` (the decapsulated
        packet does not match its SA's policy, or, for an SA whose ``policy``
        is not an SPD :class:`Entry`, matches no PROTECT entry of the SPD; or
        an unprotected packet does not match a BYPASS entry).

        ESP or AH right after a bare IPv6 header, on a transport-mode SA, is
        removed by the SA's fast path (:func:`secmob.ipsec.esp.inbound_path`,
        :func:`secmob.ipsec.ah.inbound_path`: the same checks in the same
        order) and the policy check is remembered per flow and SA policy.
        An engine with a tracer takes the general path for every packet.
        """
        n = len(packet)
        if (self.tracer is None and n >= 48 and packet[0] >> 4 == 6
                and packet[4] << 8 | packet[5] == n - 40):
            # ESP or AH right after a bare IPv6 header (the common case): the SA
            # is looked up as the general path would; a transport-mode SA then
            # continues on its fast path (same checks, same order).
            nh, src, dst = packet[6], packet[8:24], packet[24:40]
            if nh == 50:
                spi, seql = _SPI_SEQ.unpack_from(packet, 40)
                sa = self._sad.find(spi, 50, dst, src)
                if sa.mode is Mode.TRANSPORT:
                    result = (sa.fast_path or esp.inbound_path(sa))(packet[40:], seql, now)
                    if result.dummy:  # authenticated, then dropped (RFC 4303 §2.6)
                        return _NEW(InboundResult, (None, None, (sa,), result.events))
                    return self._bare_inner(packet, sa, result.next_header, result.payload,
                                            result.events, now)
            elif nh == 51 and n >= 52 and 40 + (packet[41] + 2) * 4 <= n:
                sa = self._sad.find(_SPI_SEQ.unpack_from(packet, 44)[0], 51, dst, src)
                if sa.mode is Mode.TRANSPORT:
                    # The ICV input of RFC 4302 §3.3.3.1.2: Traffic Class, Flow
                    # Label and Hop Limit zero (as secmob.wire.ah_mutable does).
                    before = b"".join((b"\x60\x00\x00\x00", packet[4:7], b"\x00", packet[8:40]))
                    res = (sa.fast_path or ah.inbound_path(sa))(before, packet[40:], now, True)
                    return self._bare_inner(packet, sa, res.next_header,
                                            packet[40 + res.header_length :], res.events, now)
        return self._decapsulate(packet, [], [], now)

    def _bare_inner(self, packet: bytes, sa: SecurityAssociation, next_header: int,
                    payload: bytes, events: tuple[LifetimeEvent, ...], now: float,
                    ) -> InboundResult:
        """The transport-mode packet ``packet`` (a bare IPv6 header, then ESP or
        AH) once ``sa`` removed its IPsec header: the IPv6 header now names
        ``next_header`` and counts ``payload``. The policy check of RFC 4301
        §5.2 step 4 is remembered per flow and SA policy when that packet is a
        bare IPv6 packet too; anything else continues on the general path."""
        inner = b"".join((packet[:4], _H.pack(len(payload)), _OCTETS[next_header],
                          packet[7:40], payload))
        if next_header in EXTENSION_HEADERS:  # more extension headers (or IPsec) inside
            return self._decapsulate(inner, [sa], list(events), now)
        if self._bare_spd != self._spd.generation or self._bare_sad != self._sad.generation:
            self._bare_reset()
        key = (sa.policy, next_header, inner[8 : 40 + _SELECTOR_END.get(next_header, 0)])
        entry = self._bare_in.get(key, _UNKNOWN)
        if entry is _UNKNOWN:
            entry = self._policy_check(skim(inner), [sa])
            if len(self._bare_in) >= _FLOW_CACHE_LIMIT:
                self._bare_in.clear()
            self._bare_in[key] = entry
        return _NEW(InboundResult, (inner, entry, (sa,), events))

    def _decapsulate(self, packet: bytes, sas: list[SecurityAssociation],
                     events: list[LifetimeEvent], now: float) -> InboundResult:
        """:meth:`inbound`, general path: remove AH/ESP headers until none is
        left, then check the packet against the SPD. ``sas`` and ``events``
        are what was already removed from ``packet``."""
        s = skim(packet)
        current: bytes | None = packet
        while s.ipsec_at >= 0:
            assert current is not None
            current, sa, raised = self._unprotect(current, s, now)
            sas.append(sa)
            events.extend(raised)
            if current is None:  # an ESP dummy packet: authenticated, then dropped
                return InboundResult(None, None, tuple(sas), tuple(events))
            s = skim(current)
        assert current is not None
        return InboundResult(current, self._policy_check(s, sas), tuple(sas), tuple(events))

    def _policy_check(self, s: Skim, sas: list[SecurityAssociation]) -> Entry | None:
        """The SPD entry that admits the decapsulated packet ``s`` that came
        through ``sas`` (RFC 4301 §5.2 step 4), or :class:`PolicyViolation`."""
        entry, traffic, key = self._policy(s, Direction.INBOUND)
        if sas:
            policy = sas[-1].policy
            if isinstance(policy, Entry):
                if (key, policy) not in self._matched:
                    if not policy.selector.matches(traffic, Direction.INBOUND):
                        raise PolicyViolation(
                            f"packet {traffic.remote} -> {traffic.local} arrived on SA "
                            f"0x{sas[-1].spi:08x} but does not match that SA's policy "
                            f"{policy.name or '(unnamed)'} (RFC 4301 §5.2 step 4)")
                    self._matched.add((key, policy))
                entry = policy
            elif entry is None or entry.action is not Action.PROTECT:
                # Without the SA's own selectors the SPD decides: fail closed.
                why = ("no SPD entry matches it" if entry is None else
                       f"SPD entry {entry.name or '(unnamed)'} says {entry.action.value}")
                raise PolicyViolation(
                    f"packet {traffic.remote} -> {traffic.local} arrived on SA "
                    f"0x{sas[-1].spi:08x}, which names no SPD entry, and {why} "
                    "(RFC 4301 §5.2 step 4)")
            return entry
        if entry is None or entry.action is not Action.BYPASS:
            why = ("no SPD entry matches it" if entry is None else
                   f"SPD entry {entry.name or '(unnamed)'} says {entry.action.value}")
            raise PolicyViolation(f"unprotected inbound packet dropped: {why} (RFC 4301 §5.2)")
        return entry

    def _unprotect(self, packet: bytes, s: Skim, now: float,
                   ) -> tuple[bytes | None, SecurityAssociation, tuple[LifetimeEvent, ...]]:
        at = s.ipsec_at
        dst = s.final_dst if s.final_dst is not None else s.dst
        src = s.home_address if s.home_address is not None else s.src
        if packet[s.nh_at] == 50:
            result = esp.unprotect(self.sad, packet[at:], now=now, destination=dst, source=src)
            sa, events = result.sa, result.events
            if result.dummy:
                return None, sa, events
            next_header, payload = result.next_header, result.payload
            rest_at = len(packet)
        else:
            if at + 2 > len(packet):
                raise DecodeError("AH", "header runs past the end of the packet", at)
            ah_end = at + (packet[at + 1] + 2) * 4
            normalised = ah_icv_input(packet)
            # An atomic Fragment header before AH is left out of the ICV input
            # (RFC 4302 Appendix A.2): AH sits ``shift`` octets earlier there.
            shift = len(packet) - len(normalised)
            res = ah.unprotect(self.sad, normalised[: at - shift], packet[at:ah_end] +
                               normalised[ah_end - shift :], now=now, destination=dst,
                               source=src, ipv6=s.version == 6)
            sa, events = res.sa, res.events
            next_header, payload = res.next_header, b""
            rest_at = at + res.header_length
        if sa.mode is Mode.TUNNEL:
            inner = payload if rest_at == len(packet) else packet[rest_at:]
            if next_header not in (IPV4_IN_IP, IPV6_IN_IP):
                raise DecodeError("IPsec tunnel",
                                  f"Next Header {next_header} is not IPv4 (4) or IPv6 (41)", at)
            return decapsulated(inner_packet(inner, next_header), packet), sa, events
        out = bytearray(packet[:at])
        out[s.nh_at] = next_header
        out += payload if rest_at == len(packet) else packet[rest_at:]
        _set_length(out, s.version)
        return bytes(out), sa, events
