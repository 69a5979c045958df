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
  ANY needs no test at all: being in the bucket is the match. A bucket with
  one slot holds it directly, without a list.

The cost of a lookup is the number of non-empty groups (at most 25 for IPv4,
64 for IPv6, a handful in practice) times a short bucket walk, and does not
grow with the number of entries while buckets stay short. A bucket grows when
many entries share one pair of address blocks (hundreds of port policies
between the same two hosts, or many small ranges inside one /24); its walk is
then linear in those entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from secmob.ipsec.selectors import (
    ANY,
    OPAQUE,
    AddressSet,
    Direction,
    Ports,
    Selector,
    Special,
    Traffic,
)

__all__ = ["LEVELS", "MAX_BLOCKS", "FamilyIndex", "PolicyIndex", "Slot", "compile_check"]

#: Prefix lengths at which address selectors are indexed, per IP version.
LEVELS: dict[int, tuple[int, ...]] = {
    4: (32, 24, 16, 8, 0),
    6: (128, 112, 96, 64, 48, 32, 16, 0),
}
#: Most blocks one address selector may be split into before a coarser level is used.
MAX_BLOCKS = 8
_BITS = {4: 32, 6: 128}

Check: TypeAlias = Callable[[int, int, Traffic], bool]
Range2: TypeAlias = tuple[int, int]


class Slot:
    """One SPD entry as seen by one direction's index."""

    __slots__ = ("check", "entry", "key")

    def __init__(self, key: int, entry: object, check: Check) -> None:
        self.key = key
        self.entry = entry
        self.check: Check | None = check


def _blocks(version: int, sel: AddressSet | Special) -> tuple[int, list[int]]:
    """(level, block numbers) of an address selector: the finest level with few blocks."""
    bits = _BITS[version]
    ranges = [(0, (1 << bits) - 1)] if not isinstance(sel, AddressSet) else list(sel.ranges)
    for level in LEVELS[version]:
        shift = bits - level
        count = sum((hi >> shift) - (lo >> shift) + 1 for lo, hi in ranges)
        if count <= MAX_BLOCKS:
            found = sorted({b for lo, hi in ranges for b in range(lo >> shift, (hi >> shift) + 1)})
            return level, found
    raise AssertionError("level 0 always has one block")  # pragma: no cover


def _port_check(sel: Ports, attr: str) -> Callable[[Traffic], bool] | None:
    if sel is ANY:
        return None
    if sel is OPAQUE:
        return lambda t: getattr(t, attr) is OPAQUE
    assert not isinstance(sel, Special)
    if len(sel) == 1:
        lo, hi = sel[0]

        def one(t: Traffic) -> bool:
            v = getattr(t, attr)
            return v.__class__ is int and lo <= v <= hi

        return one
    ranges = sel

    def many(t: Traffic) -> bool:
        v = getattr(t, attr)
        return v.__class__ is int and any(a <= v <= b for a, b in ranges)

    return many


def _value_check(value: int | Special, attr: str) -> Callable[[Traffic], bool] | None:
    if value is ANY:
        return None
    if value is OPAQUE:
        return lambda t: getattr(t, attr) is OPAQUE
    return lambda t: getattr(t, attr) == value


def compile_check(selector: Selector, direction: Direction) -> Check:
    """A fast predicate (local int, remote int, traffic) equivalent to
    :meth:`Selector.matches` for ``direction``."""
    upper: list[Callable[[Traffic], bool]] = []
    proto_check = _value_check(selector.protocol, "protocol")
    if proto_check is not None:
        upper.append(proto_check)
    for check in (
        _port_check(selector.local_port, "local_port"),
        _port_check(selector.remote_port, "remote_port"),
        _value_check(selector.icmp_type, "icmp_type"),
        _port_check(selector.icmp_code, "icmp_code") if isinstance(selector.icmp_type, int)
        else None,
        _value_check(
            selector.local_mh_type if direction is Direction.OUTBOUND
            else selector.remote_mh_type,
            "mh_type",
        ),
    ):
        if check is not None:
            upper.append(check)
    lranges = _ranges(selector.local)
    rranges = _ranges(selector.remote)
    if len(lranges) == 1 and len(rranges) == 1:
        (llo, lhi), (rlo, rhi) = lranges[0], rranges[0]
        if not upper:
            return lambda lv, rv, t: llo <= lv <= lhi and rlo <= rv <= rhi
        if len(upper) == 1:
            first = upper[0]
            return lambda lv, rv, t: llo <= lv <= lhi and rlo <= rv <= rhi and first(t)
        return lambda lv, rv, t: (
            llo <= lv <= lhi and rlo <= rv <= rhi and all(c(t) for c in upper)
        )
    return lambda lv, rv, t: (
        any(a <= lv <= b for a, b in lranges)
        and any(a <= rv <= b for a, b in rranges)
        and all(c(t) for c in upper)
    )


def _ranges(sel: AddressSet | Special) -> tuple[Range2, ...]:
    """The ranges of an address selector; ANY covers every address of either family."""
    return sel.ranges if isinstance(sel, AddressSet) else ((0, 1 << 128),)


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

    def _places(self, selector: Selector) -> tuple[tuple[int, int], list[int], bool]:
        llevel, lblocks = _blocks(self.version, selector.local)
        rlevel, rblocks = _blocks(self.version, selector.remote)
        keys = [(lb << rlevel) | rb for lb in lblocks for rb in rblocks]
        exact = _aligned(self.version, selector.local, llevel) and _aligned(
            self.version, selector.remote, rlevel)
        return (llevel, rlevel), keys, exact

    def add(self, slot: Slot, selector: Selector) -> None:
        levels, keys, exact = self._places(selector)
        if exact and selector.protocol is ANY:
            slot.check = None  # the bucket alone decides: no per-slot test needed
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
            if isinstance(bucket, Slot):
                bucket = table[key] = [bucket]
            at = len(bucket)
            while at and bucket[at - 1].key > slot.key:
                at -= 1
            bucket.insert(at, slot)
        group.floor = min(group.floor, slot.key)
        self._dirty = True

    def remove(self, slot: Slot, selector: Selector) -> None:
        levels, keys, _ = self._places(selector)
        group = self.groups[levels]
        table = group.table
        for key in keys:
            bucket = table[key]
            if isinstance(bucket, Slot):
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
                s.key for b in group.table.values() for s in ([b] if isinstance(b, Slot) else b)
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
            if bucket.__class__ is Slot:
                key = bucket.key
                if best is None or key < best_key:
                    check = bucket.check
                    if check is None or check(lv, rv, traffic):
                        best = bucket
                        best_key = key
                continue
            for slot in bucket:  # type: ignore[union-attr]
                key = slot.key
                if key >= best_key:
                    break
                check = slot.check
                if check is None or check(lv, rv, traffic):
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

    def add(self, slot: Slot, selector: Selector) -> None:
        for family in self._families(selector):
            family.add(slot, selector)

    def remove(self, slot: Slot, selector: Selector) -> None:
        for family in self._families(selector):
            family.remove(slot, selector)

    def refloor(self) -> None:
        for family in self.families.values():
            family.refloor()

    def lookup(self, traffic: Traffic) -> Slot | None:
        return self.families[traffic.version].lookup(
            traffic.local_value, traffic.remote_value, traffic)
