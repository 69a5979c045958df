"""The mobile node's Binding Update List (RFC 6275 §11.1, §11.7, §11.8;
constants of §12 and §13).

Sans-IO: :meth:`BindingUpdateList.update` records the binding the mobile node
wants at a peer; :meth:`BindingUpdateList.poll` returns the Binding Updates to
send at ``now`` (first transmissions, retransmissions and refreshes);
:meth:`BindingUpdateList.acknowledge` feeds a Binding Acknowledgement back;
:meth:`BindingUpdateList.next_deadline` says when to poll again.

Retransmission (§11.8): the first timeout is ``INITIAL_BINDACK_TIMEOUT``
(``InitialBindackTimeoutFirstReg``, 1.5 s, for a first home registration,
§13), doubling on each retransmission up to ``MAX_BINDACK_TIMEOUT`` and
continuing at that rate. Each transmission, retransmissions included, uses a
sequence number greater than the previous one. At most ``MAX_UPDATE_RATE``
Binding Updates go to one peer within any second.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass

from secmob.errors import UsageError
from secmob.wire import mobility as mh

__all__ = [
    "INITIAL_BINDACK_TIMEOUT",
    "INITIAL_BINDACK_TIMEOUT_FIRST_REG",
    "MAX_BINDACK_TIMEOUT",
    "MAX_UPDATE_RATE",
    "BindingUpdateList",
    "Transmission",
    "UpdateListEntry",
]

INITIAL_BINDACK_TIMEOUT = 1.0
"""Seconds before the first retransmission (§12)."""
INITIAL_BINDACK_TIMEOUT_FIRST_REG = 1.5
"""InitialBindackTimeoutFirstReg default, for a first home registration (§13)."""
MAX_BINDACK_TIMEOUT = 32.0
"""Largest retransmission timeout (§12)."""
MAX_UPDATE_RATE = 3
"""Binding Updates to one peer per second, at most (§12, §11.8)."""
REFRESH_FRACTION = 0.9
"""An accepted binding is refreshed after this share of its granted lifetime."""


@dataclass(frozen=True)
class Transmission:
    """A Binding Update to send now to ``peer`` (build it with :meth:`message`)."""

    peer: bytes
    home_address: bytes
    care_of_address: bytes
    sequence: int
    lifetime: int
    home_registration: bool
    ack: bool
    retransmission: bool

    def message(self) -> mh.BindingUpdate:
        """The Binding Update (options still to add, e.g. Return Routability ones)."""
        return mh.BindingUpdate(sequence=self.sequence, lifetime=self.lifetime, ack=self.ack,
                                home_registration=self.home_registration).padded()


@dataclass(slots=True)
class UpdateListEntry:
    """One Binding Update List entry (§11.1)."""

    peer: bytes
    home_address: bytes
    care_of_address: bytes
    lifetime: int
    home_registration: bool
    ack: bool
    sequence: int
    due: float | None = None  # next (re)transmission
    timeout: float = 0.0
    outstanding: bool = False  # a BU awaits its acknowledgement
    expires: float | None = None  # of the accepted binding
    status: int | None = None  # of the last acknowledgement
    sent: int = 0
    registered: bool = False
    sent_at: float = 0.0  # when the outstanding Binding Update was sent

    def __repr__(self) -> str:
        return (f"UpdateListEntry(peer={ipaddress.IPv6Address(self.peer)}, "
                f"seq={self.sequence}, due={self.due}, status={self.status})")


class BindingUpdateList:
    """The bindings a mobile node maintains, keyed by (peer, home address)."""

    def __init__(self, *, initial_timeout: float = INITIAL_BINDACK_TIMEOUT,
                 first_registration_timeout: float = INITIAL_BINDACK_TIMEOUT_FIRST_REG,
                 max_timeout: float = MAX_BINDACK_TIMEOUT, max_rate: int = MAX_UPDATE_RATE,
                 first_sequence: int = 0) -> None:
        if not 0 < initial_timeout <= max_timeout or max_rate < 1:
            raise UsageError("need 0 < initial_timeout <= max_timeout and max_rate >= 1")
        self.initial_timeout = initial_timeout
        self.first_registration_timeout = first_registration_timeout
        self.max_timeout = max_timeout
        self.max_rate = max_rate
        self.first_sequence = first_sequence & 0xFFFF
        self._entries: dict[tuple[bytes, bytes], UpdateListEntry] = {}
        self._sent: dict[bytes, deque[float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, peer: bytes, home_address: bytes) -> UpdateListEntry | None:
        return self._entries.get((peer, home_address))

    def update(self, peer: bytes, home_address: bytes, care_of_address: bytes, lifetime: int,
               now: float, *, home_registration: bool = False, ack: bool = True) -> None:
        """Ask for a binding ``home_address -> care_of_address`` at ``peer``
        (lifetime in 4-second units; 0 deregisters). It is sent by the next
        :meth:`poll` the rate limit allows."""
        if not 0 <= lifetime <= 0xFFFF:
            raise UsageError(f"lifetime must fit in 16 bits, got {lifetime}")
        e = self._entries.get((peer, home_address))
        if e is None:
            e = UpdateListEntry(peer, home_address, care_of_address, lifetime,
                                home_registration, ack or home_registration,
                                (self.first_sequence - 1) & 0xFFFF)
            self._entries[(peer, home_address)] = e
        e.care_of_address, e.lifetime = care_of_address, lifetime
        e.home_registration, e.ack = home_registration, ack or home_registration
        e.due, e.sent, e.outstanding = now, 0, False

    def _rate_free_at(self, peer: bytes, now: float) -> float:
        times = self._sent.get(peer)
        if times is None:
            return now
        while times and times[0] <= now - 1.0:
            times.popleft()
        return now if len(times) < self.max_rate else times[0] + 1.0

    def poll(self, now: float) -> list[Transmission]:
        """The Binding Updates due at ``now`` (§11.8), oldest deadline first."""
        out: list[Transmission] = []
        due = sorted((e for e in self._entries.values() if e.due is not None and e.due <= now),
                     key=lambda e: e.due or 0.0)  # the longest waiting go first
        for e in due:
            if self._rate_free_at(e.peer, now) > now:
                continue
            e.sequence = (e.sequence + 1) & 0xFFFF
            retrans = e.outstanding
            if not retrans:
                first = e.home_registration and not e.registered
                e.timeout = self.first_registration_timeout if first else self.initial_timeout
            else:
                e.timeout = min(e.timeout * 2, self.max_timeout)
            e.sent += 1
            e.sent_at = now
            e.outstanding = e.ack
            e.due = now + e.timeout if e.ack else None
            self._sent.setdefault(e.peer, deque()).append(now)
            out.append(Transmission(e.peer, e.home_address, e.care_of_address, e.sequence,
                                    e.lifetime, e.home_registration, e.ack, retrans))
        return out

    def acknowledge(self, peer: bytes, home_address: bytes, ba: mh.BindingAcknowledgement,
                    now: float) -> UpdateListEntry | None:
        """Apply a Binding Acknowledgement (already authenticated) (§11.7.3).

        Returns the entry, or ``None`` when no Binding Update with that sequence
        number is outstanding (the acknowledgement is ignored). Status 135 sets
        the sequence number to the one the acknowledgement carries and sends
        again at once; other refusals stop retransmission and keep the status.
        An accepted binding expires the granted lifetime after the Binding
        Update was *sent* (§11.7.3: "the timer countdown beginning at the time
        that the Binding Update was sent").
        """
        e = self._entries.get((peer, home_address))
        if e is None:
            return None
        if ba.status == mh.BAStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW and e.outstanding:
            e.sequence, e.status, e.due, e.outstanding = ba.sequence, ba.status, now, False
            return e
        if not e.outstanding or ba.sequence != e.sequence:
            return None
        e.outstanding, e.status = False, ba.status
        if not ba.accepted:
            e.due = None
            return e
        if e.lifetime == 0 or ba.lifetime == 0:
            del self._entries[(peer, home_address)]
            e.due, e.expires = None, now
            return e
        # §11.7.3: the granted lifetime counts down from when the Binding Update
        # was sent, max(L_remain - (L_update - L_ack), 0) in the RFC's terms.
        granted = ba.lifetime * 4
        e.registered, e.expires = True, e.sent_at + granted
        e.due = e.sent_at + granted * REFRESH_FRACTION
        return e

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`poll` has something to send (``None``: nothing pending)."""
        best: float | None = None
        for e in self._entries.values():
            if e.due is None:
                continue
            t = max(e.due, self._rate_free_at(e.peer, now))
            best = t if best is None else min(best, t)
        return best
