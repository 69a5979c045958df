"""The binding cache of correspondent nodes and home agents (RFC 6275 §9.1,
§9.5, §10.3; NEMO prefixes of RFC 3963 §6).

:class:`BindingCache` applies the checks of §9.5.1 / §10.3.1 to a received
Binding Update and keeps one :class:`BindingEntry` per home address. A
refused update raises :class:`~secmob.errors.BindingError` carrying the
Binding Acknowledgement status:

====  ===========================================================
130   insufficient resources (the cache is full)
131   home registration (H) asked of a node that is not a home agent (§10.3.1)
133   home deregistration for a home address with no binding
135   sequence number not greater than the last one (modulo 2^16);
      ``expected_sequence`` is the last accepted one, the value the
      Binding Acknowledgement carries (§9.5.1)
139   the H flag differs from the one of the existing entry (§9.5.1), or the
      R flag does, outside a deregistration (RFC 3963 §6.2)
140   mobile router (R) flag at a home agent without NEMO support
      (RFC 3963 §6.6), or without the H flag (RFC 3963 §6.2); a node
      without mobile router support ignores R in a correspondent
      registration (to it a Reserved bit, RFC 6275 §6.1.7)
141   invalid prefix (length 0 or over 128, RFC 3963 §6.2)
142   prefix not authorized for, or already bound to, another node
143   implicit-mode registration with no configured prefixes
====  ===========================================================

Sans-IO: every call takes ``now`` (seconds); :meth:`BindingCache.poll` removes
expired entries and lists those in use near expiry (to receive a Binding
Refresh Request, §9.5.5); :meth:`BindingCache.next_deadline` says when to
call it next. Lifetimes are in 4-second units, as on the wire.

Entries are packed 45-octet records (a ``bytes`` subclass), so a million
bindings take well under 200 MiB; NEMO prefixes live in one dict per prefix
length, probed from the longest to the shortest.
"""

from __future__ import annotations

import heapq
import ipaddress
import math
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from secmob.errors import BindingError, UsageError
from secmob.mip6.rr import MAX_RR_BINDING_LIFETIME
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix, MobilityOption

__all__ = [
    "LIFETIME_UNIT",
    "Accepted",
    "BindingCache",
    "BindingEntry",
    "Expiry",
    "refusal",
    "sequence_greater",
]

LIFETIME_UNIT = 4
"""Seconds per Lifetime unit in Binding Updates and Acknowledgements (§6.1.7)."""

_RECORD = struct.Struct("!d16s16sHHB")
_EXPIRES = struct.Struct("!d").unpack_from
# Entry flag bits: the high octet of the Binding Update flags word (§6.1.7).
FLAG_A, FLAG_H, FLAG_L, FLAG_K, FLAG_R = 0x80, 0x40, 0x20, 0x10, 0x04
_BU_H, _BU_R = mh.BU_H, mh.BU_R


def sequence_greater(new: int, last: int) -> bool:
    """``new`` is greater than ``last`` modulo 2^16 (§9.5.1): it lies in the
    2^15 values after ``last``."""
    return 0 < (new - last) & 0xFFFF < 0x8000


class BindingEntry(bytes):
    """One binding (§9.1): an immutable packed record.

    Fields: ``expires`` (absolute time, seconds), ``home_address``,
    ``care_of_address``, ``sequence`` (last accepted), ``lifetime`` (granted,
    4-second units) and ``flags`` (the A/H/L/K/R bits of the Binding Update).
    """

    __slots__ = ()

    @classmethod
    def make(cls, home_address: bytes, care_of_address: bytes, expires: float,
             sequence: int, lifetime: int, flags: int) -> BindingEntry:
        return cls(_RECORD.pack(expires, home_address, care_of_address, sequence,
                                lifetime, flags))

    @property
    def expires(self) -> float:
        return float(_EXPIRES(self)[0])

    @property
    def home_address(self) -> bytes:
        return bytes(self[8:24])

    @property
    def care_of_address(self) -> bytes:
        return bytes(self[24:40])

    @property
    def sequence(self) -> int:
        return int.from_bytes(self[40:42], "big")

    @property
    def lifetime(self) -> int:
        return int.from_bytes(self[42:44], "big")

    @property
    def flags(self) -> int:
        return self[44]

    @property
    def home_registration(self) -> bool:
        return bool(self[44] & FLAG_H)

    @property
    def mobile_router(self) -> bool:
        return bool(self[44] & FLAG_R)

    def remaining(self, now: float) -> float:
        """Seconds of lifetime left at ``now`` (negative once expired)."""
        return self.expires - now

    def __repr__(self) -> str:
        kind = "home" if self.home_registration else "correspondent"
        return (f"BindingEntry({ipaddress.IPv6Address(self.home_address)} -> "
                f"{ipaddress.IPv6Address(self.care_of_address)}, {kind}, "
                f"seq={self.sequence}, expires={self.expires})")


