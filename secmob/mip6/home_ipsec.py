"""Manually keyed IPsec between a mobile node and its home agent, and the
Wireshark export of its keys.

The mobility nodes take an IPsec engine and know nothing of SAs; this module
is the outer layer that builds a pair of engines for a home address and a
home agent (the one mip6 module importing :mod:`secmob.ipsec`, used by the
harness and the tests):

* SPD: the RFC 4877 / RFC 3776 §5 entries of
  :func:`secmob.ipsec.spd_mip6.home_signalling_entries` (ESP transport mode
  for Binding Update / Binding Acknowledgement between the home address and
  the home agent), then a BYPASS entry for everything else;
* SAD: one ESP SA each way, AES-CBC (RFC 3602) with HMAC-SHA1-96 (RFC 2404),
  keys drawn from the ``rng`` given.

:meth:`EspKeys.wireshark_line` writes the line of Wireshark's ``esp_sa``
user table (Preferences > Protocols > ESP) that lets Wireshark decrypt the
captured packets; the addresses are wildcards because the mobile node's
care-of address changes as it moves (the SPI names the SA).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.ipsec.engine import Engine
from secmob.ipsec.sad import SAD, Direction, Protocol, SecurityAssociation
from secmob.ipsec.selectors import Selector
from secmob.ipsec.spd import SPD, Action, Entry
from secmob.ipsec.spd_mip6 import home_signalling_entries
from secmob.mip6.packets import show
from secmob.trace import Tracer

__all__ = ["CIPHER", "INTEGRITY_NAME", "EspKeys", "home_engines", "wireshark_esp_sa"]

CIPHER = "aes128"
"""AES-CBC with a 128-bit key (RFC 3602)."""
INTEGRITY_NAME = "sha1"
"""HMAC-SHA1-96 (RFC 2404)."""

Rng = Callable[[int], bytes]


@dataclass(frozen=True, repr=False)
class EspKeys:
    """The keys of one ESP SA, for export to a packet analyser."""

    spi: int
    source: bytes
    destination: bytes
    cipher_key: bytes
    integrity_key: bytes

    def __repr__(self) -> str:
        return (f"EspKeys(spi=0x{self.spi:08x}, {show(self.source)} -> "
                f"{show(self.destination)}, keys hidden)")

    def wireshark_line(self) -> str:
        """The Wireshark 4.0 ``esp_sa`` UAT line: protocol, source, destination,
        SPI, encryption, key, authentication, key (addresses as wildcards)."""
        return ",".join(f'"{f}"' for f in (
            "IPv6", "*", "*", f"0x{self.spi:08x}", "AES-CBC [RFC3602]",
            f"0x{self.cipher_key.hex()}", "HMAC-SHA-1-96 [RFC2404]",
            f"0x{self.integrity_key.hex()}"))


def wireshark_esp_sa(keys: list[EspKeys]) -> str:
    """The contents of a Wireshark ``esp_sa`` file for ``keys``."""
    return "".join(k.wireshark_line() + "\n" for k in keys)


def _engine(entries: list[Entry], rng: Rng, tracer: Tracer | None) -> Engine:
    return Engine(SPD([*entries, Entry(Selector.make(), Action.BYPASS, name="bypass")]),
                  SAD(), rng=rng, tracer=tracer)


def home_engines(home_address: bytes, home_agent: bytes, rng: Rng, *, spi: int = 0x1000,
                 tracer: Tracer | None = None) -> tuple[Engine, Engine, list[EspKeys]]:
    """Engines for the mobile node and the home agent, sharing two ESP SAs
    (SPI ``spi`` mobile node to home agent, ``spi + 1`` back) under the
    RFC 4877 SPD entries; and the keys, for export. ``tracer`` records the
    ESP steps of the packets they protect."""
    mn_entries = home_signalling_entries("mobile-node", show(home_address), show(home_agent),
                                         encryption=CIPHER, integrity=INTEGRITY_NAME)
    ha_entries = home_signalling_entries("home-agent", show(home_address), show(home_agent),
                                         encryption=CIPHER, integrity=INTEGRITY_NAME)
    mn, ha = _engine(mn_entries, rng, tracer), _engine(ha_entries, rng, tracer)
    choice = ENCRYPTION.choose(CIPHER)
    cipher = choice.algorithm
    cipher_size = cipher.keymat_size(choice.key_size or cipher.key_sizes[0])
    integrity = INTEGRITY.get(INTEGRITY_NAME)
    keys = []
    for n, (sender, receiver, out_entry, in_entry, src, dst) in enumerate((
            (mn, ha, mn_entries[0], ha_entries[0], home_address, home_agent),
            (ha, mn, ha_entries[0], mn_entries[0], home_agent, home_address))):
        k = EspKeys(spi + n, src, dst, rng(cipher_size), rng(integrity.key_size))
        for engine, direction, entry in ((sender, Direction.OUTBOUND, out_entry),
                                         (receiver, Direction.INBOUND, in_entry)):
            sa = SecurityAssociation(k.spi, Protocol.ESP, direction=direction, policy=entry,
                                     cipher=cipher, cipher_key=k.cipher_key,
                                     integrity=integrity, integrity_key=k.integrity_key)
            if direction is Direction.OUTBOUND:
                engine.sad.insert_bundle(entry, sa)
            else:
                engine.sad.insert(sa)
        keys.append(k)
    return mn, ha, keys
