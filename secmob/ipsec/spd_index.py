"""The lookup structure behind the ordered SPD (RFC 4301 §4.4.1).

RFC 4301 lets an implementation keep the SPD ordered and return the first
matching entry; decorrelation is optional. This index keeps that exact
first-match answer without scanning every entry:

* Entries carry a sort key that follows the SPD order (:class:`Slot.key`).
* Per address family, each address selector is mapped to *blocks*: aligned
  prefixes at one of a few fixed lengths (the *levels*; IPv4 0/8/16/24/32,
  IPv6 0/16/32/48/64/96/112/128). The finest level at which the selector's
  ranges touch at most :data:`MAX_BLOCKS` blocks is used; ANY is the single
  block of level 0.
* Entries sharing a (local level, remote level) pair form a group: a hash
  table from (local block, remote block) to the slots there, in SPD order.
  A lookup shifts the packet's two addresses by the group's levels, probes
  one bucket per group, and checks each slot (addresses exactly, then
  protocol, ports, ICMP and MH type) until the first match.
* Groups are visited by the lowest key they hold; a group whose lowest key
  is not below the best match found so far is skipped, and a bucket stops at
  the first slot whose key is not below it. The minimum key over all groups is
  therefore the first match in SPD order.
* A slot whose address ranges are exactly its blocks and whose protocol is
  ANY (a plain :class:`Slot`) needs no test at all: being in the bucket is
  the match. Any other slot is a :class:`CheckedSlot` holding only the
  selector values its bucket does not decide (unaligned address ranges,
  protocol, ports, ICMP type/code, MH type). A bucket with one slot holds it
  directly, without a list.

The work of a lookup is the number of non-empty groups (at most 25 for IPv4,
64 for IPv6, a handful in practice) times a short bucket walk, and does not
grow with the number of entries while buckets stay short. A bucket grows when
many entries share one pair of address blocks (hundreds of port policies
between the same two hosts, or many small ranges inside one /24); its walk is
then linear in those entries.

What does grow with the SPD is where that work reads memory: a hit reads the
group's hash table (its index and entry arrays and the stored key), the slot,
the slot's sort key and the entry, and with 100,000 entries those are rarely
in the CPU caches. Slots therefore keep their test values in their own
attributes (one object to read) instead of closures over cells.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, TypeVar

from secmob.ipsec.selectors import (
    ANY,
    OPAQUE,
    AddressSet,
    Direction,
    Selector,
    Special,
    Traffic,
)

__all__ = ["LEVELS", "MAX_BLOCKS", "CheckedSlot", "FamilyIndex", "PolicyIndex", "Slot",
           "make_slot"]

#: Prefix lengths at which address selectors are indexed, per IP version.
LEVELS: dict[int, tuple[int, ...]] = {
    4: (32, 24, 16, 8, 0),
    6: (128, 112, 96, 64, 48, 32, 16, 0),
}
#: Most blocks one address selector may be split into before a coarser level is used.
MAX_BLOCKS = 8
_BITS = {4: 32, 6: 128}

Range2: TypeAlias = tuple[int, int]
_T = TypeVar("_T")


class Slot:
    """One SPD entry as seen by one direction's index.

    A plain :class:`Slot` is matched by its bucket alone: its address
    selectors are exactly its blocks and every other selector is ANY.
    """

    __slots__ = ("entry", "key")

    def __init__(self, key: int, entry: object) -> None:
        self.key = key
        self.entry = entry

    def matches(self, lv: int, rv: int, traffic: Traffic) -> bool:
        """Whether a packet of this slot's bucket matches: always, for a plain slot."""
        return True


