"""UDP, TCP, ICMPv6 and ICMP segments and their checksums.

Standalone segments keep octets beyond their header as payload (TCP, ICMP and
ICMPv6 have no length field; UDP keeps octets past its Length field), so the
"every proper prefix fails" property holds for the headers themselves and
for UDP up to its Length; the IP-level tests check it for whole packets.
"""

from __future__ import annotations

import ipaddress

import pytest
from _wire_strategies import icmp, icmpv6, only_secmob_errors, tcp_segments, udp_segments
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, Truncated, UsageError
from secmob.wire.l4 import ICMP, ICMPV6, TCP, UDP, TCPOption

SRC6 = ipaddress.IPv6Address("fe80::1").packed
DST6 = ipaddress.IPv6Address("ff02::1").packed
SRC4 = bytes([10, 0, 0, 1])
DST4 = bytes([10, 0, 0, 2])


def test_udp_codec_prefixes_and_trailing() -> None:
    seg = UDP.build(1234, 53, b"query", src=SRC6, dst=DST6)
    data = seg.to_bytes()
    assert UDP.parse(data) == seg
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            UDP.parse(data[:n])
    # Octets after Length stay in the payload; the Length field is not changed.
    longer = UDP.parse(data + b"\x00\x00")
    assert longer.length == 13 and longer.payload == b"query\x00\x00"
    assert longer.to_bytes() == data + b"\x00\x00"


def test_udp_bad_length_names_offset() -> None:
    with pytest.raises(DecodeError) as e:
        UDP.parse(bytes.fromhex("0001000200050000"))
    assert e.value.header == "UDP" and e.value.offset == 4


def test_udp_checksum_zero_rules() -> None:
    seg = UDP(1, 2, 8, 0)
    seg.verify_checksum(SRC4, DST4)            # IPv4: zero means "none" (RFC 768)
    with pytest.raises(DecodeError, match="checksum 0x0000"):
        seg.verify_checksum(SRC6, DST6)        # IPv6: zero is invalid (RFC 8200 §8.1)
    assert UDP.build(1, 2, src=SRC6, dst=DST6).checksum != 0


def test_tcp_header_prefixes_and_options() -> None:
    seg = TCP(80, 1025, 7, 9, TCP.ACK | TCP.PSH, 1000,
              options=(TCPOption(1), TCPOption(1), TCPOption(8, bytes(8))), payload=b"GET")
    seg = seg.with_checksum(SRC4, DST4)
    data = seg.to_bytes()
    assert TCP.parse(data) == seg
    for n in range(32):
        with pytest.raises(Truncated):
            TCP.parse(data[:n])
    seg.verify_checksum(SRC4, DST4)
    with pytest.raises(DecodeError) as e:
        seg.verify_checksum(SRC4, bytes(4))
    assert e.value.offset == 16


def test_tcp_malformed() -> None:
    base = TCP(1, 2, 3, 4, 0, 5, options=(TCPOption(2, b"\x05\xb4"),)).to_bytes()
    bad = bytearray(base)
    bad[12] = 0x40
    with pytest.raises(DecodeError, match="Data Offset 4"):
        TCP.parse(bytes(bad))
    bad = bytearray(base)
    bad[21] = 1
    with pytest.raises(DecodeError, match="option kind 2 has length 1"):
        TCP.parse(bytes(bad))
    with pytest.raises(UsageError, match="32-bit words"):
        TCP(1, 2, 3, 4, 0, 5, options=(TCPOption(1),)).to_bytes()


def test_icmp_checksums() -> None:
    echo = ICMP(8, 0, body=b"\x00\x01\x00\x02abc").with_checksum()
    echo.verify_checksum()
    assert ICMP.parse(echo.to_bytes()) == echo
    ns = ICMPV6(135, 0, body=bytes(20)).with_checksum(SRC6, DST6)
    ns.verify_checksum(SRC6, DST6)
    with pytest.raises(DecodeError):
        ns.verify_checksum(SRC6, SRC6)
    for n in range(4):
        with pytest.raises(Truncated):
            ICMPV6.parse(ns.to_bytes()[:n])
        with pytest.raises(Truncated):
            ICMP.parse(echo.to_bytes()[:n])


@given(st.one_of(udp_segments, tcp_segments(), icmpv6, icmp))
def test_hypothesis_round_trip(seg: UDP | TCP | ICMPV6 | ICMP) -> None:
    data = seg.to_bytes()
    again = type(seg).parse(data)
    assert again == seg and again.to_bytes() == data


@given(st.one_of(udp_segments, tcp_segments(), icmpv6), st.binary(min_size=16, max_size=16),
       st.binary(min_size=16, max_size=16))
def test_hypothesis_checksum_matches_scapy(seg: UDP | TCP | ICMPV6, src: bytes,
                                           dst: bytes) -> None:
    from scapy.layers.inet6 import IPv6, in6_chksum
    from scapy.packet import Raw

    done = seg.with_checksum(src, dst)
    done.verify_checksum(src, dst)
    proto = {UDP: 17, TCP: 6, ICMPV6: 58}[type(seg)]
    zeroed = seg.__class__.parse(done.to_bytes())
    raw = bytearray(zeroed.to_bytes())
    at = {UDP: 6, TCP: 16, ICMPV6: 2}[type(seg)]
    raw[at : at + 2] = b"\x00\x00"
    pkt = IPv6(src=str(ipaddress.IPv6Address(src)), dst=str(ipaddress.IPv6Address(dst)))
    pkt = pkt / Raw(bytes(raw))
    theirs = in6_chksum(proto, pkt[Raw], bytes(raw))
    if proto == 17 and theirs == 0:
        theirs = 0xFFFF
    assert theirs == done.checksum


@given(st.binary(max_size=80))
def test_fuzz(data: bytes) -> None:
    for cls in (UDP, TCP, ICMPV6, ICMP):
        only_secmob_errors(cls.parse, data)
