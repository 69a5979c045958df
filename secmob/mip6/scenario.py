"""The seed Mobile IPv6 scenario, played on :class:`secmob.mip6.harness.Network`.

Topology (documentation prefixes, RFC 3849)::

    home link    2001:db8:1::/64   router (H flag), home agent 2001:db8:1::1
    visited link 2001:db8:2::/64   router
    CN link      2001:db8:4::/64   correspondent node 2001:db8:4::1

The mobile node's MAC is 02:00:5e:00:53:10, so its home address is
2001:db8:1::5eff:fe00:5310 and its care-of address on the visited link
2001:db8:2::5eff:fe00:5310 (modified EUI-64, RFC 4291 Appendix A).
Home signalling is protected by ESP (AES-CBC, HMAC-SHA1-96) under the
RFC 4877 policies: transport mode for Binding Update / Acknowledgement, tunnel
mode between care-of address and home agent for Home Test Init / Home Test
(RFC 4877 §6.2); keys come from a counter RNG so that every run is equal.

The steps (``time`` in seconds):

====  ==================================================================
0     the correspondent sends to the home address; the node is at home
1     the node moves: Router Advertisement, care-of address, Binding
      Update / Acknowledgement with the home agent over ESP
2     the correspondent sends to the home address; the home agent tunnels
      it to the care-of address; the reply goes back through the tunnel
3     Return Routability (HoTI through the tunnel, CoTI direct), Binding
      Update / Acknowledgement with the correspondent
4     route-optimised traffic: type 2 Routing header one way, Home Address
      option the other
365   the correspondent uses the binding near its expiry (420 s): Binding
      Refresh Request, new Return Routability and Binding Update
400   the node returns home: deregistration with the home agent, then with
      the correspondent (Kbm from the home keygen token only)
401   direct traffic at home
====  ==================================================================

The NEMO variant replaces the node by a mobile router with the mobile
network prefix 2001:db8:10::/48 and a host 2001:db8:10:1::5 behind it; the
correspondent talks to that host, through the router at home and through the
home agent's tunnel away (no route optimisation: RFC 3963 has none).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from secmob._rng import counter_rng
from secmob.ipsec.mip6_manual import (
    EspKeys,
    home_engines,
    home_test_protection,
    wireshark_esp_sa,
)
from secmob.mip6.cn import CorrespondentNode
from secmob.mip6.ha import HomeAgent
from secmob.mip6.harness import Host, Network, care_of
from secmob.mip6.mn import MobileNode
from secmob.mip6.packets import describe
from secmob.trace import Tracer, emit
from secmob.wire import l4

__all__ = ["MAC", "ScenarioResult", "counter_rng", "run_scenario", "write_scenario"]

MAC = "02:00:5e:00:53:10"
HOME, VISITED, CN_NET = "2001:db8:1::/64", "2001:db8:2::/64", "2001:db8:4::/64"
HA_ADDR = ipaddress.IPv6Address("2001:db8:1::1").packed
CN_ADDR = ipaddress.IPv6Address("2001:db8:4::1").packed
NETWORK_PREFIX = "2001:db8:10::/48"
HOST_ADDR = ipaddress.IPv6Address("2001:db8:10:1::5").packed
PORT = 7  # echo (RFC 862), for readable captures

_STEPS = {
    "at home": "the correspondent sends to the home address; the node is on its home link",
    "moves to the visited link": "Router Advertisement with a new prefix -> care-of address "
                                 "= prefix | modified EUI-64; Binding Update (H, A) over ESP",
    "through the home agent's tunnel": "the home agent intercepts packets for the home "
                                       "address and tunnels them to the care-of address",
    "return routability with the correspondent": "HoTI through the reverse tunnel, CoTI "
                                                 "direct; HoT and CoT carry keygen tokens",
    "route optimised": "type 2 Routing header to the node, Home Address option from it",
    "near the end of the binding's lifetime": "the correspondent uses a binding close to "
                                              "expiry and sends a Binding Refresh Request",
    "after the refresh": "the refreshed binding carries the traffic",
    "returns home": "Router Advertisement with the home prefix: deregistration with the home "
                    "agent, then with the correspondent using the home keygen token only",
    "back at home": "plain IPv6 between the home address and the correspondent",
}
_RFCS = {
    "at home": "RFC 6275 §11.5.5", "moves to the visited link": "RFC 6275 §11.5, §11.7.1",
    "through the home agent's tunnel": "RFC 6275 §10.4.1, §11.3.1",
    "return routability with the correspondent": "RFC 6275 §5.2, §11.6",
    "route optimised": "RFC 6275 §6.3, §6.4, §9.3", "near the end of the binding's lifetime":
    "RFC 6275 §9.5.5, §11.7.4", "after the refresh": "RFC 6275 §9.3.2",
    "returns home": "RFC 6275 §11.5.5, §5.2.5", "back at home": "RFC 6275 §11.5.5",
}


@dataclass
class ScenarioResult:
    """What a scenario run left: the network (records), the nodes and the
    ESP keys; ``milestones`` are (time, what) pairs of the steps."""

    network: Network
    mobile: MobileNode
    home_agent: HomeAgent
    correspondent: CorrespondentNode
    host: Host | None
    keys: list[EspKeys]
    milestones: list[tuple[float, str]]

    def pcap(self) -> bytes:
        return self.network.pcap()

    def esp_sa(self) -> str:
        """The Wireshark ``esp_sa`` file contents for the ESP SAs."""
        return wireshark_esp_sa(self.keys)


def run_scenario(*, nemo: bool = False, tracer: Tracer | None = None) -> ScenarioResult:
    """Play the seed scenario (module docstring); ``tracer`` records every
    packet, every node event and the Return Routability steps, in order."""
    net = Network(tracer=tracer)
    home = net.link("home", HOME, router_mac="02:00:00:00:01:01", home_agent_flag=True)
    visited = net.link("visited", VISITED, router_mac="02:00:00:00:02:01")
    cn_link = net.link("cn", CN_NET)
    hoa = care_of(HOME, MAC)
    mn_engine, ha_engine, keys = home_engines(hoa, HA_ADDR, counter_rng(b"secmob scenario keys"),
                                              tracer=tracer)
    home_tests, test_keys = home_test_protection(mn_engine, ha_engine, hoa, HA_ADDR,
                                                 counter_rng(b"secmob scenario hoti keys"))
    keys += test_keys
    routers = {hoa: [(ipaddress.IPv6Network(NETWORK_PREFIX).network_address.packed, 48)]}
    ha = HomeAgent(HA_ADDR, HOME, ha_engine, mobile_routers=routers if nemo else None,
                   on_binding=home_tests.home_agent_bound,
                   duplicate=net.duplicate_detector(home))
    cn = CorrespondentNode(CN_ADDR, counter_rng(b"secmob scenario cn"), refresh_advance=60,
                           tracer=tracer)
    mn = MobileNode(hoa, HOME, HA_ADDR, MAC, mn_engine, counter_rng(b"secmob scenario mn"),
                    mobile_network_prefixes=routers[hoa] if nemo else None,
                    on_move=home_tests.mobile_node_moved, tracer=tracer)
    mn.link_prefix = ipaddress.IPv6Network(HOME)
    net.add(ha, "home-agent", home)
    net.add(cn, "correspondent", cn_link)
    net.add(mn, "mobile-router" if nemo else "mobile-node", home)
    host: Host | None = None
    if nemo:
        mnet = net.link("mobile-network", "2001:db8:10:1::/64")
        mnet.gateway = mn
        net.links[id(mn)].add(id(mnet))
        host = Host(HOST_ADDR)
        net.add(host, "host", mnet)
        net.route(NETWORK_PREFIX, hoa)
    milestones: list[tuple[float, str]] = []
    target = HOST_ADDR if nemo else hoa

    def mark(what: str) -> None:
        milestones.append((net.now, what))
        emit(tracer, f"scenario: {what}", _STEPS[what], _RFCS[what],
             {"time": f"{net.now:.3f} s"}, what)

    def exchange(at: float, what: str) -> None:
        net.run(at)
        mark(what)
        net.transmit(cn, [cn.send(target, l4.UDP.build(PORT, PORT, what.encode()), net.now)])
        net.run(at + 0.5)
        text = ("reply: " + what).encode()
        if host is not None:
            net.transmit(host, [host.send(CN_ADDR, l4.UDP.build(PORT, PORT, text), net.now)])
        else:
            net.transmit(mn, [mn.send(CN_ADDR, l4.UDP.build(PORT, PORT, text), net.now)])

    exchange(0, "at home")
    net.run(1)
    mark("moves to the visited link")
    net.attach(mn, visited, leave=home)
    exchange(2, "through the home agent's tunnel")
    if not nemo:
        net.run(3)
        mark("return routability with the correspondent")
        net.transmit(mn, mn.optimise(CN_ADDR, net.now))
        exchange(4, "route optimised")
        exchange(365, "near the end of the binding's lifetime")
        exchange(370, "after the refresh")
    net.run(400)
    mark("returns home")
    net.attach(mn, home, leave=visited)
    exchange(401, "back at home")
    net.run(410)
    return ScenarioResult(net, mn, ha, cn, host, keys, milestones)


def write_scenario(out: Path, *, nemo: bool = False, keys: Path | None = None) -> str:
    """Run the scenario, write its pcap to ``out`` (and the Wireshark
    ``esp_sa`` file to ``keys``); return a summary to print."""
    result = run_scenario(nemo=nemo)
    out.write_bytes(result.pcap())
    steps = sorted([(t, 0, f"== {what}") for t, what in result.milestones]
                   + [(r.time, 1, f"   {r.sender} -> {r.receiver or 'nobody'}: "
                                  f"{describe(r.packet)[0]}") for r in result.network.records],
                   key=lambda step: (step[0], step[1]))
    lines = [f"{t:8.3f}  {text}" for t, _, text in steps]
    lines.append(f"{len(result.network.records)} packets written to {out}")
    if keys is not None:
        keys.write_text(result.esp_sa())
        lines.append(f"ESP keys for Wireshark (esp_sa) written to {keys}")
    return "\n".join(lines) + "\n"
