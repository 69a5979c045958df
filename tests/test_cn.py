"""The correspondent node (RFC 6275 §9): Return Routability answers, Binding
Update checks in the order of §9.5.1 with each status from its cause, the
lifetime cap, route-optimised sending, Home Address option checks and
Binding Refresh Requests. Packets are checked with scapy and plain hmac."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    UDP,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_HoT,
)

from secmob.mip6 import packets, rr
from secmob.mip6.cn import CorrespondentNode
from secmob.wire import l4
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import BindingAuthorizationData
from tests._mip6_nodes import CN, COA, HOA, rng


def node() -> CorrespondentNode:
    return CorrespondentNode(CN, rng("cn"), refresh_advance=10)


def run_rr(cn: CorrespondentNode, mn: rr.MobileNode, *, home_at: float = 0,
           care_at: float = 0, received: float | None = None) -> None:
    """HoTI from the home address and CoTI from the care-of address; feed the
    answers to ``mn``."""
    hoti, coti = mn.start()
    [hot] = cn.receive(packets.mobility_packet(HOA, CN, hoti), home_at)
    [cot] = cn.receive(packets.mobility_packet(mn.care_of_address, CN, coti), care_at)
    for pkt, at in ((hot, home_at), (cot, care_at)):
        msg = packets.parse(pkt).mobility()
        assert isinstance(msg, mh.HomeTest)
        mn.receive(msg, at if received is None else received)


def send_bu(cn: CorrespondentNode, mn: rr.MobileNode, seq: int, lifetime: int,
            now: float, *, ack: bool = True) -> list[bytes]:
    bu = mn.binding_update(seq, lifetime, now, ack=ack)
    if mn.care_of_address == mn.home_address:
        return cn.receive(packets.mobility_packet(HOA, CN, bu), now)
    return cn.receive(packets.mobility_packet(mn.care_of_address, CN, bu,
                                              home_address=HOA), now)


def ba_of(pkt: bytes) -> mh.BindingAcknowledgement:
    msg = packets.parse(pkt).mobility()
    assert isinstance(msg, mh.BindingAcknowledgement)
    return msg


def registered(seq: int = 10000, lifetime: int = 100) -> tuple[CorrespondentNode, rr.MobileNode]:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    run_rr(cn, mn)
    [ba] = send_bu(cn, mn, seq, lifetime, 1)
    assert ba_of(ba).status == 0
    return cn, mn


def test_home_and_care_of_tests_carry_tokens_cookies_and_indices() -> None:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    hoti, coti = mn.start()
    [hot] = cn.receive(packets.mobility_packet(HOA, CN, hoti), 5)
    [cot] = cn.receive(packets.mobility_packet(COA, CN, coti), 5)
    nonce = cn.rr.nonces.lookup(0, 5)
    assert nonce is not None
    kcn, value = nonce.kcn, nonce.value
    p = IPv6(hot)
    assert (p.src, p.dst) == ("2001:db8:4::1", "2001:db8:1::10")
    m = p[MIP6MH_HoT]
    assert m.index == 0 and m.cookie == hoti.cookie
    assert m.token == hmac.new(kcn, HOA + value + b"\0", hashlib.sha1).digest()[:8]
    q = IPv6(cot)
    assert q.dst == "2001:db8:2::10"
    c = q[MIP6MH_CoT]
    assert c.cookie == coti.cookie
    assert c.token == hmac.new(kcn, COA + value + b"\1", hashlib.sha1).digest()[:8]


def test_binding_update_accepted_with_signed_acknowledgement_via_rh2() -> None:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    run_rr(cn, mn)
    [pkt] = send_bu(cn, mn, 10000, 100, 1)
    p = IPv6(pkt)
    assert p.dst == "2001:db8:2::10" and p[IPv6ExtHdrRouting].type == 2
    assert p[IPv6ExtHdrRouting].addresses == ["2001:db8:1::10"]
    assert p[MIP6MH_BA].status == 0 and p[MIP6MH_BA].seq == 10000
    ba = mn.verify_acknowledgement(packets.parse(pkt).payload, 2)
    assert ba.lifetime == 100
    entry = cn.cache.lookup(HOA, 2)
    assert entry is not None and entry.care_of_address == COA
    assert cn.events[-1].kind == "accepted"


@pytest.mark.parametrize(("second", "status"), [(42767, 0), (42768, 135)])
def test_sequence_number_window(second: int, status: int) -> None:
    cn, mn = registered(seq=10000)
    [pkt] = send_bu(cn, mn, second, 100, 2)
    ba = mn.verify_acknowledgement(packets.parse(pkt).payload, 3)  # signed either way
    assert ba.status == status
    assert ba.sequence == (second if status == 0 else 10000)  # 135 carries the last one


def test_lifetime_is_capped_at_max_rr_binding_lifetime() -> None:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    run_rr(cn, mn)
    [pkt] = send_bu(cn, mn, 1, 106, 1)
    assert ba_of(pkt).lifetime == 105 == rr.MAX_RR_BINDING_LIFETIME // 4
    entry = cn.cache.lookup(HOA, 1)
    assert entry is not None and entry.expires == 1 + 420


@pytest.mark.parametrize(("home_at", "care_at", "status"), [
    (0, 100, 136), (100, 0, 137), (0, 0, 138)])
def test_expired_nonce_indices(home_at: float, care_at: float, status: int) -> None:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    # issue in time order so that each time gets its own nonce
    hoti, coti = mn.start()
    first, second = sorted([("home", home_at), ("care", care_at)], key=lambda t: t[1])
    got: dict[str, bytes] = {}
    for which, at in (first, second):
        msg = (hoti if which == "home" else coti)
        src = HOA if which == "home" else COA
        [got[which]] = cn.receive(packets.mobility_packet(src, CN, msg), at)
    for which in ("home", "care"):
        m = packets.parse(got[which]).mobility()
        assert isinstance(m, mh.HomeTest)
        mn.receive(m, 200)  # tokens still young at the mobile node
    [pkt] = send_bu(cn, mn, 5, 50, 241)
    ba = ba_of(pkt)
    assert ba.status == status and ba.option(BindingAuthorizationData) is None  # §6.1.8
    assert IPv6(pkt)[MIP6MH_BA].status == status
    assert cn.cache.lookup(HOA, 241) is None


def test_forged_authenticator_is_silently_discarded() -> None:
    cn = node()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    run_rr(cn, mn)
    bu = mn.binding_update(1, 100, 1)
    forged = bu[:-1] + bytes([bu[-1] ^ 1])
    assert cn.receive(packets.mobility_packet(COA, CN, forged, home_address=HOA), 1) == []
    assert cn.events[-1].kind == "discarded" and len(cn.cache) == 0
    # a forged update with a stale sequence number gets no (unsigned) 135 either
    cn2, mn2 = registered(seq=10)
    bu2 = mn2.binding_update(9, 100, 2)
    bad = bu2[:-1] + bytes([bu2[-1] ^ 1])
    assert cn2.receive(packets.mobility_packet(COA, CN, bad, home_address=HOA), 2) == []


def test_home_registration_refused_with_131() -> None:
    cn = node()
    bu = mh.BindingUpdate(sequence=1, lifetime=10, ack=True, home_registration=True).padded()
    [pkt] = cn.receive(packets.mobility_packet(COA, CN, bu, home_address=HOA), 0)
    assert IPv6(pkt)[MIP6MH_BA].status == 131


def test_deregistration_uses_the_home_keygen_token_only() -> None:
    cn, mn = registered(seq=1)
    mn.care_of_address = HOA  # back home: the home address is the care-of address
    hoti, _ = mn.start()
    [hot] = cn.receive(packets.mobility_packet(HOA, CN, hoti), 10)
    msg = packets.parse(hot).mobility()
    assert isinstance(msg, mh.HomeTest)
    mn.receive(msg, 10)
    [pkt] = send_bu(cn, mn, 2, 0, 11)
    p = IPv6(pkt)
    assert p.dst == "2001:db8:1::10" and IPv6ExtHdrRouting not in p  # sent home directly
    ba = packets.parse(pkt).payload
    kbm = hashlib.sha1(msg.keygen_token).digest()
    mh_data = ba[:4] + b"\0\0" + ba[6:-12]
    want = hmac.new(kbm, HOA + CN + mh_data, hashlib.sha1).digest()[:12]
    assert ba[-12:] == want and mh.decode(ba).status == 0  # type: ignore[attr-defined]
    assert cn.cache.lookup(HOA, 11) is None


def test_home_address_option_needs_a_binding() -> None:
    cn = node()
    pkt = bytes(IPv6(src="2001:db8:2::10", dst="2001:db8:4::1")
                / IPv6ExtHdrDestOpt(options=[HAO(hoa="2001:db8:1::10")])
                / UDP(sport=1000, dport=2000) / b"ping")
    [be] = cn.receive(pkt, 0)
    p = IPv6(be)
    assert p.dst == "2001:db8:2::10"
    assert p[MIP6MH_BE].status == 1 and p[MIP6MH_BE].ha == "2001:db8:1::10"
    assert not cn.inbox
    cn2, _ = registered()
    assert cn2.receive(pkt, 2) == []
    [d] = cn2.inbox
    assert d.source == HOA and d.route == "route-optimised" and d.payload[-4:] == b"ping"
    # from another care-of address than the bound one: refused again
    other = bytes(IPv6(src="2001:db8:9::10", dst="2001:db8:4::1")
                  / IPv6ExtHdrDestOpt(options=[HAO(hoa="2001:db8:1::10")]) / UDP() / b"x")
    [be2] = cn2.receive(other, 3)
    assert IPv6(be2)[MIP6MH_BE].status == 1


def test_unknown_mh_type_gets_binding_error_2() -> None:
    cn = node()
    msg = mh.UnknownMessage(type=42, data=bytes(2))
    [be] = cn.receive(packets.mobility_packet(COA, CN, msg), 0)
    assert IPv6(be)[MIP6MH_BE].status == 2


def test_bad_mh_checksum_is_discarded() -> None:
    cn = node()
    raw = bytearray(packets.mobility_packet(HOA, CN, mh.HomeTestInit(cookie=bytes(8)).padded()))
    raw[-1] ^= 0xFF
    assert cn.receive(bytes(raw), 0) == [] and cn.events[-1].kind == "discarded"


def test_route_optimised_send_and_binding_refresh_request() -> None:
    cn, _ = registered(lifetime=20)  # 80 s
    pkt = cn.send(HOA, l4.UDP.build(7, 7, b"data"), 50)
    p = IPv6(pkt)
    assert p.dst == "2001:db8:2::10" and p[IPv6ExtHdrRouting].addresses == ["2001:db8:1::10"]
    q = p.copy()
    del q[UDP].chksum  # scapy recomputes it over the home address (final destination)
    assert IPv6(bytes(q))[UDP].chksum == p[UDP].chksum
    assert cn.tick(60) == []  # not near expiry yet
    cn.send(HOA, b"", 75, protocol=59)  # used within 10 s of expiry (81)
    [brr] = cn.tick(76)
    q = IPv6(brr)
    assert MIP6MH_BRR in q and q.dst == "2001:db8:2::10"
    assert q[IPv6ExtHdrRouting].addresses == ["2001:db8:1::10"]
    assert cn.tick(82) == [] and cn.cache.lookup(HOA, 82) is None
    plain = IPv6(cn.send(HOA, b"", 83, protocol=59))
    assert plain.dst == "2001:db8:1::10"
