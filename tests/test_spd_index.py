"""The SPD index's slots against the literal selector rules (RFC 4301 §4.4.1.1).

A plain :class:`Slot` claims that being in its bucket is the match; a
:class:`CheckedSlot` tests what the bucket does not decide. Both claims are
compared here with :meth:`Selector.matches` on packets at the edges of every
selector, and whole SPDs with edits are compared with the ordered scan.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from secmob.ipsec.selectors import ANY, OPAQUE, AddressSet, Direction, Selector, Traffic
from secmob.ipsec.spd import SPD, Action, Entry
from secmob.ipsec.spd_index import CheckedSlot, FamilyIndex, Slot, make_slot

OUT = Direction.OUTBOUND
IN = Direction.INBOUND
V4 = 0x0A000000
V6 = int(ipaddress.IPv6Address("2001:db8::"))


def _make(version: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


@st.composite
def address_selectors(draw: st.DrawFn, version: int) -> object:
    """ANY, a host, an aligned prefix, an unaligned range or a list, near one base."""
    base = V4 if version == 4 else V6
    bits = 32 if version == 4 else 128
    kind = draw(st.sampled_from(["any", "host", "prefix", "range", "list"]))
    if kind == "any":
        return ANY
    if kind == "host":
        return str(_make(version, base + draw(st.integers(0, 600))))
    if kind == "prefix":
        plen = draw(st.sampled_from([bits, bits - 3, bits - 8, bits - 16, bits - 24]))
        net = ipaddress.ip_network(f"{_make(version, base + draw(st.integers(0, 600)))}/{plen}",
                                   strict=False)
        return str(net)
    if kind == "range":
        lo = base + draw(st.integers(0, 600))
        return f"{_make(version, lo)}-{_make(version, lo + draw(st.integers(0, 700)))}"
    return [str(_make(version, base + draw(st.integers(0, 600))))
            for _ in range(draw(st.integers(1, 3)))]


@st.composite
def selectors(draw: st.DrawFn) -> Selector:
    version = draw(st.sampled_from([4, 6]))
    kw: dict[str, object] = {}
    ports = st.one_of(st.just(ANY), st.just(OPAQUE), st.integers(0, 9),
                      st.tuples(st.integers(0, 4), st.integers(4, 9)),
                      st.lists(st.integers(0, 9), min_size=1, max_size=3))
    kind = draw(st.sampled_from(["any", "opaque", "number", "ports", "icmp", "mh"]))
    if kind == "opaque" and version == 6:
        kw["protocol"] = OPAQUE
    elif kind == "number":
        kw["protocol"] = draw(st.sampled_from([6, 17, 50]))
    elif kind == "ports":
        kw["protocol"] = draw(st.sampled_from([6, 17]))
        kw["local_port"] = draw(ports)
        kw["remote_port"] = draw(ports)
    elif kind == "icmp":
        kw["protocol"] = 1 if version == 4 else 58
        kw["icmp_type"] = draw(st.sampled_from([ANY, OPAQUE, 1, 3]))
        if isinstance(kw["icmp_type"], int):
            kw["icmp_code"] = draw(st.one_of(st.just(ANY), st.integers(0, 3),
                                             st.tuples(st.integers(0, 2), st.integers(2, 4))))
    elif kind == "mh" and version == 6:
        kw["protocol"] = 135
        kw["local_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 5, 6]))
        kw["remote_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 5, 6]))
    return Selector.make(draw(address_selectors(version)), draw(address_selectors(version)),
                         **kw)  # type: ignore[arg-type]


def _near(data: st.DataObject, sel: object, version: int) -> int:
    """An address at or next to an edge of ``sel`` (or anywhere for ANY)."""
    base = V4 if version == 4 else V6
    if not isinstance(sel, AddressSet):
        return base + data.draw(st.integers(0, 2000))
    lo, hi = data.draw(st.sampled_from(sel.ranges))
    return max(0, data.draw(st.sampled_from([lo - 1, lo, (lo + hi) // 2, hi, hi + 1])))


def _value(data: st.DataObject, sel: object) -> object:
    """A packet value for a port-like selector: OPAQUE, or at/next to its edges."""
    near: list[object] = [OPAQUE, 0, 10]
    if isinstance(sel, int):
        near += [sel - 1, sel, sel, sel, sel + 1]
    elif isinstance(sel, tuple):
        near += [v for lo, hi in sel for v in (lo - 1, lo, hi, hi + 1)]
    return data.draw(st.sampled_from([v for v in near if v is OPAQUE or 0 <= v <= 255]))


@given(selector=selectors(), direction=st.sampled_from([OUT, IN]), data=st.data())
def test_slot_in_its_bucket_decides_like_the_selector(
    selector: Selector, direction: Direction, data: st.DataObject
) -> None:
    version = selector.version or 4
    slot = make_slot(1, None, selector, direction)
    levels, keys = FamilyIndex(version)._places(selector)
    bits = 32 if version == 4 else 128
    for _ in range(30):
        lv, rv = _near(data, selector.local, version), _near(data, selector.remote, version)
        if max(lv, rv) >= 1 << bits:
            continue
        proto = data.draw(st.sampled_from([selector.protocol] * 4 + [OPAQUE, 6, 17, 1, 58, 135]))
        mh = selector.local_mh_type if direction is OUT else selector.remote_mh_type
        traffic = Traffic(_make(version, lv), _make(version, rv),
                          OPAQUE if proto is ANY else proto,  # type: ignore[arg-type]
                          *(_value(data, sel) for sel in (  # type: ignore[arg-type]
                              selector.local_port, selector.remote_port, selector.icmp_type,
                              selector.icmp_code, mh)))
        key = ((lv >> (bits - levels[0])) << levels[1]) | (rv >> (bits - levels[1]))
        expected = selector.matches(traffic, direction)
        if key in keys:  # the lookup asks the slot only for packets of its buckets
            assert slot.matches(lv, rv, traffic) is expected
        else:  # and a packet outside every bucket never matches the selector
            assert not expected


def test_plain_slots_only_where_the_bucket_is_the_whole_answer() -> None:
    plain = [Selector.make("10.0.0.7", "10.1.0.0/24"), Selector.make(ANY, "2001:db8::/48"),
             Selector.make(), Selector.make(["10.0.0.0/24", "10.0.1.0/24"], ANY)]
    checked = [Selector.make("10.0.0.5-10.0.0.40", ANY), Selector.make("10.0.0.7", ANY, 6),
               Selector.make(protocol=17, remote_port=53), Selector.make("10.0.0.0/25", ANY),
               Selector.make("2001:db8::1", ANY, 135, local_mh_type=5)]
    for sel in plain:
        assert make_slot(1, None, sel, OUT).__class__ is Slot, sel
    for sel in checked:
        assert isinstance(make_slot(1, None, sel, OUT), CheckedSlot), sel
    # five addresses are five /32 blocks: exact; 36 addresses index at /24: tested
    assert make_slot(1, None, Selector.make("10.0.0.5-10.0.0.9", ANY), OUT).__class__ is Slot
    wide = make_slot(1, None, Selector.make("10.0.0.5-10.0.0.40", ANY), OUT)
    assert isinstance(wide, CheckedSlot) and wide.local_ranges == ((V4 + 5, V4 + 40),)
    assert wide.remote_ranges is None and wide.protocol is None


def test_mh_type_slot_follows_the_direction() -> None:
    sel = Selector.make("2001:db8::1", "2001:db8::2", 135, local_mh_type=5, remote_mh_type=6)
    out_slot, in_slot = make_slot(1, None, sel, OUT), make_slot(1, None, sel, IN)
    assert isinstance(out_slot, CheckedSlot) and isinstance(in_slot, CheckedSlot)
    assert (out_slot.mh_type, in_slot.mh_type) == (5, 6)


def _all(version: int, lo: int, hi: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [_make(version, v) for v in range(lo, hi)]


def test_overlapping_ranges_mixed_families_and_edits_follow_the_ordered_scan() -> None:
    spd = SPD()
    first = spd.append(Entry(Selector.make("10.0.0.5-10.0.0.9", ANY), Action.BYPASS))
    prefix = spd.append(Entry(Selector.make("10.0.0.0/29", ANY, 6, remote_port=(80, 90)),
                              Action.DISCARD))
    host = spd.insert(0, Entry(Selector.make("10.0.0.7", ANY, 6, remote_port=OPAQUE),
                               Action.DISCARD))
    icmp = spd.append(Entry(Selector.make("2001:db8::/126", ANY, 58, icmp_type=1,
                                          icmp_code=(0, 2)), Action.BYPASS))
    both = spd.append(Entry(Selector.make(ANY, ANY, 6), Action.DISCARD, directions=OUT))
    last = spd.append(Entry(Selector.make(), Action.DISCARD))
    v4 = _all(4, V4, V4 + 16)
    v6 = _all(6, V6, V6 + 8)
    packets = [Traffic(a, b, proto, lport, rport, itype, icode)  # type: ignore[arg-type]
               for version in (v4, v6) for a in version for b in version[:2]
               for proto, lport, rport, itype, icode in (
                   (6, 1, 85, OPAQUE, OPAQUE), (6, OPAQUE, OPAQUE, OPAQUE, OPAQUE),
                   (17, 1, 85, OPAQUE, OPAQUE), (58, OPAQUE, OPAQUE, 1, 2),
                   (58, OPAQUE, OPAQUE, 1, 3), (OPAQUE, OPAQUE, OPAQUE, OPAQUE, OPAQUE))]

    def agree() -> set[Entry | None]:
        seen = set()
        for direction in (OUT, IN):
            for t in packets:
                found = spd.lookup(direction, t)
                assert found is spd.lookup_naive(direction, t), (direction, t)
                seen.add(found)
        return seen

    assert agree() == {first, prefix, host, icmp, both, last}
    spd.remove(first)
    assert agree() == {prefix, host, icmp, both, last}
    spd.insert(1, first)  # after host now
    spd.remove(host)
    spd.remove(last)
    assert agree() == {first, prefix, icmp, both, None}
    for e in list(spd):
        spd.remove(e)
    assert agree() == {None}
