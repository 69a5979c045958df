"""The home agent (RFC 6275 §10, RFC 3963 §6): ESP-protected home
registration through the IPsec engine, each refusal status from its cause,
tunnelling to the care-of address, reverse tunnelling and NEMO prefixes.
ESP is checked against scapy's independent implementation."""

from __future__ import annotations

from typing import Any

from scapy.layers.inet import UDP
from scapy.layers.inet6 import MIP6MH_BA, MIP6MH_BU, IPv6, IPv6ExtHdrRouting, MIP6MH_HoTI
from scapy.layers.ipsec import ESP, SecurityAssociation

from secmob.ipsec.engine import Engine
from secmob.ipsec.mip6_manual import EspKeys, home_engines
from secmob.mip6 import packets
from secmob.mip6.ha import HomeAgent
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix
from tests._mip6_nodes import COA, HA, HOA, addr, rng

NET = addr("2001:db8:aa::")


def setup(hoa: bytes = HOA, **kw: Any) -> tuple[HomeAgent, Engine, list[EspKeys]]:
    mn_engine, ha_engine, keys = home_engines(hoa, HA, rng("keys"))
    return HomeAgent(HA, "2001:db8:1::/64", ha_engine, **kw), mn_engine, keys


def bu_packet(engine: Engine, bu: mh.BindingUpdate, *, hoa: bytes = HOA,
              coa: bytes | None = COA, now: float = 0) -> bytes:
    if coa is None:  # at home
        plain = packets.mobility_packet(hoa, HA, bu.padded())
    else:
        plain = packets.mobility_packet(coa, HA, bu.padded(), home_address=hoa)
    out = engine.outbound(plain, now=now)
    assert out.packet is not None and out.verdict.value == "protected"
    return out.packet


def register(ha: HomeAgent, engine: Engine, *, hoa: bytes = HOA, coa: bytes | None = COA,
             now: float = 0, **bu: Any) -> mh.BindingAcknowledgement:
    fields: dict[str, Any] = {"sequence": 1, "lifetime": 100, "ack": True,
                              "home_registration": True}
    fields.update(bu)
    [reply] = ha.receive(bu_packet(engine, mh.BindingUpdate(**fields), hoa=hoa, coa=coa,
                                   now=now), now)
    got = engine.inbound(reply, now=now)
    assert got.sas  # the acknowledgement came through ESP
    assert got.packet is not None
    msg = packets.parse(got.packet).mobility()
    assert isinstance(msg, mh.BindingAcknowledgement)
    return msg


def test_home_registration_over_esp_checked_by_scapy() -> None:
    ha, engine, keys = setup(max_lifetime=1000)
    bu = bu_packet(engine, mh.BindingUpdate(sequence=7, lifetime=2000, ack=True,
                                            home_registration=True))
    sa = SecurityAssociation(ESP, spi=keys[0].spi, crypt_algo="AES-CBC",
                             crypt_key=keys[0].cipher_key, auth_algo="HMAC-SHA1-96",
                             auth_key=keys[0].integrity_key)
    # scapy's decrypt mishandles the Home Address option before ESP; hand it ESP alone
    clear = sa.decrypt(IPv6(src="2001:db8:2::10", dst="2001:db8:1::1") / IPv6(bu)[ESP])
    assert clear[MIP6MH_BU].seq == 7 and "H" in clear[MIP6MH_BU].flags
    [reply] = ha.receive(bu, 0)
    p = IPv6(reply)
    assert p.dst == "2001:db8:2::10" and p[IPv6ExtHdrRouting].addresses == ["2001:db8:1::10"]
    back = SecurityAssociation(ESP, spi=keys[1].spi, crypt_algo="AES-CBC",
                               crypt_key=keys[1].cipher_key, auth_algo="HMAC-SHA1-96",
                               auth_key=keys[1].integrity_key).decrypt(
        IPv6(src=p.src, dst=p.dst) / p[ESP])
    assert back[MIP6MH_BA].status == 0 and back[MIP6MH_BA].mhtime == 1000
    entry = ha.cache.lookup(HOA, 1)
    assert entry is not None and entry.care_of_address == COA and entry.lifetime == 1000


