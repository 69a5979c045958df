"""AH interoperability with scapy (scapy.layers.ipsec), IPv6, both directions.

scapy zeroes the IPv6 mutable fields itself; here the normalised header is
built by hand (RFC 4302 §3.3.3.1.2.1: traffic class, flow label and hop
limit zeroed) and passed to secmob as ``before``.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest

from secmob.algorithms import INTEGRITY
from secmob.ipsec import ah
from secmob.ipsec.sad import Direction, Protocol, SecurityAssociation

scapy_ipsec = pytest.importorskip("scapy.layers.ipsec")
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.packet import Raw, raw  # noqa: E402

SPI = 0x2000
SRC, DST = "2001:db8::1", "2001:db8::2"
SUITES = [("HMAC-SHA1-96", "sha1", bytes(range(20))),
          ("SHA2-256-128", "sha256", bytes(range(32)))]


def normalised_ipv6(payload_length: int) -> bytes:
    return (struct.pack("!IHBB", 6 << 28, payload_length, 51, 0)
            + ipaddress.ip_address(SRC).packed + ipaddress.ip_address(DST).packed)


def segment() -> bytes:
    return raw(IPv6(src=SRC, dst=DST) / UDP(sport=7, dport=9) / b"payload")[40:]


@pytest.mark.parametrize(("scapy_name", "name", "key"), SUITES)
def test_scapy_to_secmob(scapy_name: str, name: str, key: bytes) -> None:
    ssa = scapy_ipsec.SecurityAssociation(scapy_ipsec.AH, spi=SPI, auth_algo=scapy_name,
                                          auth_key=key)
    pkt = IPv6(src=SRC, dst=DST, tc=0x28, fl=0x12345, hlim=33) / UDP(sport=7, dport=9) / b"payload"
    signed = raw(ssa.encrypt(pkt, seq_num=5))
    data = signed[40:]
    inb = SecurityAssociation(SPI, Protocol.AH, integrity=INTEGRITY.get(name), integrity_key=key)
    res = ah.unprotect(inb, normalised_ipv6(len(data)), data, now=0)
    assert (res.next_header, res.sequence) == (17, 5)
    assert data[res.header_length:] == segment()


@pytest.mark.parametrize(("scapy_name", "name", "key"), SUITES)
def test_secmob_to_scapy(scapy_name: str, name: str, key: bytes) -> None:
    out = SecurityAssociation(SPI, Protocol.AH, direction=Direction.OUTBOUND,
                              integrity=INTEGRITY.get(name), integrity_key=key)
    after = segment()
    plen = ah.header_length(out) + len(after)
    hdr = ah.protect(out, 17, normalised_ipv6(plen), after, now=0)
    wire = IPv6(src=SRC, dst=DST, tc=0x28, fl=0x12345, hlim=33, nh=51, plen=plen) / Raw(hdr + after)
    ssa = scapy_ipsec.SecurityAssociation(scapy_ipsec.AH, spi=SPI, auth_algo=scapy_name,
                                          auth_key=key)
    dec = ssa.decrypt(IPv6(raw(wire)))  # raises IPSecIntegrityError on a bad ICV
    assert raw(dec)[40:] == after and dec.nh == 17
    bad = bytearray(raw(wire))
    bad[-1] ^= 1
    with pytest.raises(scapy_ipsec.IPSecIntegrityError):
        ssa.decrypt(IPv6(bytes(bad)))
