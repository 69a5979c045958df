"""secmob.addr: modified EUI-64, temporary, ULA and stable identifiers, RFC 6724."""

import argparse
import hashlib
import ipaddress
import itertools
import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.utils6 import in6_getRandomizedIfaceId, in6_ifaceidtomac, in6_mactoifaceid

from secmob import explain
from secmob.addr import eui64, iid, selection, stable, temporary, ula
from secmob.addr.selection import Destination, SourceCandidate
from secmob.errors import UnsupportedAlgorithm, UsageError
from secmob.trace import Recorder

macs = st.binary(min_size=6, max_size=6)
iids = st.binary(min_size=8, max_size=8)
C = SourceCandidate.of
A = ipaddress.ip_address

# --------------------------------------------------------------------------
# Modified EUI-64 (RFC 4291 §2.5.1, Appendix A)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["34-56-78-9A-BC-DE", "34:56:78:9a:bc:de", "3456.789a.bcde",
                                  "3456789ABCDE", " 34:56:78:9A:BC:DE "])
def test_parse_mac_notations(text: str) -> None:
    assert eui64.parse_mac(text) == bytes.fromhex("3456789abcde")


def test_parse_mac_short_groups_and_eui64() -> None:
    assert eui64.parse_mac("2:0:5e:0:1:1") == bytes.fromhex("02005e000101")
    assert eui64.parse_mac("00-11-22-33-44-55-66-77") == bytes.fromhex("0011223344556677")


@pytest.mark.parametrize("bad", ["", "34:56:78:9a:bc", "34:56:78:9a:bc:de:f0:12:34",
                                 "34-56-78-9A-BC-DG", "345.678.9ab.cde", "3456789abcd",
                                 "34:56-78:9a:bc:de", "xyz"])
def test_parse_mac_rejects(bad: str) -> None:
    with pytest.raises(UsageError, match="MAC"):
        eui64.parse_mac(bad)


def test_rfc2464_example() -> None:
    assert eui64.modified_eui64("34-56-78-9A-BC-DE").hex() == "365678fffe9abcde"
    assert str(eui64.link_local_address("34:56:78:9a:bc:de")) == "fe80::3656:78ff:fe9a:bcde"
    assert eui64.format_mac(eui64.mac_from_iid(bytes.fromhex("365678fffe9abcde")), "-") \
        == "34-56-78-9a-bc-de"


@given(macs)
def test_eui64_round_trip_and_u_bit(mac: bytes) -> None:
    out = eui64.modified_eui64(mac)
    assert len(out) == 8 and out[3:5] == b"\xff\xfe"
    assert (out[0] ^ mac[0]) == iid.U_BIT            # u inverted, nothing else in octet 0
    assert out[0] & 0x01 == mac[0] & 0x01            # g kept
    assert eui64.mac_from_iid(out) == mac
    assert eui64.mac_to_eui64(mac) == eui64.eui64_from_iid(out)


@given(macs)
def test_eui64_agrees_with_scapy_both_ways(mac: bytes) -> None:
    text = ":".join(f"{b:02x}" for b in mac)
    theirs = ipaddress.IPv6Address("::" + in6_mactoifaceid(text)).packed[8:]
    assert eui64.modified_eui64(mac) == theirs
    assert in6_ifaceidtomac(str(ipaddress.IPv6Address(bytes(8) + theirs))[2:]) \
        == eui64.format_mac(eui64.mac_from_iid(theirs))


@given(iids)
def test_64_bit_eui_only_flips_u(eui: bytes) -> None:
    out = eui64.modified_eui64(eui)
    assert out[1:] == eui[1:] and out[0] == eui[0] ^ 0x02
    assert eui64.eui64_from_iid(out) == eui


def test_mac_from_iid_needs_fffe() -> None:
    with pytest.raises(UsageError, match="FF-FE"):
        eui64.mac_from_iid(bytes.fromhex("0123456789abcdef"))
    with pytest.raises(UsageError, match="8 octets"):
        eui64.mac_from_iid(b"\x00" * 7)


