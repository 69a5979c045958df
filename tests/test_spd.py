"""Behaviour of the SPD (RFC 4301 §4.4.1): selectors, order, index, xfrm export."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import PolicyViolation, UsageError
from secmob.ipsec.selectors import (
    ANY,
    OPAQUE,
    AddressSet,
    Direction,
    Selector,
    Traffic,
    addresses,
)
from secmob.ipsec.spd import (
    SPD,
    Action,
    Entry,
    Mode,
    PopulateFromPacket,
    SATemplate,
)
from secmob.ipsec.spd_mip6 import MH_BA, MH_BU, MH_HOT, MH_HOTI, home_signalling_entries
from secmob.ipsec.xfrm import xfrm_commands, xfrm_policy_lines

OUT = Direction.OUTBOUND
IN = Direction.INBOUND
TCP, UDP = 6, 17


def entry(action: Action = Action.BYPASS, *args: object, **kw: object) -> Entry:
    directions = kw.pop("directions", frozenset({OUT, IN}))
    template = kw.pop("template", SATemplate() if action is Action.PROTECT else None)
    return Entry(Selector.make(*args, **kw), action, template, directions)  # type: ignore[arg-type]


def out(src: str, dst: str, proto: object = OPAQUE, **kw: object) -> Traffic:
    return Traffic.from_packet(OUT, src, dst, proto, **kw)  # type: ignore[arg-type]


# -- address selectors --------------------------------------------------------


def test_address_forms() -> None:
    assert addresses("any") is ANY
    one = addresses("192.0.2.7")
    assert isinstance(one, AddressSet) and one.ranges == ((0xC0000207, 0xC0000207),)
    net = addresses("2001:db8::/126")
    assert isinstance(net, AddressSet) and net.version == 6
    assert ipaddress.ip_address("2001:db8::3") in net
    assert ipaddress.ip_address("2001:db8::4") not in net
    rng = addresses("10.0.0.5-10.0.0.9")
    assert [str(n) for n in rng.networks()] == [  # type: ignore[union-attr]
        "10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/31"]
    merged = addresses(["10.0.0.0/25", "10.0.0.128/25", "10.0.1.1"])
    assert merged.ranges == ((0x0A000000, 0x0A0000FF), (0x0A000101, 0x0A000101))  # type: ignore[union-attr]
    assert ipaddress.ip_address("10.0.0.1") not in addresses("2001:db8::/32")  # type: ignore[operator]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["10.0.0.1", "2001:db8::1"], "mixes IPv4 and IPv6"),
        ("10.0.0.9-10.0.0.1", "inverted"),
        ("10.0.0.1-2001:db8::1", "mixes IPv4 and IPv6"),
        ("10.0.0.0/33", "length must be 0..32"),
        ("2001:db8::/129", "length must be 0..128"),
        ("10.0.0.0/x", "length must be"),
        ("10.0.0.1/24", "host bits set"),
        ("not-an-address", "not valid"),
        ([], "must not be empty"),
        (42, "must be an address, prefix or range"),
    ],
)
def test_address_misconfiguration(spec: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        addresses(spec)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"local": "10.0.0.1", "remote": "2001:db8::1"}, "mix IPv4 and IPv6"),
        ({"protocol": TCP, "local_port": (90, 80)}, "inverted"),
        ({"protocol": TCP, "remote_port": 70000}, "out of range"),
        ({"protocol": ANY, "remote_port": 80}, "need a protocol with ports"),
        ({"protocol": 1, "local": "10.0.0.1", "local_port": 80}, "need a protocol with ports"),
        ({"protocol": 256}, "out of range 0..255"),
        ({"protocol": OPAQUE, "local": "10.0.0.1"}, "IPv6 only"),
        ({"protocol": 58, "local": "10.0.0.1", "icmp_type": 8}, "ICMP type/code selectors"),
        ({"protocol": 1, "local": "10.0.0.1", "icmp_code": 3}, "single ICMP type"),
        ({"protocol": 1, "local": "10.0.0.1", "icmp_type": 300}, "out of range"),
        ({"protocol": 1, "local": "10.0.0.1", "icmp_type": 3, "icmp_code": (9, 2)}, "inverted"),
        ({"protocol": TCP, "local": "2001:db8::1", "local_mh_type": 5}, "protocol 135"),
        ({"protocol": 135, "local": "10.0.0.1", "remote_mh_type": 5}, "protocol 135"),
        ({"protocol": 135, "local_mh_type": 256}, "out of range"),
    ],
)
def test_selector_misconfiguration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Selector.make(**kwargs)  # type: ignore[arg-type]


def test_traffic_misconfiguration() -> None:
    with pytest.raises(UsageError, match="mixes IPv4 and IPv6"):
        Traffic("10.0.0.1", "2001:db8::1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="never ANY"):
        Traffic("10.0.0.1", "10.0.0.2", ANY)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="local port 65536"):
        Traffic("10.0.0.1", "10.0.0.2", TCP, 65536)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="address"):
        Traffic("10.0.0.300", "10.0.0.2")  # type: ignore[arg-type]


# -- matching semantics ---------------------------------------------------------


def test_from_packet_maps_source_and_destination_by_direction() -> None:
    t_out = Traffic.from_packet(OUT, "10.0.0.1", "10.0.0.2", TCP, sport=1000, dport=80)
    assert (str(t_out.local), t_out.local_port, str(t_out.remote), t_out.remote_port) == (
        "10.0.0.1", 1000, "10.0.0.2", 80)
    t_in = Traffic.from_packet(IN, "10.0.0.2", "10.0.0.1", TCP, sport=80, dport=1000)
    assert t_in == t_out


def test_any_opaque_and_literal_ports() -> None:
    """RFC 4301 §4.4.1.1: ANY encompasses OPAQUE; OPAQUE matches only an
    unavailable field; a literal never matches an unavailable field."""
    fragment = out("10.0.0.1", "10.0.0.2", TCP)  # non-initial fragment: no ports
    first = out("10.0.0.1", "10.0.0.2", TCP, sport=1000, dport=80)
    any_ports = Selector.make(protocol=TCP)
    opaque = Selector.make(protocol=TCP, remote_port=OPAQUE)
    literal = Selector.make(protocol=TCP, remote_port=80)
    ranged = Selector.make(protocol=TCP, remote_port=[(1, 79), 80], local_port=(1000, 2000))
    assert any_ports.matches(fragment, OUT) and any_ports.matches(first, OUT)
    assert opaque.matches(fragment, OUT) and not opaque.matches(first, OUT)
    assert literal.matches(first, OUT) and not literal.matches(fragment, OUT)
    assert ranged.matches(first, OUT) and not ranged.matches(fragment, OUT)
    assert not Selector.make(protocol=TCP, remote_port=81).matches(first, OUT)


def test_protocol_any_opaque_and_number() -> None:
    encrypted = out("2001:db8::1", "2001:db8::2")  # next layer hidden: OPAQUE
    udp = out("2001:db8::1", "2001:db8::2", UDP, sport=1, dport=2)
    assert Selector.make().matches(encrypted, OUT)
    assert Selector.make(protocol=OPAQUE).matches(encrypted, OUT)
    assert not Selector.make(protocol=OPAQUE).matches(udp, OUT)
    assert not Selector.make(protocol=UDP).matches(encrypted, OUT)
    assert Selector.make(protocol=UDP).matches(udp, OUT)


def test_address_any_matches_both_families_but_one_side_fixes_the_family() -> None:
    v4 = out("10.0.0.1", "10.0.0.2")
    v6 = out("2001:db8::1", "2001:db8::2")
    assert Selector.make().matches(v4, OUT) and Selector.make().matches(v6, OUT)
    only_v4 = Selector.make("10.0.0.0/8", ANY)
    assert only_v4.version == 4 and only_v4.matches(v4, OUT) and not only_v4.matches(v6, OUT)
    ranged = Selector.make(ANY, "10.0.0.2-10.0.0.3")
    assert ranged.matches(v4, OUT) and not ranged.matches(out("10.0.0.1", "10.0.0.4"), OUT)


def test_icmp_type_and_code() -> None:
    sel = Selector.make("2001:db8::/64", ANY, 58, icmp_type=1, icmp_code=(0, 4))
    unreachable = out("2001:db8::1", "2001:db8:1::1", 58, icmp_type=1, icmp_code=3)
    assert sel.matches(unreachable, OUT)
    assert not sel.matches(out("2001:db8::1", "2001:db8:1::1", 58, icmp_type=1, icmp_code=5), OUT)
    assert not sel.matches(out("2001:db8::1", "2001:db8:1::1", 58, icmp_type=2, icmp_code=0), OUT)
    assert not sel.matches(out("2001:db8::1", "2001:db8:1::1", 58), OUT)
    any_code = Selector.make(protocol=1, local="10.0.0.0/8", icmp_type=8)
    assert any_code.matches(out("10.0.0.1", "10.9.9.9", 1, icmp_type=8, icmp_code=0), OUT)
    opaque = Selector.make(protocol=1, icmp_type=OPAQUE)
    assert opaque.matches(out("10.0.0.1", "10.9.9.9", 1), OUT)
    assert not opaque.matches(out("10.0.0.1", "10.9.9.9", 1, icmp_type=8, icmp_code=0), OUT)
    # RFC 4301 §4.4.1.1: for IKE the type is the high octet, the code the low octet.
    assert sel.icmp_range16() == (0x0100, 0x0104)
    assert any_code.icmp_range16() == (0x0800, 0x08FF)
    assert Selector.make(protocol=1).icmp_range16() is ANY


def test_mh_type_is_local_for_outbound_and_remote_for_inbound() -> None:
    sel = Selector.make("2001:db8::10", "2001:db8::1", 135, local_mh_type=MH_BU,
                        remote_mh_type=MH_BA)
    bu = Traffic.from_packet(OUT, "2001:db8::10", "2001:db8::1", 135, mh_type=MH_BU)
    ba = Traffic.from_packet(IN, "2001:db8::1", "2001:db8::10", 135, mh_type=MH_BA)
    assert sel.matches(bu, OUT) and sel.matches(ba, IN)
    assert not sel.matches(ba, OUT) and not sel.matches(bu, IN)
    fragment = Traffic.from_packet(OUT, "2001:db8::10", "2001:db8::1", 135)
    assert not sel.matches(fragment, OUT)
    assert Selector.make(protocol=135, local_mh_type=OPAQUE).matches(fragment, OUT)


# -- the ordered SPD ------------------------------------------------------------


def test_first_match_in_order_wins_and_insert_changes_the_answer() -> None:
    spd = SPD()
    host = spd.append(entry(Action.PROTECT, "10.0.0.1", "10.0.1.1"))
    subnet = spd.append(entry(Action.BYPASS, "10.0.0.0/24", "10.0.1.0/24"))
    last = spd.append(entry(Action.DISCARD))
    t = out("10.0.0.1", "10.0.1.1", TCP, sport=5, dport=6)
    assert spd.lookup(OUT, t) is host
    assert spd.lookup(OUT, out("10.0.0.2", "10.0.1.1")) is subnet
    assert spd.lookup(OUT, out("10.0.0.2", "10.0.2.1")) is last
    first = spd.insert(0, entry(Action.DISCARD, "10.0.0.0/16", ANY, TCP))
    assert spd.lookup(OUT, t) is first
    assert spd.lookup(OUT, out("10.0.0.1", "10.0.1.1", UDP, sport=5, dport=6)) is host
    assert list(spd) == [first, host, subnet, last] and spd.index(subnet) == 2
    spd.remove(first)
    assert spd.lookup(OUT, t) is host
    spd.remove(host)
    assert spd.lookup(OUT, t) is subnet
    assert len(spd) == 2 and spd[0] is subnet


def test_directions() -> None:
    spd = SPD()
    only_out = spd.append(entry(Action.BYPASS, "10.0.0.1", "10.0.0.2", directions=OUT))
    both = spd.append(entry(Action.PROTECT, "10.0.0.1", "10.0.0.2"))
    outbound = Traffic.from_packet(OUT, "10.0.0.1", "10.0.0.2")
    inbound = Traffic.from_packet(IN, "10.0.0.2", "10.0.0.1")
    assert spd.lookup(OUT, outbound) is only_out
    assert spd.lookup(IN, inbound) is both
    assert spd.lookup(IN, Traffic.from_packet(IN, "10.0.0.1", "10.0.0.2")) is None


def test_check_discards_and_returns_bypass_or_protect() -> None:
    spd = SPD([
        entry(Action.BYPASS, "10.0.0.1", ANY, UDP, remote_port=500),
        entry(Action.DISCARD, "10.0.0.1", ANY),
        entry(Action.PROTECT, "10.0.0.2", ANY),
    ])
    assert spd.check(OUT, out("10.0.0.1", "10.0.0.9", UDP, sport=500, dport=500)).action is (
        Action.BYPASS)
    assert spd.check(OUT, out("10.0.0.2", "10.0.0.9")).action is Action.PROTECT
    with pytest.raises(PolicyViolation, match="discards"):
        spd.check(OUT, out("10.0.0.1", "10.0.0.9"))
    with pytest.raises(PolicyViolation, match="no SPD entry"):
        spd.check(IN, Traffic.from_packet(IN, "10.0.0.9", "10.0.0.3"))


def test_spd_misuse() -> None:
    spd = SPD()
    e = spd.append(entry())
    with pytest.raises(UsageError, match="already in this SPD"):
        spd.append(e)
    with pytest.raises(UsageError, match="outside"):
        spd.insert(5, entry())
    with pytest.raises(UsageError, match="not in this SPD"):
        spd.remove(entry())
    with pytest.raises(UsageError, match="Entry objects"):
        spd.append("drop everything")  # type: ignore[arg-type]


def test_many_inserts_at_the_front_renumber_consistently() -> None:
    spd = SPD()
    entries = [entry(Action.BYPASS, f"10.0.{i // 256}.{i % 256}", ANY) for i in range(60)]
    for e in entries:  # each insert halves the gap before the first key
        spd.insert(0, e)
    catch_all = spd.append(entry(Action.DISCARD))
    assert list(spd)[:60] == entries[::-1]
    for i, e in enumerate(entries):
        t = out(f"10.0.{i // 256}.{i % 256}", "192.0.2.1")
        assert spd.lookup(OUT, t) is e
    spd.insert(30, entry(Action.DISCARD, "10.0.0.0/24", ANY))
    assert spd.lookup(OUT, out("10.0.0.5", "192.0.2.1")) is spd[30]
    assert spd.lookup(OUT, out("10.0.0.59", "192.0.2.1")) is entries[59]
    assert spd.lookup(OUT, out("10.9.0.5", "192.0.2.1")) is catch_all


def test_template_and_entry_misconfiguration() -> None:
    with pytest.raises(UsageError, match="'esp', 'ah' or both"):
        SATemplate(("esp", "gre"))
    with pytest.raises(UsageError, match="single tunnel_local"):
        SATemplate(mode=Mode.TUNNEL, tunnel_remote="192.0.2.1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="tunnel endpoints mix"):
        SATemplate(mode=Mode.TUNNEL, tunnel_local="192.0.2.1",  # type: ignore[arg-type]
                   tunnel_remote="2001:db8::1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="only meaningful in tunnel mode"):
        SATemplate(tunnel_local="192.0.2.1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="needs ESP"):
        SATemplate(("ah",), encryption="aes128")
    with pytest.raises(UsageError, match="need an SA template"):
        Entry(Selector.make(), Action.PROTECT)
    with pytest.raises(UsageError, match="need an SA template"):
        Entry(Selector.make(), Action.BYPASS, SATemplate())
    assert SATemplate(("ah", "esp")).protocols == ("esp", "ah")


def test_populate_from_packet() -> None:
    """RFC 4301 §4.4.1.2: a PFP selector comes from the triggering packet."""
    tmpl = SATemplate(pfp=PopulateFromPacket(remote_address=True, remote_port=True))
    e = Entry(Selector.make("10.0.0.0/24", "10.1.0.0/16", TCP), Action.PROTECT, tmpl)
    sa = e.sa_selector(out("10.0.0.7", "10.1.2.3", TCP, sport=4000, dport=443))
    assert sa.local == addresses("10.0.0.0/24")
    assert sa.remote == addresses("10.1.2.3")
    assert sa.remote_port == ((443, 443),) and sa.local_port is ANY and sa.protocol == TCP


# -- the index against the naive ordered scan ---------------------------------

V4_BASES = [0x0A000000, 0x0A000100, 0xC0000200]
V6_BASE = int(ipaddress.IPv6Address("2001:db8::"))


@st.composite
def address_specs(draw: st.DrawFn, version: int) -> object:
    bits = 32 if version == 4 else 128
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    base = draw(st.sampled_from(V4_BASES)) if version == 4 else V6_BASE + draw(
        st.sampled_from([0, 1 << 16, 1 << 80]))

    def addr() -> int:
        return base + draw(st.integers(0, 24))

    kind = draw(st.sampled_from(["any", "host", "prefix", "range", "list"]))
    if kind == "any":
        return ANY
    if kind == "host":
        return str(make(addr()))
    if kind == "prefix":
        plen = draw(st.integers(0, bits))
        net = ipaddress.ip_network(f"{make(addr())}/{plen}", strict=False)
        return str(net)
    if kind == "range":
        a, b = sorted((addr(), addr()))
        return f"{make(a)}-{make(b)}"
    return [str(make(addr())) for _ in range(draw(st.integers(1, 3)))]


@st.composite
def selectors(draw: st.DrawFn) -> tuple[int, dict[str, object]]:
    version = draw(st.sampled_from([4, 6]))
    kw: dict[str, object] = {
        "local": draw(address_specs(version)),
        "remote": draw(address_specs(version)),
    }
    ports = st.one_of(st.just(ANY), st.just(OPAQUE), st.integers(0, 6),
                      st.tuples(st.integers(0, 3), st.integers(3, 6)))
    kind = draw(st.sampled_from(["any", "opaque", "number", "ports", "icmp", "mh"]))
    if kind == "opaque" and version == 6:
        kw["protocol"] = OPAQUE
    elif kind == "number":
        kw["protocol"] = draw(st.sampled_from([TCP, UDP, 50]))
    elif kind == "ports":
        kw["protocol"] = draw(st.sampled_from([TCP, UDP]))
        kw["local_port"] = draw(ports)
        kw["remote_port"] = draw(ports)
    elif kind == "icmp":
        kw["protocol"] = 1 if version == 4 else 58
        kw["icmp_type"] = draw(st.sampled_from([ANY, OPAQUE, 1, 3]))
        if isinstance(kw["icmp_type"], int):
            kw["icmp_code"] = draw(st.one_of(st.just(ANY), st.integers(0, 3)))
    elif kind == "mh" and version == 6:
        kw["protocol"] = 135
        kw["local_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 5, 6]))
        kw["remote_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 5, 6]))
    return version, kw


@st.composite
def traffics(draw: st.DrawFn) -> tuple[Direction, Traffic]:
    version = draw(st.sampled_from([4, 6]))
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address

    def addr() -> object:
        if version == 4:
            return make(draw(st.sampled_from(V4_BASES)) + draw(st.integers(0, 30)))
        return make(V6_BASE + draw(st.sampled_from([0, 1 << 16, 1 << 80, 1 << 100]))
                    + draw(st.integers(0, 30)))

    value = st.one_of(st.just(OPAQUE), st.integers(0, 7))
    proto = draw(st.sampled_from([OPAQUE, TCP, UDP, 50, 1, 58, 135]))
    return draw(st.sampled_from([OUT, IN])), Traffic(
        addr(), addr(), proto,  # type: ignore[arg-type]
        draw(value), draw(value), draw(value), draw(value), draw(value),
    )


def _inside(data: st.DataObject, sel: object, version: int) -> object:
    """An address the address selector ``sel`` matches (edges preferred)."""
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    if not isinstance(sel, AddressSet):
        return make(data.draw(st.integers(0, (1 << (32 if version == 4 else 128)) - 1)))
    lo, hi = data.draw(st.sampled_from(sel.ranges))
    return make(data.draw(st.sampled_from([lo, hi, (lo + hi) // 2, max(lo - 1, 0), hi + 1])
                          .filter(lambda v: v < (1 << (32 if version == 4 else 128)))))


def _port(data: st.DataObject, sel: object) -> object:
    if isinstance(sel, tuple):
        lo, hi = data.draw(st.sampled_from(sel))
        return data.draw(st.sampled_from([lo, hi, hi + 1 if hi < 0xFF else hi]))
    return data.draw(st.one_of(st.just(OPAQUE), st.integers(0, 7)))


def traffic_for(data: st.DataObject, e: Entry) -> tuple[Direction, Traffic]:
    """Traffic aimed at entry ``e``, so that the property test sees many matches."""
    sel = e.selector
    version = sel.version or data.draw(st.sampled_from([4, 6]))
    proto = sel.protocol if isinstance(sel.protocol, int) else data.draw(
        st.sampled_from([OPAQUE, TCP, 58]))
    if proto == 1 and version == 6:
        proto = 58
    icmp_type = sel.icmp_type if isinstance(sel.icmp_type, int) else data.draw(
        st.sampled_from([OPAQUE, 1]))
    direction = data.draw(st.sampled_from(sorted(e.directions, key=lambda d: d.value)))
    aimed_mh = sel.local_mh_type if direction is OUT else sel.remote_mh_type
    mh = data.draw(st.sampled_from([aimed_mh, aimed_mh, OPAQUE, 7]))
    return direction, Traffic(
        _inside(data, sel.local, version),  # type: ignore[arg-type]
        _inside(data, sel.remote, version),  # type: ignore[arg-type]
        proto,
        _port(data, sel.local_port),  # type: ignore[arg-type]
        _port(data, sel.remote_port),  # type: ignore[arg-type]
        icmp_type,
        _port(data, sel.icmp_code),  # type: ignore[arg-type]
        mh if isinstance(mh, int) else OPAQUE,
    )


@given(
    policies=st.lists(
        st.tuples(selectors(), st.sampled_from(list(Action)),
                  st.sampled_from([frozenset({OUT}), frozenset({IN}), frozenset({OUT, IN})]),
                  st.integers(0, 1000)),
        max_size=40,
    ),
    removals=st.lists(st.integers(0, 1000), max_size=8),
    packets=st.lists(traffics(), min_size=1, max_size=20),
    data=st.data(),
)
def test_index_agrees_with_the_ordered_scan(
    policies: list[tuple[tuple[int, dict[str, object]], Action, frozenset[Direction], int]],
    removals: list[int],
    packets: list[tuple[Direction, Traffic]],
    data: st.DataObject,
) -> None:
    spd = SPD()
    for (_, kw), action, directions, where in policies:
        spd.insert(where % (len(spd) + 1), entry(action, directions=directions, **kw))
    for r in removals:
        if len(spd):
            spd.remove(spd[r % len(spd)])
    aimed = [traffic_for(data, e) for e in spd]
    for direction, traffic in packets + aimed:
        assert spd.lookup(direction, traffic) is spd.lookup_naive(direction, traffic)


def test_index_finds_wide_ranges_and_lists() -> None:
    spd = SPD()
    wide = spd.append(entry(Action.BYPASS, "10.0.0.0-10.200.3.4", ["192.0.2.1", "198.51.100.0/24"]))
    v6 = spd.append(entry(Action.PROTECT, "2001:db8::5-2001:db8:0:1::9", ANY))
    assert spd.lookup(OUT, out("10.100.0.0", "198.51.100.77")) is wide
    assert spd.lookup(OUT, out("10.200.3.5", "198.51.100.77")) is None
    assert spd.lookup(OUT, out("2001:db8:0:0:ffff::", "2001:db8:9::")) is v6
    assert spd.lookup(OUT, out("2001:db8:0:1::a", "2001:db8:9::")) is None


# -- xfrm export ----------------------------------------------------------------

_XFRM_PROTO = {"esp", "ah", "comp", "route2", "hao"}
_MODES = {"transport", "tunnel", "beet", "ro", "in_trigger"}


def parse_policy_add(line: str) -> dict[str, object]:
    """Check one line against the ip-xfrm(8) grammar of ``ip xfrm policy add``::

        ip xfrm policy { add | update } SELECTOR dir DIR [ ctx CTX ] [ mark MARK [ mask MASK ] ]
            [ index INDEX ] [ ptype PTYPE ] [ action ACTION ] [ priority PRIORITY ]
            [ flag FLAG-LIST ] [ LIMIT-LIST ] [ TMPL-LIST ]
        SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]
        UPSPEC := proto { PROTO | { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |
                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |
                  gre [ key { DOTTED-QUAD | NUMBER } ] }
        DIR := in | out | fwd          ACTION := allow | block
        TMPL := ID [ mode MODE ] [ reqid REQID ] [ level LEVEL ]
        ID := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]
    """
    words = line.split()
    assert words[:4] == ["ip", "xfrm", "policy", "add"], line
    pos = 4
    got: dict[str, object] = {}

    def take(keyword: str) -> str | None:
        nonlocal pos
        if pos < len(words) and words[pos] == keyword:
            assert pos + 1 < len(words), f"{keyword} without a value in {line}"
            pos += 2
            return words[pos - 1]
        return None

    def number(text: str, limit: int) -> int:
        assert text.isdigit() and int(text) <= limit, (text, line)
        return int(text)

    for key in ("src", "dst"):
        value = take(key)
        if value is not None:
            got[key] = ipaddress.ip_network(value, strict=True)
    assert take("dev") is None
    proto = take("proto")
    if proto is not None:
        got["proto"] = proto
        if proto in ("tcp", "udp", "sctp", "dccp"):
            for key in ("sport", "dport"):
                value = take(key)
                if value is not None:
                    got[key] = number(value, 0xFFFF)
        elif proto in ("icmp", "ipv6-icmp", "mobility-header"):
            for key in ("type", "code"):
                value = take(key)
                if value is not None:
                    got[key] = number(value, 255)
        else:
            number(proto, 255)
    direction = take("dir")
    assert direction in ("in", "out", "fwd"), line
    got["dir"] = direction
    action = take("action")
    if action is not None:
        assert action in ("allow", "block"), line
        got["action"] = action
    priority = take("priority")
    if priority is not None:
        got["priority"] = number(priority, 0xFFFFFFFF)
    templates = []
    while pos < len(words):
        assert words[pos] == "tmpl", f"unexpected {words[pos]!r} in {line}"
        pos += 1
        tmpl: dict[str, str] = {}
        for key in ("src", "dst", "proto", "spi", "mode", "reqid", "level"):
            value = take(key)
            if value is not None:
                tmpl[key] = value
        if "src" in tmpl:
            ipaddress.ip_address(tmpl["src"])
            ipaddress.ip_address(tmpl["dst"])
        assert tmpl.get("proto", "esp") in _XFRM_PROTO and tmpl.get("mode", "transport") in _MODES
        number(tmpl.get("reqid", "0"), 0xFFFFFFFF)
        templates.append(tmpl)
    got["tmpl"] = templates
    return got


def test_xfrm_lines_for_protect_bypass_discard() -> None:
    tunnel = SATemplate(("esp",), Mode.TUNNEL, tunnel_local="192.0.2.1",  # type: ignore[arg-type]
                        tunnel_remote="198.51.100.1", reqid=7)  # type: ignore[arg-type]
    spd = SPD([
        entry(Action.BYPASS, "10.0.0.1", "10.0.1.0/24", TCP, local_port=22, directions=IN),
        Entry(Selector.make("10.0.0.0/24", "10.0.1.0/24"), Action.PROTECT, tunnel),
        entry(Action.DISCARD, directions=OUT),
    ])
    lines = xfrm_commands(spd)
    assert lines == [
        "ip xfrm policy add src 10.0.1.0/24 dst 10.0.0.1/32 proto tcp dport 22 dir in "
        "action allow priority 1000",
        "ip xfrm policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out action allow priority 1001"
        " tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel reqid 7",
        "ip xfrm policy add src 10.0.1.0/24 dst 10.0.0.0/24 dir in action allow priority 1001"
        " tmpl src 198.51.100.1 dst 192.0.2.1 proto esp mode tunnel reqid 7",
        "ip xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out action block priority 1002",
        "ip xfrm policy add src ::/0 dst ::/0 dir out action block priority 1002",
    ]
    for line in lines:
        parse_policy_add(line)


def test_xfrm_splits_ranges_and_swaps_ports_inbound() -> None:
    e = entry(Action.PROTECT, "10.0.0.5-10.0.0.6", "10.0.1.1", UDP, local_port=(500, 501),
              template=SATemplate(("esp", "ah")))
    lines = xfrm_policy_lines(e, 5, forward=True)
    parsed = [parse_policy_add(line) for line in lines]
    assert len(lines) == 3 * 2 * 1 * 2  # dirs out/in/fwd x 2 prefixes x 1 x 2 ports
    outbound = [p for p in parsed if p["dir"] == "out"]
    assert {(str(p["src"]), p["sport"]) for p in outbound} == {
        ("10.0.0.5/32", 500), ("10.0.0.5/32", 501), ("10.0.0.6/32", 500), ("10.0.0.6/32", 501)}
    assert all("dport" in p and "sport" not in p for p in parsed if p["dir"] in ("in", "fwd"))
    assert all([t["proto"] for t in p["tmpl"]] == ["esp", "ah"] for p in parsed)  # type: ignore[attr-defined]


def test_xfrm_icmp_and_errors() -> None:
    icmp = entry(Action.BYPASS, "2001:db8::/64", ANY, 58, icmp_type=135, icmp_code=0)
    assert xfrm_policy_lines(icmp, 1)[0] == (
        "ip xfrm policy add src 2001:db8::/64 dst ::/0 proto ipv6-icmp type 135 code 0 "
        "dir out action allow priority 1")
    with pytest.raises(UsageError, match="OPAQUE"):
        xfrm_policy_lines(entry(Action.BYPASS, protocol=TCP, remote_port=OPAQUE), 1)
    with pytest.raises(UsageError, match="OPAQUE"):
        xfrm_policy_lines(entry(Action.BYPASS, "2001:db8::1", ANY, OPAQUE), 1)
    with pytest.raises(UsageError, match="more than 256"):
        xfrm_policy_lines(entry(Action.BYPASS, protocol=TCP, remote_port=(1, 1024)), 1)
    assert xfrm_policy_lines(entry(Action.BYPASS, "10.0.0.1", ANY, 50), 1)[0].endswith(
        "proto 50 dir out action allow priority 1")


# -- Mobile IPv6 home signalling ------------------------------------------------

HOA, HA, COA, CN = "2001:db8:1::10", "2001:db8:1::1", "2001:db8:99::10", "2001:db8:77::5"


def test_mobile_node_policies() -> None:
    spd = SPD(home_signalling_entries("mobile-node", HOA, HA, care_of=COA))
    spd.append(entry(Action.BYPASS))
    bu_ba, hot = spd[0], spd[1]
    bu = Traffic.from_packet(OUT, HOA, HA, 135, mh_type=MH_BU)
    ba = Traffic.from_packet(IN, HA, HOA, 135, mh_type=MH_BA)
    assert spd.check(OUT, bu) is bu_ba and spd.check(IN, ba) is bu_ba
    assert spd.lookup(OUT, Traffic.from_packet(OUT, HOA, HA, 135, mh_type=MH_BA)) is spd[2]
    hoti = Traffic.from_packet(OUT, HOA, CN, 135, mh_type=MH_HOTI)
    assert spd.lookup(OUT, hoti) is hot
    assert spd.lookup(IN, Traffic.from_packet(IN, CN, HOA, 135, mh_type=MH_HOT)) is hot
    assert hot.template is not None and str(hot.template.tunnel_local) == COA
    lines = xfrm_commands(spd)
    assert lines[0] == (
        f"ip xfrm policy add src {HOA}/128 dst {HA}/128 proto mobility-header type 5 dir out "
        "action allow priority 1000 tmpl proto esp mode transport reqid 0")
    assert lines[1] == (
        f"ip xfrm policy add src {HA}/128 dst {HOA}/128 proto mobility-header type 6 dir in "
        "action allow priority 1000 tmpl proto esp mode transport reqid 0")
    for line in lines:
        parse_policy_add(line)


def test_home_agent_policies_mirror_the_mobile_node() -> None:
    spd = SPD(home_signalling_entries("home-agent", HOA, HA, care_of=COA))
    assert spd.lookup(IN, Traffic.from_packet(IN, HOA, HA, 135, mh_type=MH_BU)) is spd[0]
    assert spd.lookup(OUT, Traffic.from_packet(OUT, HA, HOA, 135, mh_type=MH_BA)) is spd[0]
    assert spd.lookup(IN, Traffic.from_packet(IN, HOA, CN, 135, mh_type=MH_HOTI)) is spd[1]
    assert spd.lookup(OUT, Traffic.from_packet(OUT, CN, HOA, 135, mh_type=MH_HOT)) is spd[1]
    with pytest.raises(UsageError, match="role"):
        home_signalling_entries("router", HOA, HA)  # type: ignore[arg-type]


def test_home_agent_xfrm_matches_the_umip_daemon_layout() -> None:
    """The per-direction MH types and tunnel endpoints are those an independent
    Mobile IPv6 implementation installs (UMIP, src/ipsec.c): HA out BAck / in BU,
    HoT out / HoTI in and fwd, tunnel templates CoA -> HA inbound, HA -> CoA outbound."""
    spd = SPD(home_signalling_entries("home-agent", HOA, HA, care_of=COA))
    parsed = [parse_policy_add(line) for line in xfrm_commands(spd, forward=True)]
    bu_ba = {p["dir"]: p for p in parsed if p["priority"] == 1000}
    assert bu_ba["out"]["type"] == MH_BA and bu_ba["in"]["type"] == MH_BU
    assert str(bu_ba["in"]["src"]) == f"{HOA}/128" and str(bu_ba["in"]["dst"]) == f"{HA}/128"
    hot = {p["dir"]: p for p in parsed if p["priority"] == 1001}
    assert hot["out"]["type"] == MH_HOT and str(hot["out"]["dst"]) == f"{HOA}/128"
    assert hot["in"]["type"] == hot["fwd"]["type"] == MH_HOTI
    assert str(hot["fwd"]["src"]) == f"{HOA}/128" and str(hot["fwd"]["dst"]) == "::/0"
    assert hot["out"]["tmpl"] == [{"src": HA, "dst": COA, "proto": "esp", "mode": "tunnel",
                                   "reqid": "1"}]
    assert hot["fwd"]["tmpl"][0]["src"] == COA  # type: ignore[index]


def test_xfrm_protocol_names_are_the_system_protocol_names() -> None:
    """iproute2 resolves UPSPEC protocol names through /etc/protocols."""
    import socket

    from secmob.ipsec.xfrm import PROTOCOL_NAMES

    for number, name in PROTOCOL_NAMES.items():
        try:
            assert socket.getprotobyname(name) == number
        except OSError:  # pragma: no cover - no /etc/protocols on this system
            pytest.skip("the system has no protocol database")
