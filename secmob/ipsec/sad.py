"""The Security Association Database (RFC 4301 §4.4.2).

A :class:`SecurityAssociation` holds everything ESP or AH needs to protect
or check one direction of traffic: the SPI, the protocol, the mode and
tunnel endpoints, the algorithms with their keyed contexts (created once),
the sequence number counter or the anti-replay window, and the lifetimes
with their counters (RFC 4301 §4.4.2.1). Time never comes from a clock:
every method that needs it takes ``now`` (seconds, any epoch, as long as the
caller is consistent).

The :class:`SAD` finds the SA of an inbound packet by SPI, destination and
protocol with the longest-match rule of RFC 4301 §4.1, and the SA bundle of
outbound traffic by the SPD entry (any hashable reference) it belongs to.

Lifetimes: crossing a *soft* limit queues one :class:`LifetimeEvent`
(collect it with :meth:`SecurityAssociation.take_events`, or from the
``events`` of an inbound result) so that the caller can rekey; reaching a
*hard* limit raises :class:`~secmob.errors.SAExpired` and the SA stays
unusable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from secmob.algorithms.base import (
    CipherAlgorithm,
    CipherContext,
    IntegrityAlgorithm,
    IntegrityContext,
)
from secmob.algorithms.esp_layout import counter_iv, pad_alignment
from secmob.errors import SAExpired, SequenceOverflow, UnknownSPI, UsageError
from secmob.ipsec.common import Direction, Mode
from secmob.ipsec.replay import ReplayWindow
from secmob.trace import Tracer

__all__ = [
    "SAD",
    "Address",
    "Direction",
    "Lifetime",
    "LifetimeEvent",
    "Lookup",
    "Mode",
    "Protocol",
    "SABundle",
    "SecurityAssociation",
    "inbound_sa",
    "packed_address",
]

Address = str | bytes | ipaddress.IPv4Address | ipaddress.IPv6Address


class Protocol(IntEnum):
    """IPsec protocol, by IP protocol number."""

    ESP = 50
    AH = 51


class Lookup(Enum):
    """Which fields select an inbound SA (RFC 4301 §4.1, §4.4.2 "SAD lookup")."""

    SPI = "spi"  #: unicast: the SPI (with the protocol) alone
    SPI_DST = "spi+dst"  #: SPI and destination (multicast)
    SPI_DST_SRC = "spi+dst+src"  #: SPI, destination and source (source-specific multicast)


def packed_address(addr: Address) -> bytes:
    """An IPv4 or IPv6 address as its 4 or 16 network-order octets."""
    if isinstance(addr, bytes):
        if len(addr) not in (4, 16):
            raise UsageError(f"an address has 4 or 16 octets, got {len(addr)}")
        return addr
    try:
        return ipaddress.ip_address(addr).packed
    except ValueError:
        raise UsageError(f"not an IPv4 or IPv6 address: {addr!r}") from None


def _show(packed: bytes | None) -> str:
    return "-" if packed is None else str(ipaddress.ip_address(packed))


@dataclass(frozen=True, slots=True)
class Lifetime:
    """Soft and hard limits of an SA in seconds, octets and packets (RFC 4301 §4.4.2.1).

    ``None`` means no limit. A soft limit must not exceed its hard limit.
    Octets are counted over the payload handed to (or released by) ESP or
    AH, i.e. the data the cryptographic algorithm protects.
    """

    soft_seconds: float | None = None
    hard_seconds: float | None = None
    soft_bytes: int | None = None
    hard_bytes: int | None = None
    soft_packets: int | None = None
    hard_packets: int | None = None

    def __post_init__(self) -> None:
        for kind in ("seconds", "bytes", "packets"):
            soft, hard = getattr(self, f"soft_{kind}"), getattr(self, f"hard_{kind}")
            for v in (soft, hard):
                if v is not None and v < 0:
                    raise UsageError(f"lifetime limits must not be negative, got {v!r}")
            if soft is not None and hard is not None and soft > hard:
                raise UsageError(f"soft {kind} lifetime {soft} exceeds the hard one {hard}")


_NO_LIMITS = Lifetime()
_ENCR_NULL = 11  # IKEv2 transform type 1 id of ENCR_NULL (RFC 2410)


@dataclass(frozen=True, slots=True)
class LifetimeEvent:
    """The soft lifetime of an SA ran out (``limit``: "seconds", "bytes" or "packets")."""

    spi: int
    protocol: Protocol
    limit: str
    kind: str = "soft"


class SecurityAssociation:
    """One SAD entry (RFC 4301 §4.4.2.1).

    ``cipher``/``cipher_key`` (``key || salt``) are required for ESP; AH
    uses only ``integrity``/``integrity_key``. Combined-mode ciphers take no
    separate integrity. ``replay_window`` is the anti-replay window of an
    inbound SA in packets (0 disables it); ``esn`` selects 64-bit Extended
    Sequence Numbers. ``policy`` is a reference to the SPD entry (or
    selectors) that inbound traffic must match after processing (RFC 4301
    §5.2 step 4); secmob stores it and does not interpret it.

    The keyed contexts are made once here (with ``tracer``, if given, so that
    their steps are recorded); ``repr`` never shows a key.
    """

    __slots__ = (
        "_events",
        "_lifetime",
        "_unlimited",
        "auth_failures",
        "cipher",
        "cipher_ctx",
        "created",
        "destination",
        "direction",
        "esn",
        "esp_layout",
        "expired",
        "fast_path",
        "icv_size",
        "integrity",
        "integrity_ctx",
        "lookup",
        "mode",
        "octets",
        "packets",
        "policy",
        "protocol",
        "replay",
        "replay_drops",
        "seq_out",
        "soft_expired",
        "source",
        "spi",
        "tunnel_destination",
        "tunnel_source",
    )

    def __init__(
        self,
        spi: int,
        protocol: Protocol = Protocol.ESP,
        *,
        direction: Direction = Direction.INBOUND,
        source: Address | None = None,
        destination: Address | None = None,
        mode: Mode = Mode.TRANSPORT,
        tunnel_source: Address | None = None,
        tunnel_destination: Address | None = None,
        cipher: CipherAlgorithm | None = None,
        cipher_key: bytes = b"",
        integrity: IntegrityAlgorithm | None = None,
        integrity_key: bytes = b"",
        esn: bool = False,
        replay_window: int = 64,
        lifetime: Lifetime = _NO_LIMITS,
        now: float = 0.0,
        policy: Hashable = None,
        lookup: Lookup = Lookup.SPI,
        tracer: Tracer | None = None,
    ) -> None:
        if not 256 <= spi < 1 << 32:
            # RFC 4301 §4.1: SPIs 1-255 are reserved by IANA, 0 is local only.
            raise UsageError(f"SPI must be a 32-bit value of at least 256, got {spi!r}")
        self.spi = spi
        self.protocol = Protocol(protocol)
        self.direction = direction
        self.mode = mode
        self.source = None if source is None else packed_address(source)
        self.destination = None if destination is None else packed_address(destination)
        self.tunnel_source = None if tunnel_source is None else packed_address(tunnel_source)
        self.tunnel_destination = (
            None if tunnel_destination is None else packed_address(tunnel_destination)
        )
        if mode is Mode.TUNNEL and (self.tunnel_source is None or self.tunnel_destination is None):
            raise UsageError("a tunnel-mode SA needs tunnel_source and tunnel_destination")
        if lookup is not Lookup.SPI and self.destination is None:
            raise UsageError(f"lookup {lookup.value!r} needs the destination address")
        if lookup is Lookup.SPI_DST_SRC and self.source is None:
            raise UsageError(f"lookup {lookup.value!r} needs the source address")
        self.lookup = lookup
        self.cipher, self.integrity = cipher, integrity
        self.cipher_ctx: CipherContext | None = None
        self.integrity_ctx: IntegrityContext | None = None
        if self.protocol is Protocol.ESP:
            if cipher is None:
                raise UsageError("an ESP SA needs a cipher (ENCR_NULL for integrity only)")
            if cipher.aead and integrity is not None:
                raise UsageError(f"{cipher.name} is a combined mode; give no separate integrity")
            if cipher.ikev2_id == _ENCR_NULL and integrity is None:
                raise UsageError("ESP with ENCR_NULL needs an integrity algorithm (RFC 4303 §3.2)")
            self.cipher_ctx = cipher.new(cipher_key, tracer)
        elif cipher is not None:
            raise UsageError("an AH SA takes no cipher")
        elif integrity is None:
            raise UsageError("an AH SA needs an integrity algorithm")
        if integrity is not None:
            self.integrity_ctx = integrity.new(integrity_key, tracer)
        authenticated = integrity is not None or (cipher is not None and cipher.aead)
        if replay_window and not authenticated:
            raise UsageError(
                "anti-replay needs integrity (RFC 4303 §3.4.3); use replay_window=0"
            )
        self.esn = esn
        self.replay = ReplayWindow(replay_window if direction is Direction.INBOUND else 0,
                                   esn=esn)
        self.seq_out = 0
        self._lifetime = lifetime
        #: Octets of ICV: the combined mode's tag, or the integrity transform's.
        self.icv_size = (cipher.icv_size if cipher is not None and cipher.aead else
                         0 if integrity is None else integrity.icv_size)
        self._unlimited = lifetime == _NO_LIMITS
        #: For ESP: (combined mode?, IV octets, counter-based IV?, padding alignment),
        #: fixed by the cipher (RFC 4303 §2.3, §2.4); ``None`` for AH.
        self.esp_layout: tuple[bool, int, bool, int] | None = None
        if cipher is not None:
            align = pad_alignment(cipher)
            if align > 16:  # the ESP ciphers' blocks are at most 16 octets (RFC 4303 §2.4)
                raise UsageError(f"{cipher.name}: ESP padding to {align} octets is not "
                                 "supported (cipher blocks of at most 16 octets)")
            self.esp_layout = (cipher.aead, cipher.iv_size, counter_iv(cipher), align)
        self.created = now
        self.octets = 0
        self.packets = 0
        self.auth_failures = 0
        self.replay_drops = 0
        self.soft_expired = False
        self.expired = False
        self._events: list[LifetimeEvent] | None = None
        self.policy = policy
        #: The per-packet function :mod:`secmob.ipsec.esp` or :mod:`secmob.ipsec.ah`
        #: builds for this SA on first use (its untraced common case); ``None`` before.
        self.fast_path: Callable[..., Any] | None = None

    @property
    def lifetime(self) -> Lifetime:
        """The soft and hard limits (RFC 4301 §4.4.2.1). Assigning new limits
        (e.g. after a peer's RESPONDER-LIFETIME) takes effect on the next packet."""
        return self._lifetime

    @lifetime.setter
    def lifetime(self, value: Lifetime) -> None:
        self._lifetime = value
        self._unlimited = value == _NO_LIMITS
        self.fast_path = None  # per-packet paths capture whether limits exist

    def __repr__(self) -> str:
        algs = "/".join(a.name for a in (self.cipher, self.integrity) if a is not None)
        esn = " esn" if self.esn else ""
        return (
            f"<SecurityAssociation {self.protocol.name} SPI 0x{self.spi:08x} "
            f"{self.direction.name.lower()} {self.mode.value} {_show(self.source)} -> "
            f"{_show(self.destination)} {algs}{esn} (keys hidden)>"
        )

    # -- sequence numbers (RFC 4303 §3.3.3, RFC 4302 §3.3.2) -------------------

    def next_sequence(self) -> int:
        """Advance the outbound counter and return the full sequence number to send.

        The counter never cycles: once 2^32 - 1 (2^64 - 1 with ESN) was sent,
        :class:`~secmob.errors.SequenceOverflow` is raised and a new SA is needed.
        """
        if self.direction is not Direction.OUTBOUND:
            raise UsageError("sequence numbers are generated on outbound SAs only")
        limit = (1 << 64) - 1 if self.esn else (1 << 32) - 1
        if self.seq_out >= limit:
            raise SequenceOverflow(
                f"SPI 0x{self.spi:08x}: sequence number counter reached {limit}; "
                "establish a new SA (RFC 4303 §3.3.3)"
            )
        self.seq_out += 1
        return self.seq_out

    def advance(self, octets: int, now: float) -> int:
        """Send one packet of ``octets`` on this outbound SA: the one place
        where the counter moves and the packet is counted.

        In order: :class:`~secmob.errors.SequenceOverflow` if the counter is
        exhausted (before it moves), then the next full sequence number, then
        :meth:`account` (which may raise :class:`SAExpired` or queue a soft
        event). Returns the full (64-bit with ESN) sequence number. The
        direction is not checked here; the callers have done it.
        """
        full = self.seq_out
        if full >= (0xFFFFFFFFFFFFFFFF if self.esn else 0xFFFFFFFF):
            self.next_sequence()  # raises SequenceOverflow (RFC 4303 §3.3.3)
        self.seq_out = full = full + 1
        if self._unlimited and not self.expired:  # what account() does, inline
            self.packets += 1
            self.octets += octets
        else:
            self.account(octets, now)
        return full

    # -- lifetimes (RFC 4301 §4.4.2.1) ------------------------------------------

    def _expire(self, why: str) -> SAExpired:
        self.expired = True
        return SAExpired(f"SPI 0x{self.spi:08x}: hard lifetime reached ({why}); rekey")

    def _soft(self, limit: str) -> None:
        if not self.soft_expired:
            self.soft_expired = True
            if self._events is None:
                self._events = []
            self._events.append(LifetimeEvent(self.spi, self.protocol, limit))

    def check_alive(self, now: float) -> None:
        """Raise :class:`~secmob.errors.SAExpired` if the SA is dead or its hard
        time ran out; queue the soft time event when due."""
        if self.expired:
            raise SAExpired(f"SPI 0x{self.spi:08x}: SA has expired")
        if self._unlimited:
            return
        lt = self.lifetime
        age = now - self.created
        if lt.hard_seconds is not None and age >= lt.hard_seconds:
            raise self._expire(f"{lt.hard_seconds} s")
        if lt.soft_seconds is not None and age >= lt.soft_seconds:
            self._soft("seconds")

    def account(self, octets: int, now: float) -> None:
        """Count one packet of ``octets``; raise :class:`SAExpired` when this
        exceeds a hard limit (the packet is then not to be used), queue a
        soft event when a soft limit is reached."""
        if self._unlimited and not self.expired:  # the per-packet common case
            self.packets += 1
            self.octets += octets
            return
        self.check_alive(now)
        lt = self.lifetime
        packets, total = self.packets + 1, self.octets + octets
        if lt.hard_packets is not None and packets > lt.hard_packets:
            raise self._expire(f"{lt.hard_packets} packets")
        if lt.hard_bytes is not None and total > lt.hard_bytes:
            raise self._expire(f"{lt.hard_bytes} octets")
        self.packets, self.octets = packets, total
        if lt.soft_packets is not None and packets >= lt.soft_packets:
            self._soft("packets")
        if lt.soft_bytes is not None and total >= lt.soft_bytes:
            self._soft("bytes")

    def received(self, octets: int, now: float) -> tuple[LifetimeEvent, ...]:
        """Count one authenticated inbound packet of ``octets`` (:meth:`account`)
        and return the queued lifetime events."""
        if self._unlimited and not self.expired:  # what account() does, inline
            self.packets += 1
            self.octets += octets
            return ()
        self.account(octets, now)
        return self.take_events()

    def take_events(self) -> tuple[LifetimeEvent, ...]:
        """Return and clear the queued lifetime events."""
        events, self._events = self._events, None
        return () if events is None else tuple(events)


@dataclass(frozen=True, slots=True)
class SABundle:
    """SAs applied together to outbound traffic, innermost first (RFC 4301 §4.5).

    The usual bundle is ESP then AH (AH outermost, protecting the ESP packet).
    """

    sas: tuple[SecurityAssociation, ...]

    def __post_init__(self) -> None:
        if not self.sas:
            raise UsageError("an SA bundle needs at least one SA")
        if any(sa.direction is not Direction.OUTBOUND for sa in self.sas):
            raise UsageError("an outbound SA bundle holds outbound SAs only")
        if len({id(sa) for sa in self.sas}) != len(self.sas):
            raise UsageError("an SA appears twice in the bundle")
        kinds = [sa.protocol for sa in self.sas]
        if kinds == [Protocol.AH, Protocol.ESP]:
            raise UsageError("in an AH+ESP bundle ESP is applied first, then AH (RFC 4301 §4.5)")

    def __iter__(self) -> Iterator[SecurityAssociation]:
        return iter(self.sas)


_Key = tuple[int, int, bytes | None, bytes | None]


class SAD:
    """Inbound SAs by SPI (RFC 4301 §4.1 matching) and outbound bundles by policy."""

    __slots__ = ("_by_dst", "_by_dst_src", "_by_spi", "_inbound", "_outbound", "generation")

    def __init__(self) -> None:
        # One table per Lookup kind; keys are (spi, protocol, dst, src).
        self._inbound: dict[Lookup, dict[_Key, SecurityAssociation]] = {k: {} for k in Lookup}
        # The same tables by name, for the per-packet lookup (no Enum hashing).
        self._by_spi = self._inbound[Lookup.SPI]
        self._by_dst = self._inbound[Lookup.SPI_DST]
        self._by_dst_src = self._inbound[Lookup.SPI_DST_SRC]
        self._outbound: dict[Hashable, SABundle] = {}
        #: Incremented whenever an outbound bundle is bound or removed (caches
        #: of :meth:`outbound` results compare it).
        self.generation = 0

    @staticmethod
    def _key(sa: SecurityAssociation) -> _Key:
        dst = sa.destination if sa.lookup is not Lookup.SPI else None
        src = sa.source if sa.lookup is Lookup.SPI_DST_SRC else None
        return (sa.spi, int(sa.protocol), dst, src)

    def insert(self, sa: SecurityAssociation) -> None:
        """Add an inbound SA; :class:`UsageError` if its lookup key is taken."""
        if sa.direction is not Direction.INBOUND:
            raise UsageError("insert() takes inbound SAs; use insert_bundle() for outbound")
        table, key = self._inbound[sa.lookup], self._key(sa)
        if key in table:
            raise UsageError(f"an SA with SPI 0x{sa.spi:08x} and the same lookup key exists")
        table[key] = sa

    def remove(self, sa: SecurityAssociation) -> None:
        """Remove an inbound SA (:class:`UnknownSPI` if it is not there)."""
        table, key = self._inbound[sa.lookup], self._key(sa)
        if table.get(key) is not sa:
            raise UnknownSPI(sa.spi)
        del table[key]

    def lookup(self, spi: int, destination: Address | None = None,
               protocol: Protocol = Protocol.ESP, source: Address | None = None,
               ) -> SecurityAssociation:
        """The inbound SA for a packet (RFC 4301 §4.1).

        Tried in order, the first match wins (longest match): SPI +
        destination + source, then SPI + destination, then SPI alone (each
        together with the protocol: AH and ESP have separate SPI spaces).
        Raises :class:`~secmob.errors.UnknownSPI` when nothing matches.
        """
        return self.find(spi, int(protocol),
                         None if destination is None else packed_address(destination),
                         None if source is None else packed_address(source))

    def find(self, spi: int, protocol: int, destination: bytes | None,
             source: bytes | None) -> SecurityAssociation:
        """:meth:`lookup` with the protocol number and the addresses as the
        packet carries them (4 or 16 octets, or ``None``), unconverted."""
        if destination is not None:
            if source is not None and self._by_dst_src:
                sa = self._by_dst_src.get((spi, protocol, destination, source))
                if sa is not None:
                    return sa
            if self._by_dst:
                sa = self._by_dst.get((spi, protocol, destination, None))
                if sa is not None:
                    return sa
        sa = self._by_spi.get((spi, protocol, None, None))
        if sa is None:
            raise UnknownSPI(spi, f"no {Protocol(protocol).name} security association for "
                                  f"SPI 0x{spi:08x} (destination {_show(destination)})")
        return sa

    def insert_bundle(self, policy: Hashable, bundle: SABundle | SecurityAssociation) -> None:
        """Bind outbound SAs to the SPD entry ``policy`` (replacing an older bundle)."""
        self._outbound[policy] = bundle if isinstance(bundle, SABundle) else SABundle((bundle,))
        self.generation += 1

    def outbound(self, policy: Hashable) -> SABundle | None:
        """The bundle for ``policy``, or ``None`` when one has to be negotiated."""
        return self._outbound.get(policy)

    def remove_bundle(self, policy: Hashable) -> None:
        self._outbound.pop(policy, None)
        self.generation += 1

    def __len__(self) -> int:
        return sum(len(t) for t in self._inbound.values()) + len(self._outbound)

    def __iter__(self) -> Iterator[SecurityAssociation]:
        """Every inbound SA, then every SA of every outbound bundle."""
        for table in self._inbound.values():
            yield from table.values()
        for bundle in self._outbound.values():
            yield from bundle.sas

    def expire(self, now: float) -> list[SecurityAssociation]:
        """Remove and return every inbound SA whose hard lifetime is over at ``now``."""
        dead: list[SecurityAssociation] = []
        for table in self._inbound.values():
            for key, sa in list(table.items()):
                try:
                    sa.check_alive(now)
                except SAExpired:
                    dead.append(sa)
                    del table[key]
        return dead


def inbound_sa(sad_or_sa: SAD | SecurityAssociation, spi: int, protocol: Protocol,
               destination: Address | None = None, source: Address | None = None,
               ) -> SecurityAssociation:
    """The inbound SA a packet with ``spi`` belongs to (RFC 4301 §4.1, §5.2 step 3a).

    ``sad_or_sa`` is a :class:`SAD` to search, or one SA the caller already
    chose, which must then carry this SPI and protocol. Raises
    :class:`~secmob.errors.UnknownSPI` otherwise, and
    :class:`~secmob.errors.UsageError` if the SA found is not inbound.
    """
    if isinstance(sad_or_sa, SAD):
        sa = sad_or_sa.lookup(spi, destination, protocol, source)
    elif sad_or_sa.spi != spi or sad_or_sa.protocol is not protocol:
        raise UnknownSPI(spi, f"packet has {protocol.name} SPI 0x{spi:08x}; the given SA is "
                              f"{sad_or_sa.protocol.name} SPI 0x{sad_or_sa.spi:08x}")
    else:
        sa = sad_or_sa
    if sa.direction is not Direction.INBOUND:
        raise UsageError(f"inbound processing needs an inbound SA, got {sa!r}")
    return sa