@given(macs)
def test_link_local_is_link_local_to_ipaddress(mac: bytes) -> None:
    ll = eui64.link_local_address(mac)
    assert ll.is_link_local and ll in eui64.LINK_LOCAL_PREFIX
    assert selection.scope(ll) == selection.SCOPE_LINK_LOCAL


@given(macs)
def test_slaac_address_is_in_the_prefix(mac: bytes) -> None:
    net = ipaddress.IPv6Network("2001:db8:aa:bb::/64")
    addr = eui64.slaac_address(net, mac)
    assert addr in net and addr.packed[8:] == eui64.modified_eui64(mac)
    assert eui64.slaac_address(net.network_address.packed[:8], eui64.modified_eui64(mac)) == addr


@pytest.mark.parametrize("prefix", ["2001:db8::/48", "2001:db8::/80", "2001:db8::1/64",
                                    "fe80::/64", "not a prefix", "10.0.0.0/8"])
def test_slaac_rejects_prefixes(prefix: str) -> None:
    with pytest.raises(UsageError):
        eui64.slaac_address(prefix, bytes(8))


# --------------------------------------------------------------------------
# Reserved IIDs (RFC 5453)
# --------------------------------------------------------------------------


def test_reserved_ranges() -> None:
    assert iid.reserved_iid_reason(bytes(8)) == "Subnet-Router Anycast (RFC 4291 §2.6.1)"
    assert "Proxy Mobile" in str(iid.reserved_iid_reason(bytes.fromhex("02005efffe005213")))
    assert not iid.is_reserved_iid(bytes.fromhex("02005efffdffffff"))
    with pytest.raises(UsageError):
        iid.is_reserved_iid(b"\x00")


# --------------------------------------------------------------------------
# Temporary addresses
# --------------------------------------------------------------------------


@given(iids, iids)
def test_rfc4941_matches_hashlib_and_clears_u(history: bytes, ident: bytes) -> None:
    res = temporary.rfc4941_iid(history, ident)
    digest = hashlib.md5(history + ident).digest()
    if res.rounds == 1:
        assert res.iid == bytes([digest[0] & 0xFD]) + digest[1:8]
        assert res.history == digest[8:]
    assert res.iid[0] & iid.U_BIT == 0
    assert not iid.is_reserved_iid(res.iid)


def test_rfc4941_restarts_on_unacceptable_iid() -> None:
    hist, ident = bytes(8), bytes.fromhex("365678fffe9abcde")
    first, nxt = temporary.rfc4941_step(hist, ident)
    again = temporary.rfc4941_iid(hist, ident, in_use={first})
    assert again.rounds == 2
    assert (again.iid, again.history) == temporary.rfc4941_step(nxt, ident)


def test_scapy_randomized_iid_differs_from_rfc4941_in_order_and_bit() -> None:
    # scapy hashes IID | history (RFC 3041 order reversed) and clears 0x04 instead of
    # the u bit 0x02; with those two changes the MD5 computation is the same.
    ident, hist = bytes.fromhex("020b93fffeeb02d3"), bytes.fromhex("d006d540db11b092")
    theirs_iid, theirs_hist = in6_getRandomizedIfaceId("20b:93ff:feeb:2d3",
                                                        previous="d006:d540:db11:b092")
    digest = hashlib.md5(ident + hist).digest()
    assert ipaddress.IPv6Address("::" + theirs_hist).packed[8:] == digest[8:]
    assert ipaddress.IPv6Address("::" + theirs_iid).packed[8:] \
        == bytes([digest[0] & ~0x04 & 0xFF]) + digest[1:8]
    ours, _ = temporary.rfc4941_step(hist, ident)
    assert ours != ipaddress.IPv6Address("::" + theirs_iid).packed[8:]


def test_rfc4941_traces_md5() -> None:
    rec = Recorder()
    res = temporary.rfc4941_iid(bytes(8), bytes(range(8)), tracer=rec)
    step = rec.find("MD5(history | IID)")
    assert step.rfc.startswith("RFC 4941 §3.2.1")
    assert step.output == hashlib.md5(bytes(8) + bytes(range(8))).digest()
    assert rec.find("temporary IID").output == res.iid