class CheckedSlot(Slot):
    """A slot whose bucket is not the whole answer: it tests the selectors the
    bucket does not decide, with the rules of :meth:`Selector.matches`.

    The selector values are held by the slot itself (None for a selector that
    needs no test) rather than by a chain of closures: with 100,000 entries
    the index no longer fits in the CPU caches, and each further object a
    lookup reads (function, cell, tuple, int) is one more memory access.
    """

    __slots__ = ("icmp_code", "icmp_type", "local_port", "local_ranges", "mh_type",
                 "protocol", "remote_port", "remote_ranges")

    def __init__(self, key: int, entry: object, selector: Selector, direction: Direction,
                 local_ranges: tuple[Range2, ...] | None,
                 remote_ranges: tuple[Range2, ...] | None) -> None:
        super().__init__(key, entry)
        self.local_ranges = local_ranges
        self.remote_ranges = remote_ranges
        self.protocol = _tested(selector.protocol)
        self.local_port = _tested(selector.local_port)
        self.remote_port = _tested(selector.remote_port)
        self.icmp_type = _tested(selector.icmp_type)
        self.icmp_code = _tested(selector.icmp_code)
        self.mh_type = _tested(selector.local_mh_type if direction is Direction.OUTBOUND
                               else selector.remote_mh_type)

    def matches(self, lv: int, rv: int, traffic: Traffic) -> bool:
        """:meth:`Selector.matches` for a packet of this slot's bucket. A literal
        value never equals OPAQUE, and OPAQUE equals only itself (identity).
        Where :meth:`Selector.matches` stops early (OPAQUE protocol or ICMP type)
        every later selector is ANY, so testing on gives the same answer."""
        ranges = self.local_ranges
        if ranges is not None and not _within(lv, ranges):
            return False
        ranges = self.remote_ranges
        if ranges is not None and not _within(rv, ranges):
            return False
        value = self.protocol
        if value is not None and traffic.protocol != value:
            return False
        ports = self.local_port
        if ports is not None and not _within(traffic.local_port, ports):
            return False
        ports = self.remote_port
        if ports is not None and not _within(traffic.remote_port, ports):
            return False
        value = self.icmp_type
        if value is not None:
            if traffic.icmp_type != value:
                return False
            codes = self.icmp_code
            if codes is not None and not _within(traffic.icmp_code, codes):
                return False
        value = self.mh_type
        return value is None or traffic.mh_type == value


def _tested(sel: _T | Special) -> _T | Literal[Special.OPAQUE] | None:
    """A selector value as a slot holds it: None for ANY (no test)."""
    return None if sel is ANY else sel


def _within(value: int | Special, ranges: tuple[Range2, ...] | Special) -> bool:
    """RFC 4301 §4.4.1.1 matching of a value against OPAQUE or a list of ranges."""
    if ranges is OPAQUE:
        return value is OPAQUE
    if value is OPAQUE:
        return False
    # a loop rather than any(): no generator object per test
    for lo, hi in ranges:  # type: ignore[union-attr]  # noqa: SIM110
        if lo <= value <= hi:  # type: ignore[operator]
            return True
    return False


def _blocks(version: int, sel: AddressSet | Special) -> tuple[int, list[int]]:
    """(level, block numbers) of an address selector: the finest level with few blocks."""
    bits = _BITS[version]
    ranges = [(0, (1 << bits) - 1)] if not isinstance(sel, AddressSet) else sorted(sel.ranges)
    for level in LEVELS[version]:
        shift = bits - level
        # distinct blocks: ranges that share a block count it once (nine hosts
        # of one /24 are one block at level 24; level 0 is always one block)
        count, last = 0, -1
        for lo, hi in ranges:
            first, end = max(lo >> shift, last + 1), hi >> shift
            if end >= first:
                count += end - first + 1
                last = end
        if count <= MAX_BLOCKS:
            found = sorted({b for lo, hi in ranges for b in range(lo >> shift, (hi >> shift) + 1)})
            return level, found
    raise AssertionError("level 0 always has one block")  # pragma: no cover


def _residual(version: int | None, sel: AddressSet | Special) -> tuple[Range2, ...] | None:
    """The ranges a slot must still test for one address selector, or None when
    the blocks it is indexed under cover exactly its addresses."""
    if not isinstance(sel, AddressSet) or version is None:
        return None
    level, _ = _blocks(version, sel)
    return None if _aligned(version, sel, level) else sel.ranges


def make_slot(key: int, entry: object, selector: Selector, direction: Direction) -> Slot:
    """The slot of ``entry`` for ``direction``: plain when its buckets decide,
    else a :class:`CheckedSlot` testing the rest."""
    local = _residual(selector.version, selector.local)
    remote = _residual(selector.version, selector.remote)
    if local is None and remote is None and selector.protocol is ANY:
        # protocol ANY implies ANY ports, ICMP type/code and MH types (Selector checks it)
        return Slot(key, entry)
    return CheckedSlot(key, entry, selector, direction, local, remote)


class _Group:
    __slots__ = ("floor", "lshift", "rlevel", "rshift", "table")

    def __init__(self, bits: int, llevel: int, rlevel: int) -> None:
        self.lshift = bits - llevel
        self.rshift = bits - rlevel
        self.rlevel = rlevel
        # bucket key: (local block << rlevel) | remote block -- one int, cheap to hash.
        # A bucket is one Slot, or a list of Slots in key order when several share it.
        self.table: dict[int, Slot | list[Slot]] = {}
        self.floor = 0  # a lower bound of the keys held; recomputed on renumbering


