"""A Mobile IPv6 home agent with NEMO mobile router support (RFC 6275 §10,
RFC 3963 §6; IPsec protection of RFC 3776 / RFC 4877).

:class:`HomeAgent` is sans-IO like the other nodes: :meth:`~HomeAgent.receive`
takes a packet the network delivered to it (addressed to it, or intercepted
for a home address or mobile network prefix it serves) and returns the packets
to send; :meth:`~HomeAgent.tick` expires bindings.

**IPsec.** Every packet for the home agent goes through the IPsec engine it
was given (:class:`secmob.ipsec.engine.Engine`, typed here as
:class:`~secmob.mip6.packets.Protection`); its SPD holds the entries of
:func:`secmob.ipsec.spd_mip6.home_signalling_entries` (ESP transport for
BU/BA between the home address and the home agent). A Binding Update that
did not come through an SA is silently discarded (RFC 6275 §5.1, §10.3.1; the engine
already refuses it when the SPD asks for protection). Binding
Acknowledgements leave through the engine as well, and so do tunnelled
packets: with the Home Test policies of
:func:`secmob.ipsec.mip6_manual.home_test_protection` the engine itself builds
the ESP tunnel for a Home Test and opens the one carrying a Home Test Init
(RFC 4877 §6.2); a plainly tunnelled Home Test Init is then refused.

**Home registration** (§10.3.1, RFC 3963 §6.1-§6.2). Checks, in order, and
the status each refusal carries:

====  ==============================================================
132   the home address is not in the home prefix
133   the home agent does not serve this home address (``mobile_nodes``)
129   the home address is administratively prohibited (``prohibited``)
140   R flag from a node not configured as a mobile router
139   no H flag while a home binding exists (a Binding Update without the
      H flag and no home binding is not for the home agent: discarded)
134   duplicate address detection for the home address fails
      (``duplicate(home_address)`` says another node owns it)
143   the ``forwarding`` hook fails for a mobile router (RFC 3963 §6.2)
128   the ``forwarding`` hook fails for a mobile node (reason unspecified)
135   sequence number not greater than the last accepted (the BA carries it)
133   a deregistration names no binding
141   a Mobile Network Prefix option with prefix length 0 or over 128
142   a prefix the mobile router is not authorized for, or bound to another
143   implicit mode with no prefix configured for the mobile router
130   the binding cache is full
====  ==============================================================

Accepted registrations get at most ``max_lifetime`` units; the
acknowledgement (A flag, or always on refusal) goes to the care-of address
with a type 2 Routing header, or to the home address for a node at home, and
carries the R flag for a mobile router.

**Forwarding** (§10.4.1, RFC 3963 §6.3-§6.4). A packet intercepted for a
home address with a binding, or for an address in a registered mobile
network prefix, is tunnelled to the care-of address (IPv6-in-IPv6, RFC 2473;
inner Hop Limit decremented). A tunnelled packet from a care-of address is
decapsulated and forwarded when its inner source is the bound home address
(or in that mobile router's prefixes) and the outer source the bound care-of
address (§10.4.5); otherwise it is discarded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

from secmob.errors import BindingError, DecodeError
from secmob.mip6.binding import BindingCache, refusal
from secmob.mip6.packets import (
    IPV6_IN_IPV6,
    ROUTE_DIRECT,
    Arrival,
    Delivery,
    Event,
    Protection,
    admit,
    decapsulate,
    forwarded,
    mobility_packet,
    parse,
    protect,
    show,
    tunnel,
)
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import AlternateCareOfAddress

__all__ = ["HomeAgent"]

Prefix = tuple[bytes, int]


class HomeAgent:
    """A home agent at ``address`` serving ``home_prefix`` (e.g. ``"2001:db8:1::/64"``).

    ``mobile_nodes`` limits the home addresses it serves (``None``: any in the
    home prefix); ``mobile_routers`` maps a mobile router's home address to
    the prefixes it may register (RFC 3963 §6.1); ``duplicate`` answers
    duplicate address detection for a home address (§10.3.1);
    ``forwarding(home, care_of)`` sets up forwarding and says whether it
    worked; ``max_lifetime`` caps granted lifetimes (4-second units);
    ``on_binding(home, care_of)`` is told of each binding made, moved or
    removed (``None``), e.g. to move IPsec tunnel endpoints
    (:class:`secmob.ipsec.mip6_manual.HomeTestTunnel`).
    """

    def __init__(self, address: bytes, home_prefix: str | ipaddress.IPv6Network,
                 engine: Protection, *, mobile_nodes: Iterable[bytes] | None = None,
                 prohibited: Iterable[bytes] = (),
                 mobile_routers: Mapping[bytes, Iterable[Prefix]] | None = None,
                 duplicate: Callable[[bytes], bool] | None = None,
                 forwarding: Callable[[bytes, bytes], bool] | None = None,
                 on_binding: Callable[[bytes, bytes | None], None] | None = None,
                 capacity: int = 1 << 20, max_lifetime: int = 0xFFFF) -> None:
        self.address = address
        self.home_prefix = ipaddress.IPv6Network(home_prefix)
        self.engine = engine
        self.mobile_nodes = None if mobile_nodes is None else frozenset(mobile_nodes)
        self.prohibited = frozenset(prohibited)
        routers = {h: list(p) for h, p in (mobile_routers or {}).items()}
        self.mobile_routers = frozenset(routers)
        self.duplicate = duplicate
        self.forwarding = forwarding
        self.on_binding = on_binding
        self.cache = BindingCache(capacity=capacity, home_agent=True,
                                  mobile_routers=bool(routers), authorized_prefixes=routers,
                                  max_home_lifetime=max_lifetime)
        self.events: list[Event] = []
        self.inbox: list[Delivery] = []

    def __repr__(self) -> str:
        return f"HomeAgent({show(self.address)}, {self.home_prefix}, {len(self.cache)} binding(s))"

    @property
    def addresses(self) -> frozenset[bytes]:
        return frozenset({self.address})

    def intercepts(self, destination: bytes, now: float) -> bool:
        """Whether the home agent takes packets for ``destination`` off the
        home link (proxy Neighbor Discovery for a bound home address, §10.4.1,
        or a route to a registered mobile network prefix, RFC 3963 §6.3)."""
        return self.cache.route(destination, now) is not None

    def _note(self, now: float, kind: str, detail: str, status: int | None = None) -> None:
        self.events.append(Event(now, kind, detail, status))

    def next_deadline(self, now: float) -> float | None:
        return self.cache.next_deadline()

    def tick(self, now: float) -> list[bytes]:
        """Remove expired bindings (§10.3.1: the tunnel goes with them)."""
        for e in self.cache.poll(now).expired:
            self._note(now, "expired", f"home binding for {show(e.home_address)}")
            if self.on_binding is not None:
                self.on_binding(e.home_address, None)
        return []

    # -- receiving ----------------------------------------------------------

    def receive(self, packet: bytes, now: float) -> list[bytes]:
        """Process a packet delivered to the home agent; return what to send."""
        a = parse(packet)
        if a.dst[0] == 0xFF:  # link multicast (Router Advertisements): not for Mobile IPv6
            return []
        if a.dst not in self.addresses:
            return self._intercepted(packet, a, now)
        delivered, protected, why = admit(self.engine, packet, now)
        if delivered is None:
            if why:
                self._note(now, "discarded", f"IPsec: {why}")
            return []
        inner = parse(delivered)
        if inner.dst not in self.addresses:  # out of an ESP tunnel (RFC 4877 §6.2)
            return self._forward(delivered, now)
        if inner.protocol == IPV6_IN_IPV6 and not inner.packet.chain:
            return self._reverse_tunnel(delivered, now)
        if inner.protocol == mh.MH_PROTOCOL:
            return self._mobility(inner, protected=protected, now=now)
        self.inbox.append(Delivery(now, inner.source, inner.destination, inner.protocol,
                                   inner.payload, ROUTE_DIRECT))
        return []

    def _forward(self, packet: bytes, now: float) -> list[bytes]:
        try:
            return [forwarded(packet)]
        except DecodeError as exc:
            self._note(now, "discarded", str(exc))
            return []

    def _intercepted(self, packet: bytes, a: Arrival, now: float) -> list[bytes]:
        """Tunnel a packet for a bound home address or prefix (§10.4.1)."""
        entry = self.cache.route(a.dst, now)
        if entry is None:
            self._note(now, "discarded", f"no binding for {show(a.dst)}")
            return []
        try:
            inner = forwarded(packet)
        except DecodeError as exc:
            self._note(now, "discarded", str(exc))
            return []
        out, how = tunnel(self.engine, inner, self.address, entry.care_of_address, now)
        if out is None:
            self._note(now, "discarded", f"tunnel to {show(entry.care_of_address)}: {how}")
            return []
        self._note(now, "tunnelled", f"{show(a.dst)} -> {show(entry.care_of_address)} ({how})")
        return [out]

    def _reverse_tunnel(self, packet: bytes, now: float) -> list[bytes]:
        """Decapsulate a reverse-tunnelled packet (§10.4.5, RFC 3963 §6.4)."""
        outer_src, inner = decapsulate(packet)
        try:
            i = parse(inner)
        except DecodeError as exc:
            self._note(now, "discarded", f"tunnelled packet: {exc}")
            return []
        entry = self.cache.route(i.src, now)
        if entry is None or entry.care_of_address != outer_src:
            self._note(now, "discarded", f"reverse tunnel from {show(outer_src)}: no binding "
                                         f"of {show(i.src)} to that care-of address")
            return []
        # the inner packet meets the SPD as well (e.g. HoTI protection)
        delivered, _, why = admit(self.engine, inner, now)
        if delivered is None:
            if why:
                self._note(now, "discarded", f"IPsec on the tunnelled packet: {why}")
            return []
        return self._forward(delivered, now)

    # -- home registration --------------------------------------------------

    def _mobility(self, a: Arrival, *, protected: bool, now: float) -> list[bytes]:
        try:
            msg = a.mobility()
        except DecodeError as exc:
            self._note(now, "discarded", f"Mobility Header: {exc}")
            return []
        if not isinstance(msg, mh.BindingUpdate):
            self._note(now, "discarded", f"{type(msg).NAME} is not for the home agent")
            return []
        if not protected:
            self._note(now, "discarded",
                       "Binding Update without IPsec protection (RFC 6275 §5.1, §10.3.1)")
            return []
        home = a.source
        alt = msg.option(AlternateCareOfAddress)
        care_of = alt.address if alt is not None else a.src
        try:
            ba = self._register(msg, home, care_of, now)
        except BindingError as exc:
            self._note(now, "refused", str(exc), exc.status)
            ba = refusal(msg, exc)
        if ba is None:
            return []
        to_home = a.src == home
        wire = mobility_packet(self.address, a.src, ba, routing_to=None if to_home else home)
        out, how = protect(self.engine, wire, now)
        if out is None:
            self._note(now, "discarded", f"Binding Acknowledgement: SPD says {how}")
            return []
        return [out]

    def _register(self, bu: mh.BindingUpdate, home: bytes, care_of: bytes,
                  now: float) -> mh.BindingAcknowledgement | None:
        """§10.3.1 checks in the order of the module docstring."""
        if ipaddress.IPv6Address(home) not in self.home_prefix:
            raise BindingError(f"{show(home)} is not in the home prefix {self.home_prefix}", 132)
        if self.mobile_nodes is not None and home not in self.mobile_nodes:
            raise BindingError(f"not the home agent of {show(home)}", 133)
        if home in self.prohibited:
            raise BindingError(f"registration of {show(home)} is prohibited", 129)
        if bu.mobile_router and home not in self.mobile_routers:
            raise BindingError(f"{show(home)} is not configured as a mobile router", 140)
        if not bu.home_registration:
            existing = self.cache.lookup(home, now)
            if existing is not None and existing.home_registration:
                raise BindingError("the H flag differs from the existing binding", 139)
            self._note(now, "discarded", "Binding Update without the H flag (no correspondent "
                                         "registration at this home agent)")
            return None
        # DAD and forwarding concern a node away from home: not a deletion
        # (Lifetime 0, §6.1.7) nor an update naming the home address itself.
        away = bu.lifetime != 0 and care_of != home
        if (away and self.duplicate is not None
                and self.cache.lookup(home, now) is None and self.duplicate(home)):
            raise BindingError(f"duplicate address detection failed for {show(home)}", 134)
        if away and self.forwarding is not None and not self.forwarding(home, care_of):
            raise BindingError("forwarding could not be set up",
                               143 if bu.mobile_router else 128)
        accepted = self.cache.update(bu, home_address=home, care_of_address=care_of, now=now)
        if self.on_binding is not None:
            self.on_binding(home, None if accepted.entry is None else care_of)
        if accepted.entry is None:
            self._note(now, "accepted", f"deregistration of {show(home)}", 0)
        else:
            nets = ", ".join(f"{show(p)}/{n}" for p, n in self.cache.prefixes(home))
            self._note(now, "accepted", f"home binding {show(home)} -> {show(care_of)}, "
                                        f"lifetime {accepted.lifetime}"
                                        + (f", prefixes {nets}" if nets else ""), 0)
        if not bu.ack:
            return None
        return accepted.acknowledgement(mobile_router=bu.mobile_router)