def _rng_from(chunks: list[bytes]):  # type: ignore[no-untyped-def]
    it = iter(chunks)
    return lambda n: next(it)


@given(st.lists(iids, min_size=1, max_size=5))
def test_random_iid_never_reserved(draws: list[bytes]) -> None:
    reserved = [bytes(8), bytes.fromhex("02005efffe005213"), bytes.fromhex("fdffffffffffff80")]
    rng = _rng_from([*reserved, *draws, bytes.fromhex("1122334455667788")])
    out = temporary.random_iid(rng)
    assert not iid.is_reserved_iid(out)
    assert out == next(d for d in [*draws, bytes.fromhex("1122334455667788")]
                       if not iid.is_reserved_iid(d))


def test_random_iid_bad_rng() -> None:
    with pytest.raises(UsageError, match="unacceptable"):
        temporary.random_iid(bytes)
    with pytest.raises(UsageError, match="must return 8 octets"):
        temporary.random_iid(lambda n: bytes(4))


@given(iids, st.binary(max_size=8), st.binary(min_size=16, max_size=32))
def test_hashed_iid_is_low_64_bits_of_sha256(t: bytes, net_iface: bytes, key: bytes) -> None:
    res = temporary.hashed_iid("2001:db8::/64", t, net_iface, key)
    # RFC 8981 §3.3.2 order: Prefix, Net_Iface, Network_ID (empty), Time, DAD_Counter, key.
    rid = hashlib.sha256(bytes.fromhex("20010db800000000") + net_iface + t + b"\x00" + key).digest()
    if res.dad_counter == 0:
        assert res.iid == rid[-8:] and res.rid == rid
    assert not iid.is_reserved_iid(res.iid)
    assert key.hex() not in repr(res) and res.rid.hex() not in repr(res)


def test_hashed_iid_prf_choices() -> None:
    args = ("2001:db8::/64", b"t", b"eth0", bytes(16))
    assert temporary.hashed_iid(*args, prf="sha1").rid == hashlib.sha1(
        bytes.fromhex("20010db800000000") + b"eth0t\x00" + bytes(16)).digest()
    custom = temporary.hashed_iid(*args, prf=lambda d: hashlib.blake2b(d).digest())
    assert custom.iid == hashlib.blake2b(
        bytes.fromhex("20010db800000000") + b"eth0t\x00" + bytes(16)).digest()[-8:]
    with pytest.raises(UsageError, match="MD5"):
        temporary.hashed_iid(*args, prf="md5")
    with pytest.raises(UnsupportedAlgorithm):
        temporary.hashed_iid(*args, prf="whirlpool")
    with pytest.raises(UsageError, match="at least 8 octets"):
        temporary.hashed_iid(*args, prf=lambda d: b"\x00")


def test_temporary_config_constants() -> None:
    cfg = temporary.DEFAULT_CONFIG
    assert cfg.temp_valid_lifetime == 172800 and cfg.temp_preferred_lifetime == 86400
    assert cfg.regen_advance == 5 and cfg.max_desync_factor == 34560
    with pytest.raises(UsageError):
        temporary.TemporaryConfig(temp_valid_lifetime=10, temp_preferred_lifetime=20)


@given(iids)
def test_desync_factor_in_range(seed: bytes) -> None:
    f = temporary.draw_desync_factor(lambda n: seed)
    assert 0 <= f <= temporary.DEFAULT_CONFIG.max_desync_factor


def test_lifetimes_schedule() -> None:
    lt = temporary.temporary_lifetimes(1000, public_valid=30 * 86400,
                                       public_preferred=7 * 86400, desync_factor=600)
    assert lt is not None
    assert lt.valid_until == 1000 + 172800
    assert lt.preferred_until == 1000 + 86400 - 600
    assert lt.regenerate_at == lt.preferred_until - 5
    assert lt.state(1000) == "preferred" and not lt.due_for_regeneration(1000)
    assert lt.due_for_regeneration(lt.regenerate_at)
    assert lt.state(lt.preferred_until) == "deprecated"
    assert lt.state(lt.valid_until) == "invalid"
    # public lifetimes shorter than the temporary maxima win
    short = temporary.temporary_lifetimes(0, 3600, 1800, 600)
    assert short is not None and (short.preferred_until, short.valid_until) == (1800, 3600)
    # preferred lifetime not above REGEN_ADVANCE: no temporary address (RFC 8981 §3.4 step 5)
    assert temporary.temporary_lifetimes(0, 3600, 5, 0) is None


