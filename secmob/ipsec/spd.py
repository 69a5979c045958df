"""The Security Policy Database (RFC 4301 §4.4.1).

An :class:`SPD` is an ordered list of :class:`Entry` objects. Each entry has
a :class:`~secmob.ipsec.selectors.Selector`, the directions it applies to,
and an action (RFC 4301 §4.4.1): DISCARD, BYPASS, or PROTECT with an
:class:`SATemplate` saying how (ESP and/or AH, transport or tunnel mode,
tunnel endpoints, algorithms by name, ESN, and the "populate from packet"
flags of §4.4.1.2).

Order is the policy: :meth:`SPD.lookup` returns the *first* entry, in SPD
order, whose selectors match the packet (RFC 4301 §4.4.1: "the SPD is
ordered"). Entries are not decorrelated (RFC 4301 §4.4.1 makes decorrelation
optional); overlapping entries are resolved by their order, and
:mod:`secmob.ipsec.spd_index` answers first-match questions without a linear
scan. No match means the packet MUST be discarded (RFC 4301 §5);
:meth:`SPD.check` raises :class:`~secmob.errors.PolicyViolation` for that
and for DISCARD.

Algorithm names in a template are kept as given (e.g. ``"aes128gcm16"``,
``"sha256"``); they are resolved against the algorithm registries when an SA
is built from the template, not here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from secmob.errors import PolicyViolation, UsageError
from secmob.ipsec.common import Mode
from secmob.ipsec.selectors import (
    AddressSet,
    Direction,
    IPAddress,
    Selector,
    Traffic,
    addresses,
)
from secmob.ipsec.spd_index import PolicyIndex, Slot

__all__ = ["BOTH", "SPD", "Action", "Entry", "Mode", "PopulateFromPacket", "SATemplate"]

#: Both directions, for entries whose local/remote selectors apply either way.
BOTH = frozenset({Direction.OUTBOUND, Direction.INBOUND})
_GAP = 1 << 20


class Action(enum.Enum):
    """The three processing choices of RFC 4301 §4.4.1."""

    DISCARD = "discard"
    BYPASS = "bypass"
    PROTECT = "protect"


@dataclass(frozen=True)
class PopulateFromPacket:
    """PFP flags (RFC 4301 §4.4.1.2): take an SA selector from the packet that
    triggered the SA instead of from the SPD entry."""

    local_address: bool = False
    remote_address: bool = False
    protocol: bool = False
    local_port: bool = False
    remote_port: bool = False


@dataclass(frozen=True)
class SATemplate:
    """How a PROTECT entry protects its traffic (RFC 4301 §4.4.1.2).

    ``protocols`` lists ``"esp"`` and/or ``"ah"``; with both, ESP is applied
    first and AH outside it. Tunnel mode needs both tunnel endpoints (one
    family; it may differ from the inner family); transport mode has none.
    """

    protocols: tuple[str, ...] = ("esp",)
    mode: Mode = Mode.TRANSPORT
    tunnel_local: IPAddress | None = None
    tunnel_remote: IPAddress | None = None
    encryption: str | None = None
    integrity: str | None = None
    esn: bool = False
    reqid: int = 0
    pfp: PopulateFromPacket = field(default_factory=PopulateFromPacket)

    def __post_init__(self) -> None:
        protocols = tuple(p.lower() for p in self.protocols)
        if not protocols or set(protocols) - {"esp", "ah"} or len(set(protocols)) != len(
            protocols
        ):
            raise UsageError(
                f"SA template protocols must be 'esp', 'ah' or both, not {self.protocols!r}"
            )
        object.__setattr__(self, "protocols", tuple(p for p in ("esp", "ah") if p in protocols))
        if self.mode is Mode.TUNNEL:
            ends = []
            for name in ("tunnel_local", "tunnel_remote"):
                value = getattr(self, name)
                sel = addresses(value) if value is not None else None
                if not isinstance(sel, AddressSet) or sel.ranges[0][0] != sel.ranges[-1][1]:
                    raise UsageError(f"tunnel mode needs a single {name} address, got {value!r}")
                ends.append(sel)
                object.__setattr__(self, name, next(iter(sel.networks())).network_address)
            if ends[0].version != ends[1].version:
                raise UsageError("tunnel endpoints mix IPv4 and IPv6")
        elif self.tunnel_local is not None or self.tunnel_remote is not None:
            raise UsageError("tunnel endpoints are only meaningful in tunnel mode")
        if not 0 <= self.reqid <= 0xFFFFFFFF:
            raise UsageError(f"reqid {self.reqid} is out of range 0..2^32-1")
        if "esp" not in self.protocols and self.encryption is not None:
            raise UsageError("an encryption algorithm needs ESP in the template")


@dataclass(frozen=True, eq=False)
class Entry:
    """One SPD entry (RFC 4301 §4.4.1.2). Identity, not value, names an entry."""

    selector: Selector
    action: Action
    template: SATemplate | None = None
    directions: frozenset[Direction] = BOTH
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.directions, Direction):
            object.__setattr__(self, "directions", frozenset({self.directions}))
        if not self.directions:
            raise UsageError("an SPD entry must apply to at least one direction")
        if (self.action is Action.PROTECT) != (self.template is not None):
            raise UsageError("PROTECT entries need an SA template, and only they take one")

    def sa_selector(self, traffic: Traffic) -> Selector:
        """Selectors for an SA created from this entry for ``traffic`` (RFC 4301
        §4.4.1.2): each PFP field comes from the packet, the others from the entry."""
        pfp = self.template.pfp if self.template is not None else PopulateFromPacket()
        sel = self.selector

        return Selector.make(
            traffic.local if pfp.local_address else sel.local,
            traffic.remote if pfp.remote_address else sel.remote,
            traffic.protocol if pfp.protocol else sel.protocol,
            local_port=traffic.local_port if pfp.local_port else sel.local_port,
            remote_port=traffic.remote_port if pfp.remote_port else sel.remote_port,
            icmp_type=sel.icmp_type,
            icmp_code=sel.icmp_code,
            local_mh_type=sel.local_mh_type,
            remote_mh_type=sel.remote_mh_type,
        )


class _Item:
    __slots__ = ("entry", "key", "slots")

    def __init__(self, entry: Entry, key: int) -> None:
        self.entry = entry
        self.key = key
        self.slots: tuple[tuple[Direction, Slot], ...] = ()  # a tuple: 100,000s of these


class SPD:
    """An ordered Security Policy Database with indexed first-match lookup.

    ``generation`` counts changes (insertions and removals), so that callers
    caching lookup results (the engine's flow cache) know when to drop them.
    """

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self.generation = 0
        self._items: list[_Item] = []
        self._where: dict[int, _Item] = {}
        self._index = {d: PolicyIndex(d) for d in Direction}
        for entry in entries or ():
            self.append(entry)

    # -- order -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Entry]:
        return (item.entry for item in self._items)

    def __getitem__(self, position: int) -> Entry:
        return self._items[position].entry

    def index(self, entry: Entry) -> int:
        """Position of ``entry`` in the SPD order."""
        item = self._item(entry)
        return self._items.index(item)

    def append(self, entry: Entry) -> Entry:
        """Add ``entry`` after every existing entry (lowest precedence)."""
        return self.insert(len(self._items), entry)

    def insert(self, position: int, entry: Entry) -> Entry:
        """Add ``entry`` so that it becomes entry number ``position`` (0 = first)."""
        if not isinstance(entry, Entry):
            raise UsageError(f"an SPD holds Entry objects, not {type(entry).__name__}")
        if id(entry) in self._where:
            raise UsageError(f"entry {entry.name or entry!r} is already in this SPD")
        if not 0 <= position <= len(self._items):
            raise UsageError(f"position {position} is outside 0..{len(self._items)}")
        before = self._items[position - 1].key if position else 0
        after = self._items[position].key if position < len(self._items) else before + 2 * _GAP
        if after - before < 2:
            self._renumber()
            before = self._items[position - 1].key if position else 0
            after = self._items[position].key if position < len(self._items) else before + 2 * _GAP
        item = _Item(entry, (before + after) // 2)
        self._items.insert(position, item)
        self._where[id(entry)] = item
        item.slots = tuple((direction, self._index[direction].add(item.key, entry, entry.selector))
                           for direction in entry.directions)
        self.generation += 1
        return entry

    def remove(self, entry: Entry) -> None:
        """Take ``entry`` out of the SPD."""
        item = self._item(entry)
        for direction, slot in item.slots:
            self._index[direction].remove(slot, entry.selector)
        self._items.remove(item)
        del self._where[id(entry)]
        self.generation += 1

    def _item(self, entry: Entry) -> _Item:
        try:
            return self._where[id(entry)]
        except KeyError:
            raise UsageError(f"entry {entry.name or entry!r} is not in this SPD") from None

    def _renumber(self) -> None:
        for n, item in enumerate(self._items, start=1):
            item.key = n * _GAP
            for _, slot in item.slots:
                slot.key = item.key
        for index in self._index.values():
            index.refloor()

    # -- lookup ------------------------------------------------------------
    def lookup(self, direction: Direction, traffic: Traffic) -> Entry | None:
        """The first entry in SPD order matching ``traffic`` in ``direction``, or None."""
        slot = self._index[direction].lookup(traffic)
        return None if slot is None else slot.entry  # type: ignore[return-value]

    def lookup_naive(self, direction: Direction, traffic: Traffic) -> Entry | None:
        """The same answer as :meth:`lookup` by scanning every entry in order."""
        for item in self._items:
            entry = item.entry
            if direction in entry.directions and entry.selector.matches(traffic, direction):
                return entry
        return None

    def check(self, direction: Direction, traffic: Traffic) -> Entry:
        """The matching BYPASS or PROTECT entry; raises
        :class:`~secmob.errors.PolicyViolation` when the packet must be
        discarded: no entry matches (RFC 4301 §5) or the entry says DISCARD."""
        entry = self.lookup(direction, traffic)
        if entry is None:
            raise PolicyViolation(
                f"no SPD entry matches {direction.value}bound traffic "
                f"{traffic.local} <-> {traffic.remote}; discarded (RFC 4301 §5)"
            )
        if entry.action is Action.DISCARD:
            raise PolicyViolation(
                f"SPD entry {entry.name or self.index(entry)} discards "
                f"{direction.value}bound traffic {traffic.local} <-> {traffic.remote}"
            )
        return entry