@dataclass(frozen=True)
class Accepted:
    """A Binding Update the cache accepted (entry ``None``: binding deleted)."""

    sequence: int
    lifetime: int
    entry: BindingEntry | None

    def acknowledgement(self, *, mobile_router: bool = False) -> mh.BindingAcknowledgement:
        """The Binding Acknowledgement (status 0) to send, padded."""
        return mh.BindingAcknowledgement(status=0, sequence=self.sequence,
                                         lifetime=self.lifetime,
                                         mobile_router=mobile_router).padded()


def refusal(update: mh.BindingUpdate, error: BindingError) -> mh.BindingAcknowledgement:
    """The Binding Acknowledgement reporting ``error`` for ``update`` (§9.5.4):
    status 135 carries the last accepted sequence number."""
    seq = error.expected_sequence if error.expected_sequence is not None else update.sequence
    return mh.BindingAcknowledgement(status=error.status, sequence=seq, lifetime=0,
                                     mobile_router=update.mobile_router).padded()


@dataclass(frozen=True)
class Expiry:
    """What :meth:`BindingCache.poll` found: bindings removed, and bindings
    in use near expiry whose mobile node should get a Binding Refresh Request."""

    expired: list[BindingEntry]
    refresh: list[BindingEntry]


Prefix = tuple[bytes, int]