def test_lifetimes_refresh_is_capped_by_creation_time() -> None:
    lt = temporary.temporary_lifetimes(0, 3600, 1800, 600)
    assert lt is not None
    later = lt.refresh(1000, valid_lifetime=10 * 86400, preferred_lifetime=10 * 86400)
    assert later.preferred_until == 86400 - 600 and later.valid_until == 172800
    shorter = lt.refresh(1000, valid_lifetime=100, preferred_lifetime=50)
    assert (shorter.preferred_until, shorter.valid_until) == (1050, 1100)


@pytest.mark.parametrize(("valid", "preferred", "desync"), [(10, 20, 0), (-1, 0, 0),
                                                             (100, 50, 40000)])
def test_lifetimes_reject(valid: float, preferred: float, desync: float) -> None:
    with pytest.raises(UsageError):
        temporary.temporary_lifetimes(0, valid, preferred, desync)


# --------------------------------------------------------------------------
# ULA (RFC 4193)
# --------------------------------------------------------------------------


def test_ntp_timestamp() -> None:
    assert ula.ntp_timestamp(0) == (2208988800).to_bytes(4, "big") + bytes(4)
    assert ula.ntp_timestamp(0.5)[4:] == (2**31).to_bytes(4, "big")
    with pytest.raises(UsageError):
        ula.ntp_timestamp(2**32)


@given(iids, st.one_of(macs, iids), st.integers(0, 0xFFFF))
def test_ula_prefix_properties(ntp: bytes, ident: bytes, subnet_id: int) -> None:
    rec = Recorder()
    prefix = ula.ula_prefix_from(ntp, ident, tracer=rec)
    eui = eui64.modified_eui64(ident) if len(ident) == 6 else ident
    gid = hashlib.sha1(ntp + eui).digest()[-5:]
    assert prefix.prefixlen == 48 and prefix.subnet_of(ula.ULA_PREFIX)
    assert prefix.network_address.is_private
    assert ula.global_id_of(prefix) == gid and rec.find("Global ID").output == gid
    subnet = ula.ula_subnet(prefix, subnet_id)
    assert subnet.subnet_of(prefix) and subnet.prefixlen == 64
    assert int.from_bytes(subnet.network_address.packed[6:8], "big") == subnet_id


def test_ula_rejects() -> None:
    with pytest.raises(UsageError):
        ula.ula_prefix(b"\x00" * 4)
    with pytest.raises(UsageError):
        ula.ula_subnet("2001:db8::/48", 1)
    with pytest.raises(UsageError):
        ula.ula_subnet("fd00::/48", -1)
    with pytest.raises(UsageError):
        ula.global_id(b"\x00" * 7, bytes(8))


# --------------------------------------------------------------------------
# Stable IIDs (RFC 7217)
# --------------------------------------------------------------------------

KEY = bytes(range(16))


def test_stable_iid_stable_per_network_and_opaque() -> None:
    a = stable.stable_iid("2001:db8:1::/64", b"eth0", KEY)
    assert a == stable.stable_iid("2001:db8:1::/64", b"eth0", KEY)
    assert a.iid != stable.stable_iid("2001:db8:2::/64", b"eth0", KEY).iid
    assert a.iid != stable.stable_iid("2001:db8:1::/64", b"eth1", KEY).iid
    assert a.iid != stable.stable_iid("2001:db8:1::/64", b"eth0", KEY, dad_counter=1).iid
    addr = stable.stable_address("2001:db8:1::/64", b"eth0", KEY)
    assert addr.packed[8:] == a.iid and addr in ipaddress.IPv6Network("2001:db8:1::/64")


