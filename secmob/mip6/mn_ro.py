"""The mobile node's side of route optimisation with correspondents
(RFC 6275 §11.6, §11.7.2-§11.7.4, §11.3.6), a base of
:class:`secmob.mip6.mn.MobileNode`.

* Return Routability (§11.6.1): the Home Test Init leaves from the home
  address through the reverse tunnel (directly when at home), the Care-of
  Test Init directly from the care-of address (not at home: a
  deregistration needs the home keygen token only, §5.2.5). Both are sent
  again when the tests do not arrive, after ``INITIAL_BINDACK_TIMEOUT``
  doubling up to ``MAX_BINDACK_TIMEOUT`` (§11.8), with fresh cookies.
* With both tokens the Binding Update List sends a Binding Update signed
  with Kbm (§11.7.2); a token older than ``MAX_TOKEN_LIFETIME`` restarts
  the procedure.
* A correspondent's acknowledgement must verify under the same Kbm
  (§11.7.3); one with status 136-138 carries no Authenticator and restarts
  the procedure. A Binding Refresh Request restarts it too (§11.7.4), and so
  does a Binding Error with status 1 for a correspondent the node believes
  holds its binding (§11.3.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from secmob.errors import DecodeError, IntegrityError, UsageError
from secmob.mip6 import rr
from secmob.mip6.packets import Arrival, Event, Protection, mobility_packet, protect, show, tunnel
from secmob.mip6.update_list import (
    INITIAL_BINDACK_TIMEOUT,
    MAX_BINDACK_TIMEOUT,
    BindingUpdateList,
    Transmission,
)
from secmob.trace import Tracer
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import BindingAuthorizationData

__all__ = ["Peer", "RouteOptimisation"]

_RR_EXPIRED = (136, 137, 138)


@dataclass
class Peer:
    """Route optimisation state for one correspondent: the Return
    Routability exchange, which tests arrived, and when to ask again."""

    rr: rr.MobileNode
    waiting: bool = False
    got: set[str] = field(default_factory=set)
    due: float | None = None
    timeout: float = INITIAL_BINDACK_TIMEOUT


class RouteOptimisation:
    """Route optimisation for a mobile node (see the module docstring). The
    node sets the attributes annotated here."""

    home_address: bytes
    home_agent: bytes
    care_of_address: bytes
    engine: Protection
    rng: Callable[[int], bytes]
    bul: BindingUpdateList
    tracer: Tracer | None
    correspondent_lifetime: int
    peers: dict[bytes, Peer]
    events: list[Event]

    @property
    def at_home(self) -> bool:
        return self.care_of_address == self.home_address

    @property
    def home_registered(self) -> bool:
        """Whether the home agent has accepted the current care-of address."""
        e = self.bul.get(self.home_agent, self.home_address)
        return (e is not None and e.registered and e.care_of_address == self.care_of_address
                and not e.outstanding)

    def _note(self, now: float, kind: str, detail: str, status: int | None = None) -> None:
        self.events.append(Event(now, kind, detail, status))

    def _sent(self, out: list[bytes], pkt: bytes | None, now: float, what: str,
              how: str) -> None:
        if pkt is None:
            self._note(now, "discarded", f"{what}: SPD says {how}")
        else:
            out.append(pkt)
            self._note(now, "sent", what)

    def bound(self, correspondent: bytes) -> bool:
        """Whether ``correspondent`` accepted the current care-of address."""
        e = self.bul.get(correspondent, self.home_address)
        return (e is not None and e.registered and e.care_of_address == self.care_of_address
                and e.lifetime > 0)

    # -- Return Routability ---------------------------------------------------

    def optimise(self, correspondent: bytes, now: float) -> list[bytes]:
        """Start route optimisation with ``correspondent``. Away from home it
        waits for the home registration when that is not yet accepted."""
        if correspondent not in self.peers:
            self.peers[correspondent] = Peer(rr.MobileNode(
                self.home_address, self.care_of_address, correspondent, self.rng))
        if self.at_home or not self.home_registered:
            return []
        return self._start_rr(correspondent, now)

    def _start_rr(self, correspondent: bytes, now: float, *, retry: bool = False) -> list[bytes]:
        peer = self.peers[correspondent]
        peer.rr.care_of_address = self.care_of_address
        hoti, coti = peer.rr.start(self.tracer)
        peer.waiting, peer.got = True, set()
        peer.timeout = min(peer.timeout * 2, MAX_BINDACK_TIMEOUT) if retry else (
            INITIAL_BINDACK_TIMEOUT)
        peer.due = now + peer.timeout
        inner = mobility_packet(self.home_address, correspondent, hoti)
        out: list[bytes] = []
        again = " (again)" if retry else ""
        if self.at_home:
            pkt, how = protect(self.engine, inner, now)
        else:
            pkt, how = tunnel(self.engine, inner, self.care_of_address, self.home_agent, now)
        self._sent(out, pkt, now, f"Home Test Init to {show(correspondent)}{again}", how)
        if not self.at_home:
            co = mobility_packet(self.care_of_address, correspondent, coti)
            pkt, how = protect(self.engine, co, now)
            self._sent(out, pkt, now, f"Care-of Test Init to {show(correspondent)}{again}", how)
        return out

    def _rr_deadline(self) -> float | None:
        dues = [p.due for p in self.peers.values() if p.waiting and p.due is not None]
        return min(dues) if dues else None

    def _rr_tick(self, now: float) -> list[bytes]:
        """Ask again for the tests that did not arrive in time (§11.8)."""
        out: list[bytes] = []
        for cn, peer in self.peers.items():
            if peer.waiting and peer.due is not None and peer.due <= now:
                out += self._start_rr(cn, now, retry=True)
        return out

    def _test(self, a: Arrival, msg: mh.HomeTest, now: float) -> list[bytes]:
        """A Home Test or Care-of Test (§11.6.2)."""
        peer = self.peers.get(a.src)
        if peer is None or not peer.waiting:
            self._note(now, "discarded", f"{type(msg).NAME} not asked for")
            return []
        try:
            peer.rr.receive(msg, now)
        except IntegrityError as exc:
            self._note(now, "discarded", str(exc))
            return []
        peer.got.add("care-of" if isinstance(msg, mh.CareOfTest) else "home")
        self._note(now, "received", f"{type(msg).NAME} from {show(a.src)} (nonce index "
                                    f"{msg.nonce_index})")
        if "home" not in peer.got or ("care-of" not in peer.got and not self.at_home):
            return []
        peer.waiting, peer.due = False, None
        lifetime = 0 if self.at_home else self.correspondent_lifetime
        self.bul.update(a.src, self.home_address, self.care_of_address, lifetime, now)
        return self._updates(now)

    def _updates(self, now: float) -> list[bytes]:
        raise NotImplementedError  # MobileNode.tick's Binding Update part

    # -- Binding Updates and what answers them ----------------------------------

    def _correspondent_update(self, t: Transmission, now: float, out: list[bytes]) -> None:
        """A Binding Update to a correspondent, signed with Kbm (§11.7.2)."""
        peer = self.peers.get(t.peer)
        if peer is None:
            return
        try:
            wire = peer.rr.binding_update(t.sequence, t.lifetime, now, ack=t.ack,
                                          tracer=self.tracer)
        except UsageError:  # tokens too old (§5.2.7): run the procedure again
            out += self._start_rr(t.peer, now)
            return
        if self.at_home:
            pkt = mobility_packet(self.home_address, t.peer, wire)
        else:
            pkt = mobility_packet(self.care_of_address, t.peer, wire,
                                  home_address=self.home_address)
        sent, how = protect(self.engine, pkt, now)
        self._sent(out, sent, now, f"Binding Update #{t.sequence} to {show(t.peer)} "
                                   f"(lifetime {t.lifetime})", how)

    def _correspondent_ack(self, a: Arrival, ba: mh.BindingAcknowledgement,
                           now: float) -> list[bytes]:
        """A correspondent's Binding Acknowledgement (§11.7.3)."""
        peer = self.peers.get(a.src)
        if peer is None:
            self._note(now, "discarded", f"acknowledgement from unknown {show(a.src)}")
            return []
        try:
            peer.rr.verify_acknowledgement(a.payload, now, self.tracer)
        except (IntegrityError, UsageError, DecodeError) as exc:
            if ba.status in _RR_EXPIRED and ba.option(BindingAuthorizationData) is None:
                if self.bul.acknowledge(a.src, self.home_address, ba, now) is None:
                    return []
                self._note(now, "refused", f"{show(a.src)}: nonce expired", ba.status)
                return self._start_rr(a.src, now)  # new tokens
            self._note(now, "discarded", f"acknowledgement from {show(a.src)}: {exc}")
            return []
        if self.bul.acknowledge(a.src, self.home_address, ba, now) is None:
            self._note(now, "discarded", f"unexpected acknowledgement #{ba.sequence}")
            return []
        kind = "accepted" if ba.accepted else "refused"
        self._note(now, kind, f"{show(a.src)}: status {ba.status}, lifetime {ba.lifetime}",
                   ba.status)
        return self._updates(now) if not ba.accepted else []

    def _correspondent_refresh(self, source: bytes, now: float) -> list[bytes]:
        """A Binding Refresh Request from a correspondent (§11.7.4)."""
        if source not in self.peers or self.at_home:
            return []
        self._note(now, "received", f"Binding Refresh Request from {show(source)}")
        return self._start_rr(source, now)

    def _binding_error(self, a: Arrival, be: mh.BindingError, now: float) -> list[bytes]:
        """§11.3.6: status 1 from a correspondent that should hold our
        binding means it lost it: bind again."""
        self._note(now, "error", f"Binding Error status {be.status} from {show(a.src)}",
                   be.status)
        if (be.status == mh.BEStatus.UNKNOWN_BINDING_FOR_HOME_ADDRESS_OPTION
                and be.home_address == self.home_address and a.src in self.peers
                and not self.at_home and not self.peers[a.src].waiting):
            return self._start_rr(a.src, now)
        return []