def test_unprotected_binding_update_is_discarded() -> None:
    ha, _, _ = setup()
    bu = mh.BindingUpdate(sequence=1, lifetime=10, ack=True, home_registration=True).padded()
    assert ha.receive(packets.mobility_packet(COA, HA, bu, home_address=HOA), 0) == []
    assert ha.events[-1].kind == "discarded" and "IPsec" in ha.events[-1].detail
    assert len(ha.cache) == 0


def test_status_132_not_home_subnet() -> None:
    other = addr("2001:db8:5::10")
    ha, engine, _ = setup(hoa=other)
    assert register(ha, engine, hoa=other).status == 132


def test_status_133_not_home_agent_for_this_node_and_unknown_deregistration() -> None:
    ha, engine, _ = setup(mobile_nodes=[addr("2001:db8:1::99")])
    assert register(ha, engine).status == 133
    ha, engine, _ = setup()
    assert register(ha, engine, lifetime=0, coa=None).status == 133


def test_status_129_administratively_prohibited() -> None:
    ha, engine, _ = setup(prohibited=[HOA])
    assert register(ha, engine).status == 129


def test_status_134_duplicate_address_detection() -> None:
    ha, engine, _ = setup(duplicate=lambda a: a == HOA)
    assert register(ha, engine).status == 134


def test_status_135_carries_the_last_accepted_sequence() -> None:
    ha, engine, _ = setup()
    assert register(ha, engine, sequence=10000).status == 0
    assert register(ha, engine, sequence=42767).status == 0
    ba = register(ha, engine, sequence=(42767 + 32768) & 0xFFFF)
    assert (ba.status, ba.sequence) == (135, 42767)


def test_status_139_registration_type_change() -> None:
    ha, engine, _ = setup()
    assert register(ha, engine).status == 0
    assert register(ha, engine, sequence=2, home_registration=False).status == 139


def test_status_130_insufficient_resources() -> None:
    ha, engine, _ = setup(capacity=0)
    assert register(ha, engine).status == 130


def test_status_128_forwarding_hook_for_a_mobile_node() -> None:
    ha, engine, _ = setup(forwarding=lambda home, coa: False)
    assert register(ha, engine).status == 128


def test_nemo_statuses_140_to_143() -> None:
    mnp = (MobileNetworkPrefix(48, NET),)
    ha, engine, _ = setup()  # no mobile routers configured
    ba = register(ha, engine, mobile_router=True, options=mnp)
    assert ba.status == 140 and ba.mobile_router
    ha, engine, _ = setup(mobile_routers={HOA: [(NET, 48)]})
    assert register(ha, engine, mobile_router=True,
                    options=(MobileNetworkPrefix(0, NET),)).status == 141
    assert register(ha, engine, mobile_router=True,
                    options=(MobileNetworkPrefix(48, addr("2001:db8:bb::")),)).status == 142
    ha, engine, _ = setup(mobile_routers={HOA: []})
    assert register(ha, engine, mobile_router=True).status == 143  # implicit, nothing set up
    ha, engine, _ = setup(mobile_routers={HOA: [(NET, 48)]}, forwarding=lambda h, c: False)
    assert register(ha, engine, mobile_router=True, options=mnp).status == 143


def test_intercepted_packets_are_tunnelled_and_reverse_tunnel_checked() -> None:
    ha, engine, _ = setup()
    assert register(ha, engine).status == 0
    data = bytes(IPv6(src="2001:db8:4::1", dst="2001:db8:1::10", hlim=30)
                 / UDP(sport=5, dport=6) / b"hello")
    assert ha.intercepts(HOA, 1)
    [out] = ha.receive(data, 1)
    p = IPv6(out)
    assert (p.src, p.dst, p.nh) == ("2001:db8:1::1", "2001:db8:2::10", 41)
    inner = p[IPv6].payload
    assert isinstance(inner, IPv6) and inner.hlim == 29 and bytes(inner[UDP].payload) == b"hello"
    up = bytes(IPv6(src="2001:db8:1::10", dst="2001:db8:4::1", hlim=64) / UDP() / b"up")
    [fwd] = ha.receive(packets.encapsulate(COA, HA, up), 2)
    assert IPv6(fwd).dst == "2001:db8:4::1" and IPv6(fwd).hlim == 63
    assert ha.receive(packets.encapsulate(addr("2001:db8:9::1"), HA, up), 2) == []
    assert "reverse tunnel" in ha.events[-1].detail
    assert ha.receive(bytes(IPv6(src="2001:db8:4::1", dst="2001:db8:1::77") / UDP()), 2) == []