def test_stable_iid_dad_retries_and_in_use() -> None:
    first = stable.stable_iid("2001:db8:1::/64", b"eth0", KEY)
    bumped = stable.stable_iid("2001:db8:1::/64", b"eth0", KEY, in_use={first.iid})
    assert bumped.dad_counter == 1
    assert bumped.iid == stable.stable_iid("2001:db8:1::/64", b"eth0", KEY, dad_counter=1).iid
    stable.stable_iid("2001:db8:1::/64", b"eth0", KEY, dad_counter=stable.IDGEN_RETRIES)
    with pytest.raises(UsageError, match="IDGEN_RETRIES"):
        stable.stable_iid("2001:db8:1::/64", b"eth0", KEY, dad_counter=stable.IDGEN_RETRIES + 1)
    with pytest.raises(UsageError, match="128 bits"):
        stable.stable_iid("2001:db8:1::/64", b"eth0", bytes(15))
    with pytest.raises(UsageError, match="must be bytes"):
        stable.stable_iid("2001:db8:1::/64", "eth0", KEY)  # type: ignore[arg-type]


def test_stable_iid_traces_sha256() -> None:
    rec = Recorder()
    res = stable.stable_iid("fe80::/64", b"eth0", KEY, network_id=b"ssid", tracer=rec)
    step = rec.find("RID (SHA-256)")
    assert step.rfc == "RFC 7217 §5" and step.output == res.rid
    assert step.formula.startswith("RID = SHA-256(Prefix")


# --------------------------------------------------------------------------
# RFC 6724: policy table and scope
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("addr", "prec", "lab"), [
    ("::1", 50, 0), ("2001:0:4136:e378::1", 5, 5), ("2001:db8::1", 40, 1), ("10.0.0.1", 35, 4),
    ("::ffff:10.0.0.1", 35, 4), ("2002:c633:6401::1", 30, 2), ("fd00::1", 3, 13),
    ("::10.0.0.1", 1, 3), ("fec0::1", 1, 11), ("3ffe::1", 1, 12), ("fe80::1", 40, 1),
])
def test_default_policy(addr: str, prec: int, lab: int) -> None:
    assert (selection.precedence(addr), selection.label(addr)) == (prec, lab)


v6addrs = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


@given(v6addrs)
def test_scope_agrees_with_ipaddress(a: ipaddress.IPv6Address) -> None:
    s = selection.scope(a)
    if a.is_multicast:
        assert s == a.packed[1] & 0x0F
    elif a.ipv4_mapped is not None:
        v4 = a.ipv4_mapped
        assert s == (2 if v4.is_loopback or v4.is_link_local else 14)
    elif a.is_link_local or a.is_loopback:
        assert s == selection.SCOPE_LINK_LOCAL
    elif a.is_site_local:
        assert s == selection.SCOPE_SITE_LOCAL
    else:
        assert s == selection.SCOPE_GLOBAL


@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_ipv4_scope_agrees_with_ipaddress(a: ipaddress.IPv4Address) -> None:
    want = 2 if a.is_loopback or a.is_link_local else 14
    assert selection.scope(a) == want == selection.scope(f"::ffff:{a}")


def test_common_prefix_len_caps_at_source_prefix() -> None:
    assert selection.common_prefix_len("fe80::1", "fe80::2") == 64
    assert selection.common_prefix_len("2001:db8:1::2", "2001:db8:3ffe::1") == 34
    assert selection.common_prefix_len("2001:db8::1", "2001:db8::1", 128) == 128
    assert selection.common_prefix_len("10.1.2.4", "10.1.2.3", 24) == 24


# --------------------------------------------------------------------------
# RFC 6724 §5: each source rule alone
# --------------------------------------------------------------------------

CTX = selection.DEFAULT_CONTEXT
D = A("2001:db8:1::1")


