"""A Mobile IPv6 mobile node, and a NEMO mobile router (RFC 6275 §11,
RFC 3963 §5).

:class:`MobileNode` is sans-IO: :meth:`~MobileNode.receive` takes a packet
and ``now`` and returns the packets to send, :meth:`~MobileNode.tick` sends
what the Binding Update List has due (first transmissions, retransmissions,
refreshes), and the explicit actions return packets too:
:meth:`~MobileNode.move` (a Router Advertisement or a prefix),
:meth:`~MobileNode.optimise` (route optimisation with a correspondent) and
:meth:`~MobileNode.send` (upper-layer data).

* **Movement** (§11.5): a Router Advertisement (validated as RFC 4861
  §6.1.2 asks) whose autoconfiguration prefix differs from the current one
  means a new link. Away from home the care-of address is the prefix plus
  the modified EUI-64 interface identifier of the node's MAC
  (RFC 4862 §5.5.3, :mod:`secmob.addr.eui64`); on the home prefix the node
  is back home.
* **Home registration** (§11.7.1): a Binding Update with the H and A flags
  from the care-of address with a Home Address option (from the home
  address, with lifetime 0, when back home), protected by ESP through the
  engine (RFC 4877); a mobile router sets the R flag and lists its prefixes
  in Mobile Network Prefix options (explicit mode) or none (implicit mode).
  Binding Acknowledgements are accepted only through IPsec and matched by the
  Binding Update List; status 135 resends at once with the sequence number
  the acknowledgement carries, other refusals stop and are recorded.
* **Return Routability** (§11.6, :mod:`secmob.mip6.mn_ro`): the Home Test
  Init goes through the reverse tunnel to the home agent (from the home
  address), the Care-of Test Init directly; with both tokens a Binding
  Update signed with Kbm goes to the correspondent with a Home Address
  option. Back home, only the Home
  Test Init is sent and the deregistration is signed with the home keygen
  token alone (§5.2.5). A Binding Refresh Request from a correspondent
  restarts the procedure (§11.7.4); an acknowledgement with status 136-138
  does too.
* **Data** (§11.3): to a correspondent with an accepted binding the packet
  leaves from the care-of address with a Home Address option; otherwise it
  is reverse-tunnelled through the home agent. Tunnelled packets are accepted
  from the home agent only; a type 2 Routing header must name the home
  address (§11.3.3). A mobile router forwards between its mobile network and
  the tunnel (RFC 3963 §5.5).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import replace

from secmob.addr.eui64 import slaac_address
from secmob.errors import DecodeError
from secmob.mip6.mn_ro import Peer, RouteOptimisation
from secmob.mip6.packets import (
    IPV6_IN_IPV6,
    ROUTE_DIRECT,
    ROUTE_OPTIMISED,
    ROUTE_TUNNEL,
    Arrival,
    Delivery,
    Event,
    Protection,
    admit,
    build,
    decapsulate,
    forwarded,
    mobility_packet,
    parse,
    protect,
    show,
    tunnel,
)
from secmob.mip6.update_list import BindingUpdateList, Transmission
from secmob.trace import Tracer
from secmob.wire import mobility as mh
from secmob.wire.l4 import Segment
from secmob.wire.mobility_options import MobileNetworkPrefix
from secmob.wire.nd import ND_ROUTER_ADVERT, RouterAdvertisement, parse_router_advertisement

__all__ = ["MobileNode"]

Rng = Callable[[int], bytes]
Prefix = tuple[bytes, int]


class MobileNode(RouteOptimisation):
    """A mobile node with ``home_address`` in ``home_prefix``, served by
    ``home_agent``, with interface identifier from ``mac``.

    ``engine`` protects the home signalling (an
    :class:`secmob.ipsec.engine.Engine`); ``rng`` draws init cookies.
    ``lifetime`` is asked of the home agent and ``correspondent_lifetime`` of
    correspondents (4-second units). ``mobile_network_prefixes`` makes it a
    mobile router (RFC 3963); with ``implicit`` they are not listed in the
    Binding Update. ``on_move(care_of_address)`` is called when the
    care-of address changes (the home address when back home), e.g. to move
    IPsec tunnel endpoints (:class:`secmob.ipsec.mip6_manual.HomeTestTunnel`).
    """

    def __init__(self, home_address: bytes, home_prefix: str | ipaddress.IPv6Network,
                 home_agent: bytes, mac: bytes | str, engine: Protection, rng: Rng, *,
                 lifetime: int = 1000, correspondent_lifetime: int = 105,
                 mobile_network_prefixes: Iterable[Prefix] | None = None,
                 implicit: bool = False, update_list: BindingUpdateList | None = None,
                 on_move: Callable[[bytes], None] | None = None,
                 tracer: Tracer | None = None) -> None:
        self.home_address = home_address
        self.home_prefix = ipaddress.IPv6Network(home_prefix)
        self.home_agent = home_agent
        self.mac = mac
        self.engine = engine
        self.rng = rng
        self.lifetime = lifetime
        self.correspondent_lifetime = correspondent_lifetime
        self.mobile_router = mobile_network_prefixes is not None
        self.prefixes = [(p, n) for p, n in (mobile_network_prefixes or ())]
        self._networks = [ipaddress.IPv6Network((p, n)) for p, n in self.prefixes]
        self.implicit = implicit
        self.bul = update_list if update_list is not None else BindingUpdateList()
        self.tracer = tracer
        self.on_move = on_move
        self.care_of_address = home_address
        self.link_prefix: ipaddress.IPv6Network = self.home_prefix
        self.home_status: int | None = None
        self.peers: dict[bytes, Peer] = {}
        self.events: list[Event] = []
        self.inbox: list[Delivery] = []

    def __repr__(self) -> str:
        where = "home" if self.at_home else f"away at {show(self.care_of_address)}"
        kind = "MobileRouter" if self.mobile_router else "MobileNode"
        return f"{kind}({show(self.home_address)}, {where})"

    @property
    def addresses(self) -> frozenset[bytes]:
        """The address the network delivers to on the current link."""
        return frozenset({self.care_of_address})

    def _in_network(self, address: bytes) -> bool:
        a = ipaddress.IPv6Address(address)
        return any(a in n for n in self._networks)

    # -- movement (§11.5) ---------------------------------------------------

    def move(self, advertisement: bytes | RouterAdvertisement | str, now: float) -> list[bytes]:
        """React to a Router Advertisement (packet or message) or a prefix
        (``"2001:db8:2::/64"``) of the link the node is now on."""
        if isinstance(advertisement, str):
            net = ipaddress.IPv6Network(advertisement)
        else:
            ra = (advertisement if isinstance(advertisement, RouterAdvertisement)
                  else parse_router_advertisement(advertisement))
            usable = [p for p in ra.prefixes() if p.autonomous and p.prefix_length == 64]
            if not usable:
                self._note(now, "ignored", "Router Advertisement without an autoconfiguration "
                                           "prefix")
                return []
            net = usable[0].network
        if net == self.link_prefix:
            return []
        self.link_prefix = net
        if net == self.home_prefix:
            return self._returned_home(now)
        self.care_of_address = slaac_address(net, self.mac).packed
        if self.on_move is not None:
            self.on_move(self.care_of_address)
        self._note(now, "moved", f"care-of address {show(self.care_of_address)} on {net}")
        self.bul.update(self.home_agent, self.home_address, self.care_of_address, self.lifetime,
                        now, home_registration=True)
        for peer in self.peers.values():  # tests under way were for the old address;
            peer.rr.care_of_address = self.care_of_address  # they restart once the
            peer.waiting, peer.due = False, None  # home agent has the new one
        return self.tick(now)

    def _returned_home(self, now: float) -> list[bytes]:
        """§11.5.5: deregister with the home agent, then with correspondents."""
        self.care_of_address = self.home_address
        if self.on_move is not None:
            self.on_move(self.home_address)
        self._note(now, "moved", "back on the home link")
        self.bul.update(self.home_agent, self.home_address, self.home_address, 0, now,
                        home_registration=True)
        out = self.tick(now)
        for cn in self._bound():
            out += self._start_rr(cn, now)
        return out

    # -- timers ---------------------------------------------------------------

    def next_deadline(self, now: float) -> float | None:
        times = [t for t in (self.bul.next_deadline(now), self._rr_deadline()) if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> list[bytes]:
        """Send the Binding Updates due and ask again for Home / Care-of
        Tests that did not come (§11.8)."""
        return self._updates(now) + self._rr_tick(now)

    def _updates(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        for t in self.bul.poll(now):
            if t.peer == self.home_agent and t.home_registration:
                self._home_update(t, now, out)
            else:
                self._correspondent_update(t, now, out)
        return out

    def _home_update(self, t: Transmission, now: float, out: list[bytes]) -> None:
        bu = t.message()
        if self.mobile_router:
            opts = () if self.implicit else tuple(MobileNetworkPrefix(n, p)
                                                 for p, n in self.prefixes)
            bu = replace(bu, mobile_router=True, options=opts).padded()
        if t.care_of_address == self.home_address:
            pkt = mobility_packet(self.home_address, self.home_agent, bu)
        else:
            pkt = mobility_packet(t.care_of_address, self.home_agent, bu,
                                  home_address=self.home_address)
        sent, how = protect(self.engine, pkt, now)
        self._sent(out, sent, now, f"Binding Update #{t.sequence} to the home agent "
                                   f"(lifetime {t.lifetime})", how)

    # -- sending ----------------------------------------------------------------

    def send(self, destination: bytes, payload: Segment | bytes, now: float, *,
             protocol: int | None = None) -> bytes | None:
        """An upper-layer packet from the home address to ``destination``:
        direct at home, with a Home Address option when ``destination`` holds
        a binding, else through the reverse tunnel (§11.3.1). ``None`` when the
        SPD discards it."""
        if self.at_home:
            pkt, _ = protect(self.engine, build(self.home_address, destination, payload,
                                                protocol=protocol), now)
            return pkt
        e = self.bul.get(destination, self.home_address)
        if self.bound(destination) and e is not None and e.expires is not None and e.expires > now:
            pkt, _ = protect(self.engine, build(self.care_of_address, destination, payload,
                                                protocol=protocol,
                                                home_address=self.home_address), now)
            return pkt
        inner = build(self.home_address, destination, payload, protocol=protocol)
        pkt, _ = tunnel(self.engine, inner, self.care_of_address, self.home_agent, now)
        return pkt

    # -- receiving --------------------------------------------------------------

    def receive(self, packet: bytes, now: float) -> list[bytes]:
        """Process a packet the network delivered to this node."""
        a = parse(packet)
        if a.protocol == 58 and a.payload[:1] == bytes((ND_ROUTER_ADVERT,)):
            try:
                return self.move(packet, now)
            except DecodeError as exc:
                self._note(now, "discarded", f"Router Advertisement: {exc}")
                return []
        if a.dst not in self.addresses:
            return self._route(packet, a, now)
        delivered, protected, why = admit(self.engine, packet, now)
        if delivered is None:
            if why:
                self._note(now, "discarded", f"IPsec: {why}")
            return []
        inner = parse(delivered)
        if inner.protocol == IPV6_IN_IPV6 and not inner.packet.chain:
            return self._from_tunnel(delivered, now)
        if inner.routed_to is not None and inner.routed_to != self.home_address:
            self._note(now, "discarded", "type 2 Routing header not naming the home address "
                                         "(RFC 6275 §11.3.3)")
            return []
        route = ROUTE_OPTIMISED if inner.routed_to is not None else ROUTE_DIRECT
        return self._local(inner, protected, route, now)

    def _route(self, packet: bytes, a: Arrival, now: float) -> list[bytes]:
        """A mobile router forwards for its mobile network (RFC 3963 §5.5)."""
        if not self.mobile_router:
            self._note(now, "discarded", f"not for this node ({show(a.dst)})")
            return []
        try:
            fwd = forwarded(packet)
        except DecodeError as exc:
            self._note(now, "discarded", str(exc))
            return []
        if self._in_network(a.dst):
            return [fwd]
        if self._in_network(a.src):
            if self.at_home:
                return [fwd]
            out, how = tunnel(self.engine, fwd, self.care_of_address, self.home_agent, now)
            if out is None:
                self._note(now, "discarded", f"reverse tunnel: {how}")
                return []
            return [out]
        self._note(now, "discarded", f"{show(a.src)} -> {show(a.dst)} is not routed here")
        return []

    def _from_tunnel(self, packet: bytes, now: float) -> list[bytes]:
        outer_src, inner = decapsulate(packet)
        if outer_src != self.home_agent:  # §11.3.2 (RFC 3963 §5.5)
            self._note(now, "discarded", f"tunnelled packet from {show(outer_src)}, "
                                         "not the home agent")
            return []
        delivered, protected, why = admit(self.engine, inner, now)
        if delivered is None:
            if why:
                self._note(now, "discarded", f"tunnelled packet: {why}")
            return []
        try:
            i = parse(delivered)
        except DecodeError as exc:
            self._note(now, "discarded", f"tunnelled packet: {exc}")
            return []
        if i.dst != self.home_address:
            return self._route(delivered, i, now)
        return self._local(i, protected, ROUTE_TUNNEL, now)

    def _local(self, a: Arrival, protected: bool, route: str, now: float) -> list[bytes]:
        if a.protocol != mh.MH_PROTOCOL:
            self.inbox.append(Delivery(now, a.source, a.destination, a.protocol, a.payload,
                                       route))
            return []
        try:
            msg = a.mobility()
        except DecodeError as exc:
            self._note(now, "discarded", f"Mobility Header: {exc}")
            return []
        if isinstance(msg, mh.BindingAcknowledgement):
            return self._acknowledgement(a, msg, protected, now)
        if isinstance(msg, mh.HomeTest):  # HoT and CoT (§11.6.2)
            return self._test(a, msg, now)
        if isinstance(msg, mh.BindingRefreshRequest):  # §11.7.4
            return self._refresh(a.src, now)
        if isinstance(msg, mh.BindingError):  # §11.3.6
            return self._binding_error(a, msg, now)
        self._note(now, "discarded", f"{type(msg).NAME} is not for a mobile node")
        return []

    def _acknowledgement(self, a: Arrival, ba: mh.BindingAcknowledgement, protected: bool,
                         now: float) -> list[bytes]:
        peer_addr = a.src
        if peer_addr == self.home_agent:
            if not protected:
                self._note(now, "discarded", "Binding Acknowledgement from the home agent "
                                             "without IPsec (RFC 4877)")
                return []
            e = self.bul.acknowledge(self.home_agent, self.home_address, ba, now)
            if e is None:
                self._note(now, "discarded", f"unexpected acknowledgement #{ba.sequence}")
                return []
            self.home_status = ba.status
            if not ba.accepted:
                self._note(now, "refused", f"home agent: status {ba.status}", ba.status)
                return self._updates(now)  # 135: sent again at once
            self._note(now, "accepted", f"home registration #{ba.sequence}, lifetime "
                                        f"{ba.lifetime}", ba.status)
            out = []
            if not self.at_home:  # the tunnel is up: start what waited for it
                for cn, state in self.peers.items():
                    e = self.bul.get(cn, self.home_address)
                    if not state.waiting and (e is None or e.care_of_address
                                             != self.care_of_address):
                        out += self._start_rr(cn, now)
            return out
        return self._correspondent_ack(a, ba, now)

    def _bound(self) -> set[bytes]:
        return {cn for cn in self.peers
                if (e := self.bul.get(cn, self.home_address)) is not None and e.registered}

    def _refresh(self, source: bytes, now: float) -> list[bytes]:
        if source == self.home_agent:
            e = self.bul.get(self.home_agent, self.home_address)
            if e is not None:
                self.bul.update(self.home_agent, self.home_address, e.care_of_address,
                                e.lifetime, now, home_registration=True)
            return self._updates(now)
        return self._correspondent_refresh(source, now)