def test_mobile_router_prefix_is_tunnelled_explicit_and_implicit() -> None:
    for options in ((MobileNetworkPrefix(48, NET),), ()):
        ha, engine, _ = setup(mobile_routers={HOA: [(NET, 48)]})
        ba = register(ha, engine, mobile_router=True, options=options)
        assert ba.status == 0 and ba.mobile_router
        lfn = bytes(IPv6(src="2001:db8:4::1", dst="2001:db8:aa:1::5") / UDP() / b"x")
        [out] = ha.receive(lfn, 1)
        assert IPv6(out).dst == "2001:db8:2::10"
        assert IPv6(out)[IPv6].payload.dst == "2001:db8:aa:1::5"
        up = bytes(IPv6(src="2001:db8:aa:1::5", dst="2001:db8:4::1") / UDP() / b"y")
        assert len(ha.receive(packets.encapsulate(COA, HA, up), 2)) == 1


def test_deregistration_from_home() -> None:
    ha, engine, _ = setup()
    assert register(ha, engine).status == 0
    [reply] = ha.receive(bu_packet(engine, mh.BindingUpdate(
        sequence=2, lifetime=0, ack=True, home_registration=True), coa=None), 5)
    assert IPv6(reply).dst == "2001:db8:1::10" and IPv6ExtHdrRouting not in IPv6(reply)
    got = engine.inbound(reply, now=5)
    assert got.packet is not None
    ba = packets.parse(got.packet).mobility()
    assert isinstance(ba, mh.BindingAcknowledgement) and ba.status == 0
    assert len(ha.cache) == 0 and not ha.intercepts(HOA, 5)


def test_home_test_init_needs_the_esp_tunnel_while_away() -> None:
    from secmob.ipsec.mip6_manual import home_test_protection

    mn_engine, ha_engine, _ = home_engines(HOA, HA, rng("keys"))
    tunnel_policy, keys = home_test_protection(mn_engine, ha_engine, HOA, HA, rng("hoti"))
    assert [k.spi for k in keys] == [0x1002, 0x1003]
    ha = HomeAgent(HA, "2001:db8:1::/64", ha_engine, on_binding=tunnel_policy.home_agent_bound)
    tunnel_policy.mobile_node_moved(COA)
    assert register(ha, mn_engine).status == 0
    hoti = packets.mobility_packet(HOA, addr("2001:db8:4::1"),
                                   mh.HomeTestInit(cookie=bytes(8)).padded())
    out, how = packets.tunnel(mn_engine, hoti, COA, HA, 1)
    assert how == "esp-tunnel" and out is not None
    p = IPv6(out)
    assert (p.src, p.dst, p.nh) == ("2001:db8:2::10", "2001:db8:1::1", 50)
    sa = SecurityAssociation(ESP, spi=0x1002, crypt_algo="AES-CBC", crypt_key=keys[0].cipher_key,
                             auth_algo="HMAC-SHA1-96", auth_key=keys[0].integrity_key)
    assert MIP6MH_HoTI in sa.decrypt(p)  # scapy opens the tunnel-mode ESP
    [fwd] = ha.receive(out, 1)
    assert fwd == packets.forwarded(hoti)  # decapsulated and forwarded to the correspondent
    plain = packets.encapsulate(COA, HA, hoti)  # the same without ESP: refused by the SPD
    assert ha.receive(plain, 1) == [] and "IPsec" in ha.events[-1].detail
    hot = packets.mobility_packet(addr("2001:db8:4::1"), HOA, mh.HomeTest(
        nonce_index=1, cookie=bytes(8), keygen_token=bytes(8)).padded())
    [down] = ha.receive(hot, 2)
    assert IPv6(down).nh == 50 and IPv6(down).dst == "2001:db8:2::10"
    assert mn_engine.inbound(down, now=2).packet == packets.forwarded(hot)
    tunnel_policy.mobile_node_moved(HOA)  # back home: the Home Test Init goes directly
    assert packets.protect(mn_engine, hoti, 3) == (hoti, "bypassed")