@pytest.mark.parametrize(("rule", "winner", "loser", "dest"), [
    (selection.src_rule1, C("2001:db8:1::1"), C("2001:db8:1::2"), D),
    (selection.src_rule2, C("2001:db8:3::1"), C("fe80::1"), D),
    (selection.src_rule2, C("fe80::1"), C("2001:db8:3::1"), A("fe80::9")),
    (selection.src_rule2, C("2001:db8:3::1"), C("fe80::1"), A("ff05::1")),
    (selection.src_rule3, C("2001:db8:1::3"), C("2001:db8:1::2", deprecated=True), D),
    (selection.src_rule4, C("2001:db8:3::2", home=True), C("2001:db8:1::2", care_of=True), D),
    (selection.src_rule4, C("2001:db8:3::2", home=True, care_of=True),
     C("2001:db8:1::2", home=True), D),
    (selection.src_rule5, C("2001:db8:1::3"), C("2001:db8:1::2", on_outgoing_interface=False), D),
    (selection.src_rule5_5, C("2001:db8:1::3"), C("2001:db8:1::2", from_next_hop=False), D),
    (selection.src_rule6, C("2002:c633:6401::2"), C("2001:db8:1::2"), A("2002:c633:6401::1")),
    (selection.src_rule7, C("2001:db8:1::3", temporary=True), C("2001:db8:1::2"), D),
    (selection.src_rule8, C("2001:db8:1::2"), C("2001:db8:3::2"), D),
])
def test_source_rule_alone(rule: selection.SourceRule, winner: SourceCandidate,
                           loser: SourceCandidate, dest: selection.Address) -> None:
    assert rule(winner, loser, dest, CTX) == 1
    assert rule(loser, winner, dest, CTX) == -1
    assert rule(winner, winner, dest, CTX) == 0


def test_rule4_abstains_on_unnamed_pairs() -> None:
    plain, home, coa = C("2001:db8:1::2"), C("2001:db8:3::2", home=True), C("2001:db8:3::3",
                                                                             care_of=True)
    assert selection.src_rule4(plain, home, D, CTX) == 0
    assert selection.src_rule4(plain, coa, D, CTX) == 0


def test_rule7_can_be_reversed() -> None:
    public = selection.SelectionContext(prefer_temporary=False)
    temp, pub = C("2001:db8:1::3", temporary=True), C("2001:db8:1::2")
    assert selection.src_rule7(temp, pub, D, public) == -1
    assert selection.select_source(D, [temp, pub], public) == pub


def test_source_rules_apply_in_order() -> None:
    # rule 4 (home) beats rule 8 (longest match)
    coa, home = C("2001:db8:1::2", care_of=True), C("2001:db8:3::2", home=True)
    assert selection.compare_sources(home, coa, D) == selection.Decision(1, "4")
    assert selection.select_source(D, [coa, home]) == home
    assert selection.select_source(D, []) is None
    assert selection.select_source(D, [C("10.0.0.1")]) is None
    tie = selection.compare_sources(C("2001:db8:1::2"), C("2001:db8:1::3"), D)
    assert tie == selection.Decision(0, None)


def test_source_selection_is_order_independent() -> None:
    cands = [C("2001:db8:1::2", care_of=True), C("2001:db8:3::2", home=True), C("fe80::1"),
             C("2001:db8:1::5", deprecated=True)]
    picks = {selection.select_source(D, list(p)) for p in itertools.permutations(cands)}
    assert picks == {cands[1]}


# --------------------------------------------------------------------------
# RFC 6724 §6: each destination rule alone
# --------------------------------------------------------------------------


def _d(addr: str, src: SourceCandidate | None = None, **kw: bool) -> Destination:
    return Destination(A(addr), src if src is not None else C("2001:db8:1::2"), **kw)


@pytest.mark.parametrize(("rule", "winner", "loser"), [
    (selection.dst_rule1, _d("2001:db8:1::5"), _d("2001:db8:1::1", reachable=False)),
    (selection.dst_rule1, _d("2001:db8:1::5"), Destination(A("2001:db8:1::1"))),
    (selection.dst_rule2, _d("fe80::9", C("fe80::2")), _d("2001:db8:1::9", C("fe80::2"))),
    (selection.dst_rule3, _d("fe80::a", C("fe80::3")),
     _d("fe80::9", C("fe80::2", deprecated=True))),
    (selection.dst_rule4, _d("fe80::9", C("fe80::2", home=True)),
     _d("fe80::a", C("fe80::3", care_of=True))),
    (selection.dst_rule5, _d("2002:c633:6401::1", C("2002:c633:6401::2")),
     _d("2001:db8:1::1", C("2002:c633:6401::2"))),
    (selection.dst_rule6, _d("2001:db8:1::1"), _d("10.1.2.3", C("10.1.2.4"))),
    (selection.dst_rule7, _d("2001:db8:1::5"), _d("2001:db8:1::1", encapsulated=True)),
    (selection.dst_rule8, _d("fe80::1", C("fe80::2")), _d("2001:db8:1::1")),
    (selection.dst_rule9, _d("2001:db8:1::1"), _d("2001:db8:3ffe::1", C("2001:db8:3f44::2"))),
])
def test_destination_rule_alone(rule: selection.DestinationRule, winner: Destination,
                                loser: Destination) -> None:
    assert rule(winner, loser, CTX) == 1
    assert rule(loser, winner, CTX) == -1


