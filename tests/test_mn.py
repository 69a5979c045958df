"""The mobile node and mobile router (RFC 6275 §11, RFC 3963 §5), and the
Router Advertisement codec it detects movement with (RFC 4861 §4.2, §4.6.2).
RA octets are checked against scapy in both directions; ESP-protected
Binding Updates are opened by the home agent's engine."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BU,
    ICMPv6ND_RA,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoTI,
    MIP6MH_HoTI,
)

from secmob.errors import DecodeError, Truncated
from secmob.ipsec.engine import Engine
from secmob.ipsec.mip6_manual import home_engines
from secmob.mip6 import packets
from secmob.mip6.cn import CorrespondentNode
from secmob.mip6.mn import MobileNode
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix
from secmob.wire.nd import PrefixInformation, RouterAdvertisement, parse_router_advertisement
from tests._mip6_nodes import CN, HA, addr, rng

MAC = "02:00:5e:00:53:10"
HOME_HOA = addr("2001:db8:1::5eff:fe00:5310")  # 02 -> 00: the u bit inverted
VISITED_COA = addr("2001:db8:2::5eff:fe00:5310")
ROUTER_LL = addr("fe80::1")
NET = addr("2001:db8:10::")


def ra(prefix: str = "2001:db8:2::/64", **kw: Any) -> bytes:
    net = ipaddress.IPv6Network(prefix)
    pio = PrefixInformation(net.prefixlen, net.network_address.packed, **kw)
    return RouterAdvertisement(options=(pio,)).to_packet(ROUTER_LL)


def node(**kw: Any) -> tuple[MobileNode, Engine]:
    mn_engine, ha_engine, _ = home_engines(HOME_HOA, HA, rng("keys"))
    return MobileNode(HOME_HOA, "2001:db8:1::/64", HA, MAC, mn_engine, rng("mn"), **kw), ha_engine


def opened(engine: Engine, pkt: bytes) -> packets.Arrival:
    got = engine.inbound(pkt, now=0)
    assert got.sas and got.packet is not None
    return packets.parse(got.packet)


def ba(seq: int, status: int = 0, lifetime: int = 1000, to_home: bool = False,
       **kw: Any) -> bytes:
    msg = mh.BindingAcknowledgement(status=status, sequence=seq, lifetime=lifetime, **kw)
    if to_home:
        return packets.mobility_packet(HA, HOME_HOA, msg.padded())
    return packets.mobility_packet(HA, VISITED_COA, msg.padded(), routing_to=HOME_HOA)


def protected(engine: Engine, pkt: bytes) -> bytes:
    out = engine.outbound(pkt, now=0)
    assert out.packet is not None and out.verdict.value == "protected"
    return out.packet


# -- Router Advertisements ----------------------------------------------------------


def test_router_advertisement_against_scapy_both_ways() -> None:
    ours = ra(valid_lifetime=3600, preferred_lifetime=1800)
    p = IPv6(ours)
    assert p.hlim == 255 and p[ICMPv6ND_RA].type == 134
    pi = p[ICMPv6NDOptPrefixInfo]
    assert (pi.prefix, pi.prefixlen, pi.L, pi.A, pi.validlifetime) == (
        "2001:db8:2::", 64, 1, 1, 3600)
    q = p.copy()
    del q[ICMPv6ND_RA].cksum
    assert IPv6(bytes(q))[ICMPv6ND_RA].cksum == p[ICMPv6ND_RA].cksum
    theirs = bytes(IPv6(src="fe80::2", dst="ff02::1", hlim=255)
                   / ICMPv6ND_RA(H=1, routerlifetime=600)
                   / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:02")
                   / ICMPv6NDOptPrefixInfo(prefix="2001:db8:3::", prefixlen=64, R=1))
    got = parse_router_advertisement(theirs)
    assert got.home_agent and got.router_lifetime == 600
    [pio] = got.prefixes()
    assert pio.network == ipaddress.IPv6Network("2001:db8:3::/64") and pio.router_address
    assert got.to_packet(addr("fe80::2")) == theirs  # re-encodes to scapy's octets


@pytest.mark.parametrize(("mutate", "match"), [
    (lambda b: b[:7] + b"\x40" + b[8:], "Hop Limit"),
    (lambda b: b[:8] + addr("2001:db8::1") + b[24:], "link-local"),
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum"),
])
def test_router_advertisement_validation(mutate: Any, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        parse_router_advertisement(mutate(ra()))


def test_router_advertisement_option_errors() -> None:
    with pytest.raises(DecodeError, match="Length 0"):
        RouterAdvertisement.decode(bytes(12) + b"\x01\x00" + bytes(6))
    with pytest.raises(Truncated):
        RouterAdvertisement.decode(bytes(12) + b"\x03\x04" + bytes(10))
    with pytest.raises(Truncated):
        RouterAdvertisement.decode(bytes(11))


# -- movement and home registration ---------------------------------------------------


def test_movement_forms_eui64_care_of_address_and_sends_esp_bu() -> None:
    mn, ha_engine = node()
    [bu] = mn.move(ra(), 1)
    assert mn.care_of_address == VISITED_COA and not mn.at_home
    p = IPv6(bu)
    assert p.src == "2001:db8:2::5eff:fe00:5310" and p.dst == "2001:db8:1::1"
    assert p[IPv6ExtHdrDestOpt].options[-1].hoa == "2001:db8:1::5eff:fe00:5310"
    assert p[IPv6ExtHdrDestOpt].nh == 50  # ESP after the Home Address option
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate)
    assert msg.home_registration and msg.ack and msg.lifetime == 1000
    assert mn.move(ra(), 2) == []  # same prefix: no movement


def test_acknowledged_registration_and_retransmission() -> None:
    mn, ha_engine = node()
    [first] = mn.move(ra(), 0)
    assert mn.next_deadline(0) == 1.5  # InitialBindackTimeoutFirstReg
    [again] = mn.tick(1.5)
    s1 = opened(ha_engine, first).mobility()
    s2 = opened(ha_engine, again).mobility()
    assert isinstance(s1, mh.BindingUpdate) and isinstance(s2, mh.BindingUpdate)
    assert s2.sequence == s1.sequence + 1
    assert mn.receive(protected(ha_engine, ba(s1.sequence)), 2) == []  # stale: ignored
    assert not mn.home_registered
    mn.receive(protected(ha_engine, ba(s2.sequence)), 2)
    assert mn.home_registered and mn.home_status == 0
    assert mn.bul.next_deadline(2) == pytest.approx(1.5 + 4000 * 0.9)  # from the sending (§11.7.3)


def test_status_135_resends_with_the_acknowledged_sequence() -> None:
    mn, ha_engine = node()
    mn.move(ra(), 0)
    [resent] = mn.receive(protected(ha_engine, ba(40000, status=135, lifetime=0)), 1)
    msg = opened(ha_engine, resent).mobility()
    assert isinstance(msg, mh.BindingUpdate) and msg.sequence == 40001
    assert mn.events[-2].status == 135


@pytest.mark.parametrize("status", [128, 129, 130, 132, 133, 134, 139, 140, 141, 142, 143])
def test_refusals_stop_retransmission(status: int) -> None:
    mn, ha_engine = node()
    [bu] = mn.move(ra(), 0)
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate)
    assert mn.receive(protected(ha_engine, ba(msg.sequence, status=status, lifetime=0)), 1) == []
    assert mn.home_status == status and not mn.home_registered
    assert mn.next_deadline(1) is None and mn.tick(100) == []


def test_unprotected_acknowledgement_from_home_agent_is_discarded() -> None:
    mn, _ = node()
    mn.move(ra(), 0)
    assert mn.receive(ba(0), 1) == []
    assert mn.events[-1].kind == "discarded" and not mn.home_registered


def test_mobile_router_sets_r_flag_and_prefixes() -> None:
    mr, ha_engine = node(mobile_network_prefixes=[(NET, 48)])
    [bu] = mr.move(ra(), 0)
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate) and msg.mobile_router
    assert msg.option(MobileNetworkPrefix) == MobileNetworkPrefix(48, NET)
    implicit, ha2 = node(mobile_network_prefixes=[(NET, 48)], implicit=True)
    [bu2] = implicit.move(ra(), 0)
    msg2 = opened(ha2, bu2).mobility()
    assert isinstance(msg2, mh.BindingUpdate) and msg2.mobile_router
    assert msg2.option(MobileNetworkPrefix) is None


# -- route optimisation -----------------------------------------------------------------


def registered() -> tuple[MobileNode, Engine]:
    mn, ha_engine = node()
    [bu] = mn.move(ra(), 0)
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate)
    mn.receive(protected(ha_engine, ba(msg.sequence)), 0.5)
    assert mn.home_registered
    return mn, ha_engine


def via_home_agent(pkt: bytes) -> bytes:
    """What the home agent would do with a tunnelled packet / for the home address."""
    return packets.encapsulate(HA, VISITED_COA, pkt)


def test_return_routability_and_route_optimised_traffic() -> None:
    mn, _ = node()
    assert mn.optimise(CN, 0) == []  # waits for the home registration
    mn, _ = registered()
    cn = CorrespondentNode(CN, rng("cn"))
    hoti_pkt, coti_pkt = mn.optimise(CN, 1)
    outer = IPv6(hoti_pkt)
    assert (outer.src, outer.dst, outer.nh) == ("2001:db8:2::5eff:fe00:5310", "2001:db8:1::1", 41)
    assert MIP6MH_HoTI in outer and outer[IPv6].payload.src == "2001:db8:1::5eff:fe00:5310"
    assert MIP6MH_CoTI in IPv6(coti_pkt) and IPv6(coti_pkt).src == "2001:db8:2::5eff:fe00:5310"
    _, inner = packets.decapsulate(hoti_pkt)
    [hot] = cn.receive(inner, 1)
    [cot] = cn.receive(coti_pkt, 1)
    assert mn.receive(cot, 1.1) == []  # waits for the home token too
    [bu] = mn.receive(via_home_agent(hot), 1.2)
    p = IPv6(bu)
    assert p[MIP6MH_BU].seq == 0
    assert p[IPv6ExtHdrDestOpt].options[-1].hoa == "2001:db8:1::5eff:fe00:5310"
    [back] = cn.receive(bu, 1.3)
    assert mn.receive(back, 1.4) == [] and mn.events[-1].kind == "accepted"
    data = mn.send(CN, b"x", 2, protocol=59)
    assert data is not None and HAO in IPv6(data)
    brr = packets.mobility_packet(CN, VISITED_COA, mh.BindingRefreshRequest().padded(),
                                  routing_to=HOME_HOA)
    again = mn.receive(brr, 3)
    assert len(again) == 2 and MIP6MH_HoTI in IPv6(again[0])  # Return Routability restarts


def test_tunnel_and_routing_header_checks() -> None:
    mn, _ = registered()
    stray = packets.encapsulate(addr("2001:db8:9::9"), VISITED_COA,
                                packets.build(CN, HOME_HOA, b"", protocol=59))
    assert mn.receive(stray, 1) == [] and "not the home agent" in mn.events[-1].detail
    wrong = packets.build(CN, VISITED_COA, b"", protocol=59, routing_to=addr("2001:db8:1::99"))
    assert mn.receive(wrong, 1) == [] and "home address" in mn.events[-1].detail
    ok = packets.build(CN, HOME_HOA, b"hi", protocol=59)
    assert mn.receive(via_home_agent(ok), 1) == [] and mn.inbox[-1].route == "tunnel"


def test_returning_home_deregisters() -> None:
    mn, ha_engine = registered()
    mn.peers.clear()
    [dereg] = mn.move(ra("2001:db8:1::/64"), 10)
    assert mn.at_home
    p = IPv6(dereg)
    assert p.src == "2001:db8:1::5eff:fe00:5310" and IPv6ExtHdrDestOpt not in p
    msg = opened(ha_engine, dereg).mobility()
    assert isinstance(msg, mh.BindingUpdate) and msg.lifetime == 0 and msg.home_registration
    mn.receive(protected(ha_engine, ba(msg.sequence, lifetime=0, to_home=True)), 11)
    assert mn.bul.get(HA, HOME_HOA) is None  # the entry is gone (§11.7.3)
    home_data = mn.send(CN, b"", 12, protocol=59)
    assert home_data is not None and IPv6(home_data).src == "2001:db8:1::5eff:fe00:5310"
    assert IPv6ExtHdrRouting not in IPv6(home_data) and HAO not in IPv6(home_data)


def test_home_and_care_of_test_init_are_sent_again_with_backoff() -> None:
    mn, _ = registered()
    first = mn.optimise(CN, 10)
    assert len(first) == 2 and mn.next_deadline(10) == 11  # INITIAL_BINDACK_TIMEOUT
    again = mn.tick(11)
    assert len(again) == 2 and MIP6MH_HoTI in IPv6(again[0])
    assert IPv6(again[1])[MIP6MH_CoTI].cookie != IPv6(first[1])[MIP6MH_CoTI].cookie
    assert mn.next_deadline(11) == 13  # doubled
    assert mn.tick(12) == [] and len(mn.tick(13)) == 2


def test_binding_error_1_from_a_bound_correspondent_restarts_return_routability() -> None:
    mn, _ = registered()
    cn = CorrespondentNode(CN, rng("cn"))
    hoti_pkt, coti_pkt = mn.optimise(CN, 1)
    [hot] = cn.receive(packets.decapsulate(hoti_pkt)[1], 1)
    [cot] = cn.receive(coti_pkt, 1)
    mn.receive(cot, 1)
    [bu] = mn.receive(via_home_agent(hot), 1)
    mn.receive(cn.receive(bu, 1)[0], 1)
    assert mn.bound(CN)
    fresh = CorrespondentNode(CN, rng("cn restarted"))  # lost its binding cache
    data = mn.send(CN, b"x", 2, protocol=59)
    assert data is not None
    [be] = fresh.receive(data, 2)
    out = mn.receive(be, 2)
    assert mn.events[0].kind == "moved" and any(e.status == 1 for e in mn.events)
    assert len(out) == 2 and MIP6MH_CoTI in IPv6(out[1])


def test_moving_again_stops_route_optimisation_until_rebound() -> None:
    mn, ha_engine = registered()
    mn.peers.clear()
    mn.bul.update(CN, HOME_HOA, VISITED_COA, 100, 0)  # pretend a correspondent binding
    entry = mn.bul.get(CN, HOME_HOA)
    assert entry is not None
    entry.registered, entry.expires, entry.outstanding = True, 1000.0, False
    assert mn.bound(CN)
    [bu] = mn.move(ra("2001:db8:3::/64"), 5)
    assert mn.care_of_address == addr("2001:db8:3::5eff:fe00:5310") and not mn.bound(CN)
    pkt = mn.send(CN, b"", 6, protocol=59)
    assert pkt is not None and IPv6(pkt).nh == 41  # reverse tunnel, not a stale HAO
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate) and msg.home_registration


def test_moving_during_return_routability_restarts_it_from_the_new_address() -> None:
    mn, ha_engine = registered()
    assert len(mn.optimise(CN, 1)) == 2
    [bu] = mn.move(ra("2001:db8:3::/64"), 2)
    assert mn.next_deadline(2) == pytest.approx(3)  # only the home registration is pending
    msg = opened(ha_engine, bu).mobility()
    assert isinstance(msg, mh.BindingUpdate)
    new_coa = addr("2001:db8:3::5eff:fe00:5310")
    ack = packets.mobility_packet(HA, new_coa, mh.BindingAcknowledgement(
        status=0, sequence=msg.sequence, lifetime=1000).padded(), routing_to=HOME_HOA)
    hoti, coti = mn.receive(protected(ha_engine, ack), 2.1)
    assert IPv6(hoti).src == IPv6(coti).src == "2001:db8:3::5eff:fe00:5310"
    assert MIP6MH_HoTI in IPv6(hoti) and MIP6MH_CoTI in IPv6(coti)
