"""A small in-memory IPv6 network for the Mobile IPv6 nodes, and the
scenarios it runs.

:class:`Network` holds nodes attached to :class:`Link` objects and moves the
packets they return from one to the next, in time order, with a fixed
per-hop ``latency``; it calls each node's ``tick`` when its
``next_deadline`` comes. Every packet sent is recorded (:class:`Record`,
time, sender, receiver) and :meth:`Network.pcap` writes them as a capture
file (``LINKTYPE_RAW``). Nothing reads a clock: time is the simulation's.

Where a packet goes (the first rule that applies):

1. ``ff02::/16``: every other node on the sender's links;
2. a node on one of the sender's links owning the destination address;
3. the link's gateway (a mobile router for the nodes of its mobile network);
4. a node on a public link owning the destination address;
5. a node that intercepts the destination (a home agent with a binding for
   it or for a mobile network prefix holding it);
6. a static route ``prefix -> next hop`` (e.g. a mobile network prefix via
   the mobile router's home address), to the node owning the next hop.

A packet nobody receives is recorded with no receiver.

Nodes are :class:`Node` objects: ``addresses``, ``receive(packet, now)``,
``tick(now)``, ``next_deadline(now)``; a home agent also has
``intercepts(destination, now)``. :class:`Router` sends Router
Advertisements when a node attaches to its link; :class:`Host` is a plain
IPv6 host (the node behind a mobile router).

:mod:`secmob.mip6.scenario` builds the seed scenario on it.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from secmob.addr.eui64 import link_local_address, slaac_address
from secmob.errors import SecmobError, UsageError
from secmob.mip6.packets import Delivery, build, describe, parse, show
from secmob.trace import Tracer, emit
from secmob.wire.l4 import Segment
from secmob.wire.nd import PrefixInformation, RouterAdvertisement
from secmob.wire.pcap import PcapRecord, pcap_bytes

__all__ = ["Host", "Link", "Network", "Node", "Record", "Router", "care_of"]


class Node(Protocol):
    """What the network needs of a node."""

    @property
    def addresses(self) -> frozenset[bytes]: ...

    def receive(self, packet: bytes, now: float) -> list[bytes]: ...

    def tick(self, now: float) -> list[bytes]: ...

    def next_deadline(self, now: float) -> float | None: ...


@dataclass(eq=False)
class Link:
    """A link with an on-link ``prefix``; ``gateway`` (a mobile router)
    carries its nodes' off-link traffic, and makes it a private link whose
    addresses are reached through routes and tunnels only."""

    name: str
    prefix: ipaddress.IPv6Network
    gateway: Node | None = None
    router: Router | None = None


@dataclass(frozen=True)
class Record:
    """One packet sent: time, sender and receiver names (``None``: nobody)."""

    time: float
    sender: str
    receiver: str | None
    packet: bytes

    def __repr__(self) -> str:
        return (f"Record({self.time:.3f} {self.sender} -> {self.receiver}, "
                f"{len(self.packet)} octets)")


class Router:
    """An access router sending Router Advertisements for ``prefix``
    (RFC 4861 §6.2.4; H flag on a home link, RFC 6275 §7.1)."""

    def __init__(self, mac: str, prefix: str, *, home_agent: bool = False) -> None:
        self.link_local = link_local_address(mac).packed
        self.prefix = ipaddress.IPv6Network(prefix)
        self.home_agent = home_agent

    def __repr__(self) -> str:
        return f"Router({self.prefix})"

    @property
    def addresses(self) -> frozenset[bytes]:
        return frozenset({self.link_local})

    def advertisement(self) -> bytes:
        pio = PrefixInformation(self.prefix.prefixlen, self.prefix.network_address.packed)
        ra = RouterAdvertisement(home_agent=self.home_agent, options=(pio,))
        return ra.to_packet(self.link_local)

    def receive(self, packet: bytes, now: float) -> list[bytes]:
        return []

    def tick(self, now: float) -> list[bytes]:
        return []

    def next_deadline(self, now: float) -> float | None:
        return None


class Host:
    """A plain IPv6 host at ``address`` that keeps what it receives."""

    def __init__(self, address: bytes) -> None:
        self.address = address
        self.inbox: list[Delivery] = []

    def __repr__(self) -> str:
        return f"Host({show(self.address)})"

    @property
    def addresses(self) -> frozenset[bytes]:
        return frozenset({self.address})

    def send(self, destination: bytes, payload: Segment | bytes, now: float, *,
             protocol: int | None = None) -> bytes:
        return build(self.address, destination, payload, protocol=protocol)

    def receive(self, packet: bytes, now: float) -> list[bytes]:
        a = parse(packet)
        self.inbox.append(Delivery(now, a.source, a.destination, a.protocol, a.payload,
                                   "direct"))
        return []

    def tick(self, now: float) -> list[bytes]:
        return []

    def next_deadline(self, now: float) -> float | None:
        return None


@dataclass(order=True)
class _Pending:
    time: float
    order: int
    sender: Node = field(compare=False)
    packet: bytes = field(compare=False)


class Network:
    """Links, nodes and the packets between them (see the module docstring)."""

    def __init__(self, *, latency: float = 0.005, epoch: int = 1_700_000_000,
                 max_steps: int = 100_000, tracer: Tracer | None = None) -> None:
        self.tracer = tracer
        self.latency = latency
        self.epoch = epoch
        self.max_steps = max_steps
        self.now = 0.0
        self.records: list[Record] = []
        self.names: dict[int, str] = {}
        self.links: dict[int, set[int]] = {}  # node id -> link ids
        self._links: dict[int, Link] = {}
        self._nodes: dict[int, Node] = {}
        self._routes: list[tuple[ipaddress.IPv6Network, bytes]] = []
        self._queue: list[_Pending] = []
        self._order = itertools.count()
        self.errors: list[tuple[float, str, SecmobError]] = []

    # -- topology ---------------------------------------------------------------

    def link(self, name: str, prefix: str, *, router_mac: str | None = None,
             home_agent_flag: bool = False) -> Link:
        """A new link; with ``router_mac`` it has a router advertising its prefix."""
        lk = Link(name, ipaddress.IPv6Network(prefix))
        self._links[id(lk)] = lk
        if router_mac is not None:
            lk.router = Router(router_mac, prefix, home_agent=home_agent_flag)
            self.add(lk.router, f"router-{name}", lk)
        return lk

    def add(self, node: Node, name: str, *links: Link) -> Node:
        self._nodes[id(node)] = node
        self.names[id(node)] = name
        self.links[id(node)] = {id(lk) for lk in links}
        return node

    def duplicate_detector(self, link: Link,
                           owner: Node | None = None) -> Callable[[bytes], bool]:
        """Duplicate Address Detection on ``link`` (RFC 4862 §5.4) as a home
        agent's ``duplicate`` hook: whether a node other than ``owner`` on
        the link holds the address now."""
        def duplicate(address: bytes) -> bool:
            return any(address in n.addresses and n is not owner
                       for n in self._on_links({id(link)}))
        return duplicate

    def route(self, prefix: str, next_hop: bytes) -> None:
        """A static route: packets for ``prefix`` go to the owner of ``next_hop``."""
        self._routes.append((ipaddress.IPv6Network(prefix), next_hop))

    def attach(self, node: Node, link: Link, *, leave: Link | None = None) -> None:
        """Move ``node`` onto ``link`` (off ``leave``); the link's router
        advertises at once (a solicited Router Advertisement)."""
        ids = self.links[id(node)]
        if leave is not None:
            ids.discard(id(leave))
        ids.add(id(link))
        if link.router is not None:
            self.transmit(link.router, [link.router.advertisement()])

    # -- moving packets ---------------------------------------------------------

    def transmit(self, sender: Node, packets: Iterable[bytes | None]) -> None:
        """Queue packets ``sender`` sends now (``None`` entries are skipped)."""
        for p in packets:
            if p is not None:
                heapq.heappush(self._queue, _Pending(self.now, next(self._order), sender, p))

    def _on_links(self, link_ids: set[int]) -> list[Node]:
        return [n for i, n in self._nodes.items() if self.links[i] & link_ids]

    def _public_owner(self, address: bytes) -> Node | None:
        for i, n in self._nodes.items():
            if address in n.addresses and any(self._links[lk].gateway is None
                                               for lk in self.links[i]):
                return n
        return None

    def receivers(self, sender: Node, packet: bytes, now: float) -> list[Node]:
        """The nodes ``packet`` from ``sender`` reaches (rules of the module docstring)."""
        dst = packet[24:40]
        mine = self.links[id(sender)]
        local = [n for n in self._on_links(mine) if n is not sender]
        if dst[:2] == b"\xff\x02":
            return local
        for n in local:
            if dst in n.addresses:
                return [n]
        for lk in mine:
            gw = self._links[lk].gateway
            if gw is not None and gw is not sender:
                return [gw]
        owner = self._public_owner(dst)
        if owner is not None:
            return [owner]
        for n in self._nodes.values():
            intercepts: Callable[[bytes, float], bool] | None = getattr(n, "intercepts", None)
            if intercepts is not None and intercepts(dst, now):
                return [n]
        a = ipaddress.IPv6Address(dst)
        for net, hop in self._routes:
            if a in net and (owner := self._public_owner(hop)) is not None:
                return [owner]
        return []

    def _deadline(self) -> tuple[float, Node] | None:
        best: tuple[float, Node] | None = None
        for n in self._nodes.values():
            t = n.next_deadline(self.now)
            if t is not None and (best is None or t < best[0]):
                best = (t, n)
        return best

    def run(self, until: float) -> None:
        """Deliver packets and fire timers up to time ``until``."""
        for _ in range(self.max_steps):
            timer = self._deadline()
            head = self._queue[0].time + self.latency if self._queue else None
            nxt = min((t for t in (head, timer[0] if timer else None) if t is not None),
                      default=None)
            if nxt is None or nxt > until:
                self.now = max(self.now, until)
                return
            self.now = max(self.now, round(nxt, 6))  # microseconds, as in the capture
            if head is not None and head <= nxt:
                self._deliver(heapq.heappop(self._queue))
            elif timer is not None:
                node = timer[1]
                self.transmit(node, self._guard(node, node.tick, None))
        raise UsageError(f"the network did not settle within {self.max_steps} steps")

    def _guard(self, node: Node, call: Callable[..., list[bytes]],
               packet: bytes | None) -> list[bytes]:
        events = getattr(node, "events", None)
        seen = len(events) if isinstance(events, list) else 0
        try:
            return call(self.now) if packet is None else call(packet, self.now)
        except SecmobError as exc:  # a node refused a malformed packet
            self.errors.append((self.now, self.names[id(node)], exc))
            return []
        finally:
            if self.tracer is not None and isinstance(events, list):
                for e in events[seen:]:
                    inputs: dict[str, str | int] = {"time": f"{e.time:.3f} s"}
                    if e.status is not None:
                        inputs["status"] = e.status
                    emit(self.tracer, f"{self.names[id(node)]}: {e.kind}", e.detail,
                         "RFC 6275", inputs, e.detail)

    def _deliver(self, p: _Pending) -> None:
        targets = self.receivers(p.sender, p.packet, self.now)
        name = self.names[id(p.sender)]
        receiver = ",".join(self.names[id(t)] for t in targets) or None
        self.records.append(Record(p.time, name, receiver, p.packet))
        if self.tracer is not None:
            summary, rfc = describe(p.packet)
            emit(self.tracer, f"packet {name} -> {receiver or 'nobody'}", summary, rfc,
                 {"time": f"{p.time:.3f} s"}, p.packet)
        for t in targets:
            self.transmit(t, self._guard(t, t.receive, p.packet))

    def pcap(self) -> bytes:
        """Every recorded packet as a ``LINKTYPE_RAW`` capture, timestamps
        ``epoch + time``."""
        recs = []
        for r in self.records:
            micros = round(r.time * 1_000_000)
            recs.append(PcapRecord(self.epoch + micros // 1_000_000, micros % 1_000_000,
                                   r.packet))
        return pcap_bytes(recs)


def care_of(prefix: str, mac: str) -> bytes:
    """The address a node with ``mac`` forms on ``prefix`` (RFC 4862 §5.5.3)."""
    return slaac_address(ipaddress.IPv6Network(prefix), mac).packed