def test_destination_rule9_same_family_only() -> None:
    a, b = _d("2001:db8:1::1"), _d("10.1.2.3", C("10.9.9.9"))
    assert selection.dst_rule9(a, b, CTX) == 0


def test_destination_rule10_keeps_order() -> None:
    first, second = _d("2001:db8:1::7"), _d("2001:db8:1::8")
    assert selection.order_destinations([first, second]) == [first, second]
    assert selection.order_destinations([second, first]) == [second, first]


def test_mobile_node_prefers_home_address_end_to_end() -> None:
    # Away from home: a care-of address on the visited link, formed by SLAAC from
    # the Router Advertisement prefix, and the home address.
    coa = eui64.slaac_address("2001:db8:ffff:1::/64", "34:56:78:9a:bc:de")
    cands = [C(coa, care_of=True), C("2001:db8:1::2", home=True)]
    chosen = selection.select_source("2001:db8:ffff:1::99", cands)
    assert chosen is not None and chosen.home
    assert selection.compare_sources(cands[1], cands[0], A("2001:db8:ffff:1::99")).rule == "4"


def test_selection_input_errors() -> None:
    with pytest.raises(UsageError):
        selection.scope("not-an-address")
    with pytest.raises(UsageError):
        selection.policy("::1", table=[])


# --------------------------------------------------------------------------
# explain walkthrough
# --------------------------------------------------------------------------


def test_explain_addr_topic() -> None:
    topic = explain.topics()["addr"]
    parser = argparse.ArgumentParser()
    topic.configure(parser)
    rec = topic.run(parser.parse_args([]))
    names = [s.name for s in rec]
    assert "modified EUI-64" in names and "MD5(history | IID)" in names
    assert "SHA-1(time | EUI-64)" in names and "RID (SHA-256)" in names
    assert rec.find("modified EUI-64").output == bytes.fromhex("365678fffe9abcde")


# --------------------------------------------------------------------------
# RFC 4862 §5.5.3 Prefix Information processing
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "kw", "reason"), [
    ("2001:db8:1::/64", {}, None),
    ("2001:db8:1::/64", {"autonomous": False}, "§5.5.3 a"),
    ("fe80::/64", {}, "§5.5.3 b"),
    ("2001:db8:1::/64", {"preferred_lifetime": 9000}, "§5.5.3 c"),
    ("2001:db8::/48", {}, "§5.5.3 d"),
])
def test_slaac_ignore_reason(prefix: str, kw: dict[str, object], reason: str | None) -> None:
    args: dict[str, object] = {"valid_lifetime": 3600, "preferred_lifetime": 1800, **kw}
    got = eui64.slaac_ignore_reason(prefix, **args)  # type: ignore[arg-type]
    assert got == reason if reason is None else reason in str(got)


@pytest.mark.parametrize(("received", "remaining", "auth", "want"), [
    (10000, 50000, False, 10000),   # 1: more than two hours
    (600, 300, False, 600),         # 1: more than remaining
    (600, 3600, False, 3600),       # 2: remaining <= 2 h, unauthenticated: ignored
    (600, 3600, True, 600),         # 2: authenticated RA
    (600, 86400, False, 7200),      # 3: reset to two hours
])
def test_two_hour_rule(received: float, remaining: float, auth: bool, want: float) -> None:
    assert eui64.updated_valid_lifetime(received, remaining, auth) == want


