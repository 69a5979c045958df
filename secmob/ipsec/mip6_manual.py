"""Manually keyed IPsec between a mobile node and its home agent, and the
Wireshark export of its keys.

The mobility nodes of :mod:`secmob.mip6` take an IPsec engine and know
nothing of SAs; this module builds a pair of engines for a home address and
a home agent (used by the Mobile IPv6 scenario and the tests):

* SPD: the RFC 4877 §6.1 entries of
  :func:`secmob.ipsec.spd_mip6.home_signalling_entries` (ESP transport mode
  for Binding Update / Binding Acknowledgement between the home address and
  the home agent), then a BYPASS entry for everything else;
* SAD: one ESP SA each way, AES-CBC (RFC 3602) with HMAC-SHA1-96 (RFC 2404),
  keys drawn from the ``rng`` given.

:func:`home_test_protection` adds the protection of Home Test Init / Home
Test messages (RFC 4877 §6.2, §7.2.2; RFC 3776 §5.2.2): ESP in tunnel mode
between the care-of address and the home agent, in place of the plain
reverse tunnel. The policy holds only while the node is away, and the
tunnel endpoint has to follow the care-of address, so it returns a
:class:`HomeTestTunnel` whose ``mobile_node_moved`` and ``home_agent_bound``
methods the nodes call (their ``on_move`` and ``on_binding`` hooks).

:attr:`EspKeys.wireshark` is the SA's record of Wireshark's ``esp_sa`` table
(:func:`secmob.ipsec.export.wireshark_sa`), with wildcard addresses because
the mobile node's care-of address changes as it moves (the SPI names the
SA); :func:`wireshark_esp_sa` writes the table.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.ipsec.common import Mode
from secmob.ipsec.engine import Engine
from secmob.ipsec.export import WiresharkSA, esp_sa_file, wireshark_sa
from secmob.ipsec.sad import SAD, Direction, Protocol, SecurityAssociation
from secmob.ipsec.selectors import Selector
from secmob.ipsec.spd import SPD, Action, Entry
from secmob.ipsec.spd_mip6 import home_signalling_entries
from secmob.trace import Tracer

__all__ = [
    "CIPHER",
    "INTEGRITY_NAME",
    "EspKeys",
    "HomeTestTunnel",
    "home_engines",
    "home_test_protection",
    "wireshark_esp_sa",
]

CIPHER = "aes128"
"""AES-CBC with a 128-bit key (RFC 3602)."""
INTEGRITY_NAME = "sha1"
"""HMAC-SHA1-96 (RFC 2404)."""

Rng = Callable[[int], bytes]


def _show(address: bytes) -> str:
    return str(ipaddress.ip_address(address))


@dataclass(frozen=True, repr=False)
class EspKeys:
    """The keys of one ESP SA ``source -> destination``, and its Wireshark
    ``esp_sa`` record, for packet analysers."""

    spi: int
    source: bytes
    destination: bytes
    cipher_key: bytes
    integrity_key: bytes
    wireshark: WiresharkSA

    def __repr__(self) -> str:
        return (f"EspKeys(spi=0x{self.spi:08x}, {_show(self.source)} -> "
                f"{_show(self.destination)}, keys hidden)")


def wireshark_esp_sa(keys: list[EspKeys]) -> str:
    """The contents of a Wireshark ``esp_sa`` file for ``keys``."""
    return esp_sa_file(k.wireshark for k in keys)


def _engine(entries: list[Entry], rng: Rng, tracer: Tracer | None) -> Engine:
    return Engine(SPD([*entries, Entry(Selector.make(), Action.BYPASS, name="bypass")]),
                  SAD(), rng=rng, tracer=tracer)


def home_engines(home_address: bytes, home_agent: bytes, rng: Rng, *, spi: int = 0x1000,
                 tracer: Tracer | None = None) -> tuple[Engine, Engine, list[EspKeys]]:
    """Engines for the mobile node and the home agent, sharing two ESP SAs
    (SPI ``spi`` mobile node to home agent, ``spi + 1`` back) under the
    RFC 4877 SPD entries; and the keys, for export. ``tracer`` records the
    ESP steps of the packets they protect."""
    mn_entries = home_signalling_entries("mobile-node", _show(home_address), _show(home_agent),
                                         encryption=CIPHER, integrity=INTEGRITY_NAME)
    ha_entries = home_signalling_entries("home-agent", _show(home_address), _show(home_agent),
                                         encryption=CIPHER, integrity=INTEGRITY_NAME)
    mn, ha = _engine(mn_entries, rng, tracer), _engine(ha_entries, rng, tracer)
    keys = [_sa(mn, ha, mn_entries[0], ha_entries[0], spi, home_address, home_agent, rng,
                mobile=home_address),
            _sa(ha, mn, ha_entries[0], mn_entries[0], spi + 1, home_agent, home_address, rng,
                mobile=home_address)]
    return mn, ha, keys


def _sa(sender: Engine, receiver: Engine, out_entry: Entry, in_entry: Entry, spi: int,
        src: bytes, dst: bytes, rng: Rng, *, mobile: bytes, tunnel: bool = False) -> EspKeys:
    """One ESP SA ``src -> dst``: outbound at ``sender`` under ``out_entry``,
    inbound at ``receiver`` checked against ``in_entry``; ``mobile`` is the
    mobile node's (home) address, whose packets use the changing care-of
    address."""
    choice = ENCRYPTION.choose(CIPHER)
    cipher = choice.algorithm
    integrity = INTEGRITY.get(INTEGRITY_NAME)
    cipher_key = rng(cipher.keymat_size(choice.key_size or cipher.key_sizes[0]))
    integrity_key = rng(integrity.key_size)
    record: WiresharkSA | None = None
    for engine, direction, entry in ((sender, Direction.OUTBOUND, out_entry),
                                     (receiver, Direction.INBOUND, in_entry)):
        sa = SecurityAssociation(
            spi, Protocol.ESP, direction=direction, policy=entry, cipher=cipher,
            cipher_key=cipher_key, integrity=integrity, integrity_key=integrity_key,
            mode=Mode.TUNNEL if tunnel else Mode.TRANSPORT,
            tunnel_source=src if tunnel else None, tunnel_destination=dst if tunnel else None)
        if direction is Direction.OUTBOUND:
            engine.sad.insert_bundle(entry, sa)
            # the mobile node's end moves with it: a wildcard (the SPI names the SA)
            record = wireshark_sa(sa, cipher_key=cipher_key, integrity_key=integrity_key,
                                  source="*" if src == mobile else src,
                                  destination="*" if dst == mobile else dst)
        else:
            engine.sad.insert(sa)
    assert record is not None
    return EspKeys(spi, src, dst, cipher_key, integrity_key, record)


class HomeTestTunnel:
    """The HoTI/HoT tunnel-mode policies and SAs of one mobile node
    (RFC 4877 §6.2, §7.2.2), kept in step with its care-of address.

    ``mobile_node_moved(care_of)`` is the mobile node's ``on_move`` hook:
    away, the policy is in its SPD and the outbound SA leaves from the
    care-of address; at home the policy is withdrawn (Home Test Init goes
    directly). ``home_agent_bound(home, care_of)`` is the home agent's
    ``on_binding`` hook: with a binding the policy is in its SPD and the SA
    goes to the care-of address; without one it is withdrawn.
    """

    def __init__(self, mn: Engine, ha: Engine, home_address: bytes,
                 mn_entry: Entry, ha_entry: Entry) -> None:
        self._mn, self._ha, self.home_address = mn, ha, home_address
        self._mn_entry, self._ha_entry = mn_entry, ha_entry

    def __repr__(self) -> str:
        return f"HomeTestTunnel({_show(self.home_address)})"

    @staticmethod
    def _place(engine: Engine, entry: Entry, active: bool) -> None:
        present = any(e is entry for e in engine.spd)
        if active and not present:
            engine.spd.insert(1, entry)  # after BU/BA, before the BYPASS entry
        elif present and not active:
            engine.spd.remove(entry)

    def _outbound(self, engine: Engine, entry: Entry) -> SecurityAssociation:
        bundle = engine.sad.outbound(entry)
        assert bundle is not None
        return next(iter(bundle))

    def mobile_node_moved(self, care_of: bytes) -> None:
        away = care_of != self.home_address
        self._place(self._mn, self._mn_entry, away)
        if away:
            self._outbound(self._mn, self._mn_entry).tunnel_source = care_of

    def home_agent_bound(self, home_address: bytes, care_of: bytes | None) -> None:
        if home_address != self.home_address:
            return
        away = care_of is not None and care_of != home_address
        self._place(self._ha, self._ha_entry, away)
        if away:
            self._outbound(self._ha, self._ha_entry).tunnel_destination = care_of


def home_test_protection(mn: Engine, ha: Engine, home_address: bytes, home_agent: bytes,
                         rng: Rng, *, spi: int = 0x1002,
                         ) -> tuple[HomeTestTunnel, list[EspKeys]]:
    """Tunnel-mode ESP for HoTI/HoT between the care-of address and the home
    agent (RFC 4877 §6.2) on engines made by :func:`home_engines`: two SAs
    (``spi`` outbound from the mobile node, ``spi + 1`` back) and the
    :class:`HomeTestTunnel` that keeps their policy and endpoints current."""
    hoa, agent = _show(home_address), _show(home_agent)
    mn_entry, ha_entry = (
        home_signalling_entries(role, hoa, agent, care_of=hoa, encryption=CIPHER,
                                integrity=INTEGRITY_NAME)[1]
        for role in ("mobile-node", "home-agent"))
    keys = [_sa(mn, ha, mn_entry, ha_entry, spi, home_address, home_agent, rng,
                mobile=home_address, tunnel=True),
            _sa(ha, mn, ha_entry, mn_entry, spi + 1, home_agent, home_address, rng,
                mobile=home_address, tunnel=True)]
    return HomeTestTunnel(mn, ha, home_address, mn_entry, ha_entry), keys