def _aligned(version: int, sel: AddressSet | Special, level: int) -> bool:
    """Whether the blocks of ``sel`` at ``level`` cover exactly its addresses."""
    if not isinstance(sel, AddressSet):
        return True
    shift = _BITS[version] - level
    return all(lo & ((1 << shift) - 1) == 0 and (hi + 1) & ((1 << shift) - 1) == 0
               for lo, hi in sel.ranges)


#: Larger than any slot key.
_TOP = 1 << 256


class FamilyIndex:
    """The groups of one address family."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.bits = _BITS[version]
        self.groups: dict[tuple[int, int], _Group] = {}
        self.ordered: list[_Group] = []
        self._dirty = False

    def _places(self, selector: Selector) -> tuple[tuple[int, int], list[int]]:
        llevel, lblocks = _blocks(self.version, selector.local)
        rlevel, rblocks = _blocks(self.version, selector.remote)
        return (llevel, rlevel), [(lb << rlevel) | rb for lb in lblocks for rb in rblocks]

    def add(self, slot: Slot, selector: Selector) -> None:
        levels, keys = self._places(selector)
        group = self.groups.get(levels)
        if group is None:
            group = self.groups[levels] = _Group(self.bits, *levels)
            group.floor = slot.key
        table = group.table
        for key in keys:
            bucket = table.get(key)
            if bucket is None:
                table[key] = slot
                continue
            if bucket.__class__ is not list:
                bucket = table[key] = [bucket]  # type: ignore[list-item]
            at = len(bucket)
            while at and bucket[at - 1].key > slot.key:
                at -= 1
            bucket.insert(at, slot)
        group.floor = min(group.floor, slot.key)
        self._dirty = True

    def remove(self, slot: Slot, selector: Selector) -> None:
        levels, keys = self._places(selector)
        group = self.groups[levels]
        table = group.table
        for key in keys:
            bucket = table[key]
            if bucket.__class__ is not list:
                del table[key]
                continue
            bucket.remove(slot)
            if len(bucket) == 1:
                table[key] = bucket[0]
        if not group.table:
            del self.groups[levels]
        self._dirty = True

    def refloor(self) -> None:
        for group in self.groups.values():
            group.floor = min(
                s.key for b in group.table.values() for s in (b if isinstance(b, list) else [b])
            )
        self._dirty = True

    def lookup(self, lv: int, rv: int, traffic: Traffic) -> Slot | None:
        if self._dirty:
            self.ordered = sorted(self.groups.values(), key=lambda g: g.floor)
            self._dirty = False
        best: Slot | None = None
        best_key = _TOP
        for group in self.ordered:
            if best is not None and group.floor >= best_key:
                break
            bucket = group.table.get(((lv >> group.lshift) << group.rlevel) | (rv >> group.rshift))
            if bucket is None:
                continue
            if bucket.__class__ is not list:
                key = bucket.key  # type: ignore[union-attr]
                # a plain Slot matches every packet of its bucket: skip the call
                if key < best_key and (bucket.__class__ is Slot
                                       or bucket.matches(lv, rv, traffic)):  # type: ignore[union-attr]
                    best = bucket  # type: ignore[assignment]
                    best_key = key
                continue
            for slot in bucket:
                key = slot.key
                if key >= best_key:
                    break
                if slot.__class__ is Slot or slot.matches(lv, rv, traffic):
                    best = slot
                    best_key = key
                    break
        return best


class PolicyIndex:
    """The index of one direction: an IPv4 and an IPv6 :class:`FamilyIndex`."""

    def __init__(self, direction: Direction) -> None:
        self.direction = direction
        self.families = {4: FamilyIndex(4), 6: FamilyIndex(6)}

    def _families(self, selector: Selector) -> list[FamilyIndex]:
        if selector.version is None:  # both addresses ANY: either family
            return [self.families[4], self.families[6]]
        return [self.families[selector.version]]

    def add(self, key: int, entry: object, selector: Selector) -> Slot:
        """Index ``entry`` (SPD sort key ``key``) and return its slot."""
        slot = make_slot(key, entry, selector, self.direction)
        for family in self._families(selector):
            family.add(slot, selector)
        return slot

    def remove(self, slot: Slot, selector: Selector) -> None:
        for family in self._families(selector):
            family.remove(slot, selector)

    def refloor(self) -> None:
        for family in self.families.values():
            family.refloor()

    def lookup(self, traffic: Traffic) -> Slot | None:
        return self.families[traffic.version].lookup(
            traffic.local_value, traffic.remote_value, traffic)