# --------------------------------------------------------------------------
# RFC 6724: properties over generated candidates
# --------------------------------------------------------------------------

_PREFIXES = ["2001:db8:1::", "2001:db8:3::", "fe80::", "2002:c633:6401::", "fd00::", "fec0::"]
candidates = st.builds(
    lambda p, host, **kw: SourceCandidate(A(p) + host, **kw),
    st.sampled_from(_PREFIXES), st.integers(1, 2**16),
    deprecated=st.booleans(), home=st.booleans(), care_of=st.booleans(),
    temporary=st.booleans(), on_outgoing_interface=st.booleans(), from_next_hop=st.booleans(),
)
dests = st.builds(lambda p, host: A(p) + host, st.sampled_from([*_PREFIXES, "ff05::", "ff02::"]),
                  st.integers(1, 2**16))


@given(candidates, candidates, dests)
def test_source_comparison_is_antisymmetric(a: SourceCandidate, b: SourceCandidate,
                                            d: ipaddress.IPv6Address) -> None:
    ab, ba = selection.compare_sources(a, b, d), selection.compare_sources(b, a, d)
    assert ab.preference == -ba.preference and ab.rule == ba.rule


plain_candidates = candidates.map(lambda c: replace(c, home=False, care_of=False))


@given(st.lists(plain_candidates, min_size=1, max_size=6, unique_by=lambda c: c.address), dests)
def test_selected_source_beats_or_ties_every_other(cands: list[SourceCandidate],
                                                   d: ipaddress.IPv6Address) -> None:
    # without rule 4 every rule orders all pairs, so the choice is a maximum
    chosen = selection.select_source(d, cands)
    assert chosen is not None
    assert all(selection.compare_sources(chosen, o, d).preference >= 0 for o in cands)


@given(st.lists(candidates, min_size=1, max_size=6, unique_by=lambda c: c.address), dests,
       st.randoms(use_true_random=False))
def test_source_choice_does_not_depend_on_input_order(cands: list[SourceCandidate],
                                                      d: ipaddress.IPv6Address,
                                                      rnd: random.Random) -> None:
    shuffled = cands[:]
    rnd.shuffle(shuffled)
    a, b = selection.select_source(d, cands), selection.select_source(d, shuffled)
    assert a is not None and b is not None
    assert selection.compare_sources(a, b, d).preference == 0


def test_rule4_partial_order_does_not_make_the_choice_order_dependent() -> None:
    # plain P ties home H, P loses to temporary care-of C (rule 7), H beats C (rule 4):
    # §5 discards C at rule 4, whatever the order of the candidates
    d = A("2001:db8:1::2")
    p = C("2001:db8:1::1")
    h = C("2001:db8:1::3", home=True)
    c = C("2001:db8:3::1", care_of=True, temporary=True)
    for perm in itertools.permutations([p, h, c]):
        assert selection.select_source(d, list(perm)) in (p, h)


@given(st.lists(st.builds(lambda a, s, r, e: Destination(a, s, reachable=r, encapsulated=e),
                          dests, candidates, st.booleans(), st.booleans()),
                min_size=1, max_size=5, unique_by=lambda x: x.address))
def test_destination_order_is_a_permutation_and_first_is_unbeaten(ds: list[Destination]) -> None:
    out = selection.order_destinations(ds)
    assert sorted(map(str, (x.address for x in out))) == sorted(map(str, (x.address for x in ds)))
    plain = [replace(x, source=replace(x.source, home=False, care_of=False)) for x in ds
             if x.source is not None]
    if len(plain) == len(ds):
        first = selection.order_destinations(plain)[0]
        assert all(selection.compare_destinations(first, o).preference >= 0 for o in plain)


def test_candidates_validate_their_address() -> None:
    assert SourceCandidate("2001:db8::1").address == A("2001:db8::1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not an IPv4 or IPv6 address"):
        SourceCandidate.of("2001:db8::zz")
    with pytest.raises(UsageError, match="prefix_len"):
        SourceCandidate.of("10.0.0.1", prefix_len=40)
    with pytest.raises(UsageError):
        Destination("nowhere")  # type: ignore[arg-type]