class BindingCache:
    """Bindings of one correspondent node or home agent.

    ``home_agent`` accepts home registrations (H flag); ``mobile_routers``
    accepts NEMO registrations (R flag) with prefixes checked against
    ``authorized_prefixes`` (home address -> prefixes it may claim; also the
    prefixes of implicit mode). Correspondent registrations get at most
    ``MAX_RR_BINDING_LIFETIME`` (§9.5.1), home registrations at most
    ``max_home_lifetime`` units. A binding used within ``refresh_advance``
    seconds of its expiry is reported by :meth:`poll` for a Binding Refresh
    Request.
    """

    def __init__(self, *, capacity: int = 1 << 20, home_agent: bool = False,
                 mobile_routers: bool = False,
                 authorized_prefixes: Mapping[bytes, Iterable[Prefix]] | None = None,
                 max_home_lifetime: int = 0xFFFF, refresh_advance: float = 20.0) -> None:
        self.capacity = capacity
        self.home_agent = home_agent
        self.mobile_routers = mobile_routers
        self.max_home_lifetime = max_home_lifetime
        self.max_correspondent_lifetime = MAX_RR_BINDING_LIFETIME // LIFETIME_UNIT
        self.refresh_advance = refresh_advance
        self._authorized = {h: {_prefix_key(p, n) for p, n in v}
                            for h, v in (authorized_prefixes or {}).items()}
        self._entries: dict[bytes, BindingEntry] = {}
        self._buckets: dict[int, list[bytes]] = {}
        self._deadlines: list[int] = []
        self._in_use: dict[bytes, float] = {}
        self._asked: set[bytes] = set()
        self._routes: dict[int, dict[int, bytes]] = {}
        self._lengths: list[int] = []
        self._prefixes: dict[bytes, tuple[tuple[int, int], ...]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[BindingEntry]:
        return iter(self._entries.values())

    def __repr__(self) -> str:
        return f"BindingCache({len(self._entries)} binding(s), capacity {self.capacity})"

    # -- lookups ---------------------------------------------------------------

    def lookup(self, home_address: bytes, now: float) -> BindingEntry | None:
        """The unexpired binding for ``home_address`` (§9.3.2), noting its use
        when it is close to expiry."""
        e = self._entries.get(home_address)
        if e is None:
            return None
        left = _EXPIRES(e)[0] - now
        if left <= 0:
            return None
        if left <= self.refresh_advance and home_address not in self._asked:
            self._in_use.setdefault(home_address, now)
        return e

    def route(self, destination: bytes, now: float) -> BindingEntry | None:
        """The binding to forward ``destination`` over: its own binding, else the
        mobile router owning the longest matching mobile network prefix
        (RFC 3963 §6.1)."""
        e = self.lookup(destination, now)
        if e is not None or not self._lengths:
            return e
        a = int.from_bytes(destination, "big")
        for n in self._lengths:
            owner = self._routes[n].get(a >> (128 - n))
            if owner is not None:
                return self.lookup(owner, now)
        return None

    def prefixes(self, home_address: bytes) -> list[Prefix]:
        """The mobile network prefixes bound to ``home_address``."""
        return [((k << (128 - n)).to_bytes(16, "big"), n)
                for k, n in self._prefixes.get(home_address, ())]

    # -- updates ---------------------------------------------------------------

    def update(self, bu: mh.BindingUpdate, *, home_address: bytes, care_of_address: bytes,
               now: float) -> Accepted:
        """Apply a Binding Update (already authorized by IPsec or Return
        Routability) and return what to acknowledge; raise
        :class:`BindingError` with the status to send otherwise.

        The tests run in the order of §10.3.1: first the validation of §9.5.1
        (sequence number, 135; registration type change, 139), then the home
        agent's own tests (131, 133; RFC 3963 §6.2 for mobile routers).
        """
        lifetime, entry = self.register(home_address, care_of_address, bu.sequence, bu.flags,
                                        bu.lifetime, now, bu.options)
        return Accepted(bu.sequence, lifetime, entry)

    def register(self, home_address: bytes, care_of_address: bytes, sequence: int, flags: int,
                 lifetime: int, now: float,
                 options: tuple[MobilityOption, ...] = ()) -> tuple[int, BindingEntry | None]:
        """:meth:`update` from the fields of a Binding Update as sent: its
        Sequence Number, flags word (§6.1.7, RFC 3963 §4.1) and Lifetime, and
        its options (read only for a mobile router's prefixes). Returns the
        granted lifetime and the entry stored (``None``: binding deleted), or
        raises :class:`BindingError` as :meth:`update` does."""
        if len(home_address) != 16 or len(care_of_address) != 16:
            raise UsageError("home and care-of addresses must be 16 octets")
        if not (0 <= sequence <= 0xFFFF and 0 <= flags <= 0xFFFF and 0 <= lifetime <= 0xFFFF):
            raise UsageError("sequence, flags and lifetime are 16-bit fields")
        home_registration = bool(flags & _BU_H)
        old = self._entries.get(home_address)
        if old is not None and _EXPIRES(old)[0] <= now:
            self._remove(home_address)
            old = None
        # §9.5.1 validation first (135, 139), then the home agent's tests of
        # §10.3.1 (131) and of RFC 3963 §6.2/§6.6 (140).
        if old is not None:
            last = old[40] << 8 | old[41]  # BindingEntry.sequence
            if not sequence_greater(sequence, last):
                raise BindingError(f"sequence number {sequence} is not greater than {last}",
                                   135, expected_sequence=last)
            if bool(old[44] & FLAG_H) != home_registration:
                raise BindingError("the H flag differs from the existing binding", 139)
        if home_registration and not self.home_agent:
            raise BindingError("home registration asked of a node that is not a home agent",
                               131)
        router = bool(flags & _BU_R)
        if router and not self.mobile_routers:
            if home_registration:  # RFC 3963 §6.6
                raise BindingError("mobile router operation not permitted", 140)
            router = False  # a Reserved bit to a node without NEMO (RFC 6275 §6.1.7)
        # §9.5.1: a zero Lifetime deletes; for a mobile router so does a care-of
        # address equal to the home address (RFC 3963 §6.2 keeps that RFC 3775 rule).
        dereg = lifetime == 0 or (router and care_of_address == home_address)
        if router and not home_registration:  # RFC 3963 §6.2
            raise BindingError("the mobile router (R) flag needs the H flag", 140)
        if old is not None and bool(old[44] & FLAG_R) != router and not dereg:  # RFC 3963 §6.2
            raise BindingError("the R flag differs from the existing binding", 139)
        if dereg:
            if old is None and home_registration:
                raise BindingError("no home registration exists for this home address", 133)
            self._remove(home_address)
            return 0, None
        routes = self._check_prefixes(options, home_address) if router else ()
        if old is None and len(self._entries) >= self.capacity:
            raise BindingError(f"binding cache full ({self.capacity} entries)", 130)
        cap = self.max_home_lifetime if home_registration else self.max_correspondent_lifetime
        granted = min(lifetime, cap)
        kept = flags >> 8 & (FLAG_A | FLAG_H | FLAG_L | FLAG_K | (FLAG_R if router else 0))
        expires = now + granted * LIFETIME_UNIT
        entry = BindingEntry(_RECORD.pack(expires, home_address, care_of_address, sequence,
                                          granted, kept))
        self._store(home_address, entry, expires)
        if router:
            self._set_prefixes(home_address, routes)
        return granted, entry

    def _check_prefixes(self, options: tuple[MobilityOption, ...],
                        home_address: bytes) -> tuple[tuple[int, int], ...]:
        allowed = self._authorized.get(home_address)
        opts = [o for o in options if isinstance(o, MobileNetworkPrefix)]
        if not opts:  # implicit mode (RFC 3963 §6.2)
            if not allowed:
                raise BindingError("implicit mode with no prefixes configured", 143)
            keys = tuple(sorted(allowed))
        else:
            found = []
            for o in opts:
                if not 0 < o.prefix_length <= 128:
                    raise BindingError(f"invalid prefix length {o.prefix_length}", 141)
                found.append(_prefix_key(o.prefix, o.prefix_length))
            keys = tuple(found)
        for k in keys:
            owner = self._routes.get(k[1], {}).get(k[0])
            if (allowed is not None and k not in allowed) or owner not in (None, home_address):
                raise BindingError("mobile router not authorized for this prefix", 142)
        return keys

    def _store(self, home_address: bytes, entry: BindingEntry, expires: float) -> None:
        self._entries[home_address] = entry
        if home_address in self._in_use:
            del self._in_use[home_address]
        self._asked.discard(home_address)
        key = math.ceil(expires)
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = [home_address]
            heapq.heappush(self._deadlines, key)
        else:
            bucket.append(home_address)

    def _set_prefixes(self, home_address: bytes, keys: tuple[tuple[int, int], ...]) -> None:
        self._drop_prefixes(home_address)
        for k, n in keys:
            if n not in self._routes:
                self._routes[n] = {}
                self._lengths = sorted(self._routes, reverse=True)
            self._routes[n][k] = home_address
        self._prefixes[home_address] = keys

    def _drop_prefixes(self, home_address: bytes) -> None:
        for k, n in self._prefixes.pop(home_address, ()):
            table = self._routes[n]
            del table[k]
            if not table:
                del self._routes[n]
                self._lengths = sorted(self._routes, reverse=True)

    def _remove(self, home_address: bytes) -> BindingEntry | None:
        self._in_use.pop(home_address, None)
        self._asked.discard(home_address)
        if home_address in self._prefixes:
            self._drop_prefixes(home_address)
        return self._entries.pop(home_address, None)

    # -- timers ----------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`poll` has work next (``None``: nothing scheduled)."""
        times = [float(self._deadlines[0])] if self._deadlines else []
        if self._in_use:
            times.append(min(self._in_use.values()))
        return min(times) if times else None

    def poll(self, now: float) -> Expiry:
        """Remove bindings expired at ``now`` and list those to refresh (§9.5.5)."""
        expired: list[BindingEntry] = []
        while self._deadlines and self._deadlines[0] <= now:
            for home in self._buckets.pop(heapq.heappop(self._deadlines)):
                e = self._entries.get(home)
                if e is not None and _EXPIRES(e)[0] <= now:
                    self._remove(home)
                    expired.append(e)
        refresh = []
        for home in self._in_use:
            e = self._entries.get(home)
            if e is not None:
                refresh.append(e)
                self._asked.add(home)
        self._in_use.clear()
        return Expiry(expired, refresh)


def _prefix_key(prefix: bytes, length: int) -> tuple[int, int]:
    if len(prefix) != 16 or not 0 < length <= 128:
        raise UsageError("a prefix is 16 octets with a length of 1 to 128")
    return int.from_bytes(prefix, "big") >> (128 - length), length
