"""A Mobile IPv6 correspondent node (RFC 6275 §9).

:class:`CorrespondentNode` is sans-IO: :meth:`~CorrespondentNode.receive`
takes an arriving packet and ``now`` and returns the packets to send;
:meth:`~CorrespondentNode.tick` runs the timers (binding expiry and Binding
Refresh Requests); :meth:`~CorrespondentNode.send` builds an outgoing packet,
route-optimised when a binding exists. Randomness (Kcn, nonces) comes from
the ``rng`` given to the constructor.

What it does:

* Return Routability (§9.4): a Home Test Init is answered with a Home Test to
  the home address, a Care-of Test Init with a Care-of Test to the care-of
  address, each carrying a nonce index, a keygen token and the init cookie
  copied from the request (:class:`secmob.mip6.rr.Correspondent`).
* Binding Updates (§9.5.1), checked in this order: a home address (the Home
  Address option, else the Source Address); the H flag (status 131: a
  correspondent node is no home agent); the sequence number (status 135
  with the last accepted number); the nonce indices (136, 137, 138); the
  Authenticator (Kbm from both keygen tokens, or from the home keygen token
  alone for a deregistration) -- a Binding Update that does not authenticate
  is silently discarded. Because §9.5.4 requires the acknowledgement of a
  Return Routability update to carry an Authenticator under the same Kbm, a
  status 135 acknowledgement is sent only for an update that authenticates.
  Statuses 136-138 go out without Binding Authorization Data (§6.1.8).
  The lifetime is capped at ``MAX_RR_BINDING_LIFETIME`` (420 s, 105 units).
  A Binding Acknowledgement is sent when the A flag is set or the update was
  refused (§9.5.4), to the Source Address with a type 2 Routing header to the
  home address when they differ.
* Packets with a Home Address option (§9.3.1) are accepted only when a
  binding maps that home address to the packet's Source Address; otherwise
  a Binding Error with status 1 goes to the Source Address (§9.3.3). An
  unknown MH Type gets a Binding Error with status 2 (§9.2).
* Sending (§9.3.2): to a home address with a valid binding, the packet goes
  to the care-of address with a type 2 Routing header.
* Binding Refresh Request (§9.5.5): a binding used within ``refresh_advance``
  seconds of its expiry gets one, through :meth:`tick`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from secmob.errors import BindingError, DecodeError, IntegrityError, NonceExpired
from secmob.mip6 import rr
from secmob.mip6.binding import BindingCache, BindingEntry, sequence_greater
from secmob.mip6.packets import (
    ROUTE_DIRECT,
    ROUTE_OPTIMISED,
    Arrival,
    Delivery,
    Event,
    build,
    mobility_packet,
    parse,
    show,
)
from secmob.mip6.rr_crypto import _sign_acknowledgement, verify_authenticator
from secmob.trace import Tracer
from secmob.wire import mobility as mh
from secmob.wire.l4 import Segment

__all__ = ["CorrespondentNode"]

Rng = Callable[[int], bytes]

# The shape of a Binding Update from a mobile node away from home as
# packets.build and rr.MobileNode.binding_update lay it out (RFC 6275 §6.3,
# §6.1.7, §11.7.2), the one CorrespondentNode.receive reads from offsets:
#   0  IPv6 header, Payload Length 56, Next Header 60 (Destination Options)
#  40  Destination Options: Next Header 135, Hdr Ext Len 2, PadN with two zero
#      octets, the Home Address option (type 201, length 16) at 8n+6
#  48  home address
#  64  Mobility Header, Payload Proto 59, Header Len 3, MH Type 5 (Binding
#      Update): Checksum at 68, Sequence # 70, flags 72, Lifetime 74
#  76  Nonce Indices option (type 4, length 4): home index 78, care-of index 80
#  82  Binding Authorization Data option (type 5, length 12): Authenticator 84-95
_QUICK_LENGTH = 96
_QUICK_IPV6 = bytes((0, 56, 60))
_QUICK_DSTOPTS = bytes((mh.MH_PROTOCOL, 2, 1, 2, 0, 0, 201, 16))
_QUICK_MH = bytes((mh.IPPROTO_NONE, 3, mh.MHType.BINDING_UPDATE))
_QUICK_NONCE_INDICES = bytes((4, 4))
_QUICK_AUTHORIZATION = bytes((5, 12))
_QUICK_FIELDS = struct.Struct("!HHH2xHH")  # from octet 70


class CorrespondentNode:
    """A correspondent node at ``address`` (RFC 6275 §9).

    ``rng(n)`` draws Kcn and the nonces; ``cache`` defaults to a
    correspondent binding cache (no home registrations) that reports a
    binding used within ``refresh_advance`` seconds of its expiry.
    ``events`` records what happened; ``inbox`` the payloads accepted.
    """

    def __init__(self, address: bytes, rng: Rng, *, cache: BindingCache | None = None,
                 refresh_advance: float = 20.0, tracer: Tracer | None = None) -> None:
        self.address = address
        self.rr = rr.Correspondent(address, rng)
        self.cache = cache if cache is not None else BindingCache(
            refresh_advance=refresh_advance)
        self.tracer = tracer
        self.events: list[Event] = []
        self.inbox: list[Delivery] = []

    def __repr__(self) -> str:
        return f"CorrespondentNode({show(self.address)}, {len(self.cache)} binding(s))"

    @property
    def addresses(self) -> frozenset[bytes]:
        return frozenset({self.address})

    def _note(self, now: float, kind: str, detail: str, status: int | None = None) -> None:
        self.events.append(Event(now, kind, detail, status))

    # -- sending ------------------------------------------------------------

    def send(self, destination: bytes, payload: Segment | bytes, now: float, *,
             protocol: int | None = None) -> bytes:
        """A packet from this node to ``destination`` (§9.3.2): with a valid
        binding for it, sent to the care-of address with a type 2 Routing
        header naming the home address; otherwise sent directly."""
        entry = self.cache.lookup(destination, now)
        if entry is None:
            return build(self.address, destination, payload, protocol=protocol)
        return build(self.address, entry.care_of_address, payload, protocol=protocol,
                     routing_to=destination)

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`tick` has work next."""
        return self.cache.next_deadline()

    def tick(self, now: float) -> list[bytes]:
        """Remove expired bindings and nonces, and send Binding Refresh Requests
        (§9.5.5)."""
        self.rr.nonces.expire(now)
        found = self.cache.poll(now)
        for e in found.expired:
            self._note(now, "expired", f"binding for {show(e.home_address)}")
        out = []
        for e in found.refresh:
            out.append(mobility_packet(self.address, e.care_of_address,
                                       mh.BindingRefreshRequest().padded(),
                                       routing_to=e.home_address))
            self._note(now, "sent", f"Binding Refresh Request to {show(e.home_address)}")
        return out

    # -- receiving ----------------------------------------------------------

    def receive(self, packet: bytes, now: float) -> list[bytes]:
        """Process a packet addressed to this node; return the packets to send.

        Raises :class:`DecodeError` / :class:`~secmob.errors.Truncated` for a
        malformed IPv6 packet; protocol failures the RFC answers with silence
        are recorded in :attr:`events` as ``"discarded"``."""
        if (type(packet) is bytes and self.tracer is None
                and (quick := self._quick_binding_update(packet, now)) is not None):
            return quick
        a = parse(packet)
        if a.protocol == mh.MH_PROTOCOL:
            return self._mobility(a, now)
        if a.home_address is not None:
            entry = self.cache.lookup(a.home_address, now)
            if entry is None or entry.care_of_address != a.src:
                return [self._binding_error(a, mh.BEStatus.UNKNOWN_BINDING_FOR_HOME_ADDRESS_OPTION,
                                            now)]
            route = ROUTE_OPTIMISED
        else:
            route = ROUTE_DIRECT
        self.inbox.append(Delivery(now, a.source, a.destination, a.protocol, a.payload, route))
        return []

    def _quick_binding_update(self, packet: bytes, now: float) -> list[bytes] | None:
        """What :meth:`receive` answers to a Binding Update of the shape above
        that the checks of §9.5.1 accept, found from offsets without building
        the Arrival, message, VerifiedUpdate and Accepted objects: the same
        checks through the same functions, the same binding, event and
        acknowledgement. ``None`` for any other packet and for an update that
        is refused or discarded: the general path then decides it afresh and
        notes why (nothing here changes state before the update is accepted,
        but for an expired binding that the general path removes too)."""
        if (len(packet) != _QUICK_LENGTH or packet[0] >> 4 != 6
                or packet[4:7] != _QUICK_IPV6 or packet[40:48] != _QUICK_DSTOPTS
                or packet[64:67] != _QUICK_MH or packet[76:78] != _QUICK_NONCE_INDICES
                or packet[82:84] != _QUICK_AUTHORIZATION):
            return None
        src, home, message = packet[8:24], packet[48:64], packet[64:]
        if not mh.checksum_matches(home, packet[24:40], message):  # §9.2
            return None
        if not _unicast_routable(home):
            return None
        sequence, flags, lifetime, home_index, care_index = _QUICK_FIELDS.unpack_from(packet, 70)
        if flags & mh.BU_H:  # refused with status 131
            return None
        dereg = lifetime == 0  # §9.5.1; the home address then signs (§6.2.7)
        signer = home if dereg else src
        try:
            kbm = self.rr.binding_key(home, src, home_index, None if dereg else care_index, now)
            verify_authenticator(kbm, signer, self.address,  # MH Data as in §6.2.7
                                 message[:4] + b"\0\0" + message[6:-12], message[-12:])
            granted, entry = self.cache.register(home, src, sequence, flags, lifetime, now)
        except (NonceExpired, IntegrityError, BindingError):
            return None
        self._note_accepted(now, home, src, sequence, granted, entry)
        if not flags & mh.BU_A:
            return []
        ba = _sign_acknowledgement(kbm, signer, self.address, home, 0, sequence, granted, None)
        return [mobility_packet(self.address, src, ba, routing_to=home if src != home else None)]

    def _note_accepted(self, now: float, home: bytes, care_of: bytes, sequence: int,
                       lifetime: int, entry: BindingEntry | None) -> None:
        if entry is None:
            self.events.append(Event.deferred(now, "accepted", "binding {} -> {}, sequence {}, "
                                              "deleted", home, care_of, sequence, status=0))
        else:
            self.events.append(Event.deferred(now, "accepted", "binding {} -> {}, sequence {}, "
                                              "lifetime {}", home, care_of, sequence, lifetime,
                                              status=0))

    def _binding_error(self, a: Arrival, status: int, now: float) -> bytes:
        """A Binding Error to the offending packet's Source Address (§9.3.3)."""
        home = a.home_address if a.home_address is not None else a.src
        be = mh.BindingError(status=status, home_address=home).padded()
        self._note(now, "sent", f"Binding Error status {status} to {show(a.src)}", status)
        return mobility_packet(self.address, a.src, be)

    def _mobility(self, a: Arrival, now: float) -> list[bytes]:
        try:
            msg = a.mobility()
        except DecodeError as exc:  # §9.2: silently discarded
            self._note(now, "discarded", f"Mobility Header: {exc}")
            return []
        if isinstance(msg, mh.BindingUpdate):
            return self._binding_update(a, msg, now)
        if a.home_address is not None:
            entry = self.cache.lookup(a.home_address, now)
            if entry is None or entry.care_of_address != a.src:  # §9.3.1
                return [self._binding_error(
                    a, mh.BEStatus.UNKNOWN_BINDING_FOR_HOME_ADDRESS_OPTION, now)]
        if isinstance(msg, mh.UnknownMessage):
            return [self._binding_error(a, mh.BEStatus.UNRECOGNIZED_MH_TYPE, now)]
        if isinstance(msg, mh.CareOfTestInit):  # §9.4.2
            if a.home_address is not None:
                self._note(now, "discarded", "Care-of Test Init with a Home Address option")
                return []
            cot = self.rr.care_of_test(msg, a.src, now, self.tracer)
            self._note(now, "sent", f"Care-of Test (nonce index {cot.nonce_index})")
            return [mobility_packet(self.address, a.src, cot)]
        if isinstance(msg, mh.HomeTestInit):  # §9.4.1
            if a.home_address is not None:
                self._note(now, "discarded", "Home Test Init with a Home Address option")
                return []
            hot = self.rr.home_test(msg, a.src, now, self.tracer)
            self._note(now, "sent", f"Home Test (nonce index {hot.nonce_index})")
            return [mobility_packet(self.address, a.src, hot)]
        self._note(now, "discarded", f"{type(msg).NAME} is not for a correspondent node")
        return []

    def _reply(self, a: Arrival, home: bytes, message: bytes) -> bytes:
        """An acknowledgement to the update's Source Address, with a type 2
        Routing header to the home address when they differ (§9.5.4)."""
        return mobility_packet(self.address, a.src, message,
                               routing_to=home if a.src != home else None)

    def _binding_update(self, a: Arrival, bu: mh.BindingUpdate, now: float) -> list[bytes]:
        """§9.5.1 in order; see the module docstring."""
        home = a.home_address if a.home_address is not None else a.src
        if not _unicast_routable(home):
            self._note(now, "discarded", "Binding Update without a unicast routable home address")
            return []
        if bu.home_registration:
            ba = mh.BindingAcknowledgement(
                status=mh.BAStatus.HOME_REGISTRATION_NOT_SUPPORTED, sequence=bu.sequence,
                lifetime=0).padded()
            self._note(now, "refused", "home registration at a correspondent node", 131)
            return [self._reply(a, home, ba.to_bytes(self.address, home))]
        entry = self.cache.lookup(home, now)
        stale = entry is not None and not sequence_greater(bu.sequence, entry.sequence)
        try:
            ok = self.rr.verify_binding_update(a.payload, home_address=home,
                                               source_address=a.src, now=now,
                                               tracer=self.tracer, message=bu)
        except NonceExpired as exc:
            ba = mh.BindingAcknowledgement(status=exc.status, sequence=bu.sequence,
                                           lifetime=0).padded()
            self._note(now, "refused", str(exc), exc.status)
            return [self._reply(a, home, ba.to_bytes(self.address, home))]
        except IntegrityError as exc:  # §9.5.1: silently discarded
            self._note(now, "discarded", str(exc))
            return []
        if stale:
            assert entry is not None
            return self._refuse(a, ok, BindingError(
                f"sequence number {bu.sequence} is not greater than {entry.sequence}", 135,
                expected_sequence=entry.sequence), now)
        try:
            accepted = self.cache.update(bu, home_address=home,
                                         care_of_address=ok.care_of_address, now=now)
        except BindingError as exc:
            return self._refuse(a, ok, exc, now)
        self._note_accepted(now, home, ok.care_of_address, bu.sequence, accepted.lifetime,
                            accepted.entry)
        if not bu.ack:
            return []
        return [self._reply(a, home, self.rr.acknowledge(ok, 0, accepted.lifetime,
                                                         self.tracer))]

    def _refuse(self, a: Arrival, ok: rr.VerifiedUpdate, exc: BindingError,
                now: float) -> list[bytes]:
        """A signed Binding Acknowledgement carrying ``exc.status`` (§9.5.4)."""
        self._note(now, "refused", str(exc), exc.status)
        seq = exc.expected_sequence if exc.expected_sequence is not None else ok.message.sequence
        ba = mh.BindingAcknowledgement(status=exc.status, sequence=seq, lifetime=0)
        coa = ok.home_address if ok.deregistration else ok.care_of_address
        _, wire = rr.sign_message(ba, ok.kbm, coa, self.address, self.address,
                                  ok.home_address, self.tracer)
        return [self._reply(a, ok.home_address, wire)]


def _unicast_routable(address: bytes) -> bool:
    """Not multicast (ff00::/8), link-local (fe80::/16) or unspecified: a home
    address a correspondent may bind (§9.5.1)."""
    return address[0] != 0xFF and address[:2] != b"\xfe\x80" and any(address)
