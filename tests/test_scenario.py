"""The seed scenario end to end on the in-memory network, its capture checked
by scapy (every Mobility Header message, ESP opened with the exported keys)
and by tshark (no malformed packets or expert warnings, ESP authenticated
and decrypted with the esp_sa lines, UDP/ICMPv6 checksums good)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from scapy.layers.inet6 import IPv6, _mip6_mhtype2cls
from scapy.layers.ipsec import ESP, SecurityAssociation

from secmob import cli
from secmob.mip6 import packets
from secmob.mip6.scenario import ScenarioResult, run_scenario
from secmob.wire import mobility as mh
from secmob.wire.pcap import read_pcap

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"


@cache
def scenario(nemo: bool = False) -> ScenarioResult:
    return run_scenario(nemo=nemo)


def test_seed_scenario_steps() -> None:
    r = scenario()
    routes = [(d.route, d.payload[8:].decode()) for d in r.mobile.inbox]
    assert routes == [
        ("direct", "at home"),
        ("tunnel", "through the home agent's tunnel"),
        ("route-optimised", "route optimised"),
        ("route-optimised", "near the end of the binding's lifetime"),
        ("route-optimised", "after the refresh"),
        ("direct", "back at home"),
    ]
    assert [d.route for d in r.correspondent.inbox] == [
        "direct", "direct", "route-optimised", "route-optimised", "route-optimised", "direct"]
    kinds = [e.detail for e in r.correspondent.events]
    assert any(k.startswith("Binding Refresh Request") for k in kinds)
    assert r.correspondent.events[-1].detail.endswith("deleted")  # deregistered
    assert [e.kind for e in r.home_agent.events if e.status == 0] == ["accepted", "accepted"]
    assert len(r.home_agent.cache) == len(r.correspondent.cache) == 0
    assert r.mobile.at_home and not r.network.errors
    assert all(rec.receiver for rec in r.network.records)  # nothing was lost


def test_nemo_scenario_steps() -> None:
    r = scenario(nemo=True)
    assert r.host is not None
    assert [d.payload[8:].decode() for d in r.host.inbox] == [
        "at home", "through the home agent's tunnel", "back at home"]
    assert len(r.correspondent.inbox) == 3
    accepted = [e.detail for e in r.home_agent.events if e.kind == "accepted"]
    assert "prefixes 2001:db8:10::/48" in accepted[0]
    assert any(e.kind == "tunnelled" and "2001:db8:10:1::5" in e.detail
               for e in r.home_agent.events)


def test_runs_are_deterministic() -> None:
    assert run_scenario().pcap() == scenario().pcap()


@pytest.mark.parametrize("nemo", [False, True])
def test_scapy_parses_every_mobility_header_message(nemo: bool) -> None:
    r = scenario(nemo)
    linktype, records = read_pcap(r.pcap())
    assert linktype == 101 and len(records) == len(r.network.records)
    sas = {k.spi: SecurityAssociation(ESP, spi=k.spi, crypt_algo="AES-CBC",
                                      crypt_key=k.cipher_key, auth_algo="HMAC-SHA1-96",
                                      auth_key=k.integrity_key) for k in r.keys}
    ours: list[int] = []
    theirs: list[int] = []
    for rec in records:
        p = IPv6(rec.data)
        if ESP in p:  # scapy checks the ICV and decrypts with the exported keys
            esp = p[ESP]
            p = sas[esp.spi].decrypt(IPv6(src=p.src, dst=p.dst) / esp)
        inner = p
        while IPv6 in inner.payload:  # tunnels
            inner = inner.payload[IPv6]
        found = [cls for cls in _mip6_mhtype2cls.values() if cls in inner]
        assert len(found) <= 1
        if found:
            theirs.append(inner[found[0]].mhtype)
        raw = bytes(inner)
        a = packets.parse(raw)
        if a.protocol == 135:
            ours.append(mh.decode(a.payload).mh_type)
    assert ours == theirs and len(ours) >= (4 if nemo else 25)
    assert set(ours) >= ({5, 6} if nemo else {0, 1, 2, 3, 4, 5, 6})


def _tshark(pcap: Path, keys: list[str], *fields: str) -> list[list[str]]:
    cmd = [TSHARK, "-n", "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE", "-o", "udp.check_checksum:TRUE",
           ]
    for line in keys:
        cmd += ["-o", f"uat:esp_sa:{line}"]
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    return [line.split("|") for line in out.splitlines()]


@pytest.mark.skipif(not Path(TSHARK).exists(), reason="tshark is not installed")
@pytest.mark.parametrize("nemo", [False, True])
def test_tshark_dissects_the_capture_cleanly(tmp_path: Path, nemo: bool) -> None:
    pcap, keys = tmp_path / "s.pcap", tmp_path / "s.esp_sa"
    args = ["scenario", "mip6", str(pcap), "--keys", str(keys)] + (["--nemo"] if nemo else [])
    assert cli.main(args) == 0
    lines = keys.read_text().splitlines()
    assert len(lines) == 4 and all(line.count('","') == 7 for line in lines)
    rows = _tshark(pcap, lines, "frame.number", "_ws.malformed", "_ws.expert.severity",
                   "udp.checksum.status", "esp.sequence", "esp.icv_good", "mip6.mhtype")
    r = scenario(nemo)
    assert len(rows) == len(r.network.records)
    mh_types = []
    for n, malformed, severity, udp_ok, esp_seq, icv_good, mip6_type in rows:
        assert not malformed, f"frame {n} is malformed"
        assert severity in ("", "2097152"), f"frame {n}: expert severity {severity}"  # chat
        assert udp_ok in ("", "1"), f"frame {n}: bad UDP checksum"
        if esp_seq:
            assert icv_good == "1", f"frame {n}: ESP ICV not verified with the exported keys"
        mh_types += [int(t) for t in mip6_type.split(",") if t]
    ours = []
    for rec in r.network.records:
        a = packets.parse(rec.packet)
        if a.protocol == 41:
            a = packets.parse(packets.decapsulate(rec.packet)[1])
        if a.protocol == 135:
            ours.append(mh.decode(a.payload).mh_type)
    esp_frames = sum(1 for row in rows if row[4])
    assert len(mh_types) == len(ours) + esp_frames  # every ESP frame held a BU or BA
    assert set(mh_types) >= {5, 6}


def test_harness_records_undeliverable_packets_and_routes() -> None:
    from secmob.mip6.harness import Host, Network
    from tests._mip6_nodes import addr

    net = Network()
    lan = net.link("lan", "2001:db8:7::/64")
    a, b = Host(addr("2001:db8:7::1")), Host(addr("2001:db8:7::2"))
    net.add(a, "a", lan)
    net.add(b, "b", lan)
    behind = net.link("behind", "2001:db8:8::/64")
    c = Host(addr("2001:db8:8::3"))
    net.add(c, "c", behind)
    net.transmit(a, [a.send(addr("2001:db8:7::2"), b"to b", 0, protocol=59),
                     a.send(addr("2001:db8:9::9"), b"lost", 0, protocol=59),
                     a.send(addr("ff02::1"), b"all", 0, protocol=59)])
    net.run(1)
    assert [(r.sender, r.receiver) for r in net.records] == [("a", "b"), ("a", None), ("a", "b")]
    behind.gateway = b  # c is now only reachable through a route via b
    net.route("2001:db8:8::/64", addr("2001:db8:7::2"))
    net.transmit(a, [a.send(addr("2001:db8:8::3"), b"via b", 1, protocol=59)])
    net.run(2)
    assert net.records[-1].receiver == "b" and len(b.inbox) == 3


def test_duplicate_address_detection_on_the_home_link() -> None:
    from secmob.ipsec.mip6_manual import home_engines
    from secmob.mip6.ha import HomeAgent
    from secmob.mip6.harness import Host, Network, care_of
    from secmob.mip6.mn import MobileNode
    from secmob.mip6.scenario import MAC, counter_rng
    from tests._mip6_nodes import HA, addr

    net = Network()
    home = net.link("home", "2001:db8:1::/64")
    visited = net.link("visited", "2001:db8:2::/64", router_mac="02:00:00:00:02:01")
    hoa = care_of("2001:db8:1::/64", MAC)
    mn_engine, ha_engine, _ = home_engines(hoa, HA, counter_rng(b"dad"))
    ha = HomeAgent(HA, "2001:db8:1::/64", ha_engine, duplicate=net.duplicate_detector(home))
    mn = MobileNode(hoa, "2001:db8:1::/64", HA, MAC, mn_engine, counter_rng(b"dad mn"))
    net.add(ha, "home-agent", home)
    net.add(mn, "mobile-node", home)
    net.add(Host(hoa), "squatter", home)  # another node took the home address
    assert not net.duplicate_detector(home)(addr("2001:db8:1::99"))
    net.attach(mn, visited, leave=home)
    net.run(5)
    assert mn.home_status == 134 and not mn.home_registered
    assert [e.status for e in ha.events if e.kind == "refused"] == [134]
