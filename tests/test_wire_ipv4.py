"""IPv4 header with options (RFC 791), header checksum, AH/ESP chain."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from _wire_strategies import check_codec, ipv4_packets, only_secmob_errors
from hypothesis import given
from hypothesis import strategies as st

from secmob._buffer import Reader
from secmob.errors import DecodeError, Truncated, UsageError
from secmob.wire.ipsec_headers import AH, ESP
from secmob.wire.ipv4 import (
    IPv4Header,
    IPv4Option,
    IPv4Packet,
    header_checksum,
    verify_header_checksum,
)
from secmob.wire.l4 import ICMP, TCP, UDP

SRC = ipaddress.IPv4Address("192.0.2.1").packed
DST = ipaddress.IPv4Address("198.51.100.7").packed


def a4(b: bytes) -> str:
    return str(ipaddress.IPv4Address(b))


def sample() -> IPv4Packet:
    return IPv4Packet.build(
        SRC, DST, [AH(0, 0x1234, 1, bytes(12))], UDP.build(4500, 4500, b"data"),
        ttl=17, tos=0xB8, identification=0x4242, flags=IPv4Header.DF,
        options=[IPv4Option(148, b"\x00\x00")],
    )


def test_sample_codec() -> None:
    pkt = check_codec(IPv4Packet.parse, sample().to_bytes(), "reject")
    assert pkt == sample()
    assert pkt.header.protocol == 51 and pkt.chain[0].next_header == 17
    assert pkt.header.header_length == 24
    verify_header_checksum(pkt.header)


def test_header_checksum_known_value() -> None:
    # The widely published worked example of the IPv4 header checksum
    # (Wikipedia, "Internet checksum"): 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
    raw = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    header = IPv4Header.decode(Reader(raw, "IPv4"))
    assert header_checksum(header) == 0xB861


def test_verify_header_checksum_raises() -> None:
    h = dataclasses.replace(sample().header, checksum=0)
    with pytest.raises(DecodeError, match="header checksum 0x0000") as e:
        verify_header_checksum(h)
    assert e.value.offset == 10


def test_wrong_checksums_round_trip() -> None:
    good = sample()
    bad = dataclasses.replace(good, header=dataclasses.replace(good.header, checksum=0xBEEF),
                              payload=UDP(4500, 4500, 12, 0x1111, b"data"))
    raw = bad.to_bytes()
    again = IPv4Packet.parse(raw)
    assert again == bad and again.to_bytes() == raw
    with pytest.raises(DecodeError):
        verify_header_checksum(again.header)


def test_options_padding_after_end_of_list_kept() -> None:
    pkt = IPv4Packet.build(SRC, DST, [], b"x", protocol=253,
                           options=[IPv4Option(1), IPv4Option(0)], padding=b"\x00\x55")
    again = IPv4Packet.parse(pkt.to_bytes())
    assert again.header.options == (IPv4Option(1), IPv4Option(0))
    assert again.header.padding == b"\x00\x55"
    assert again.to_bytes() == pkt.to_bytes()


def test_malformed() -> None:
    raw = sample().to_bytes()
    bad = bytearray(raw)
    bad[0] = 0x44   # IHL 4
    with pytest.raises(DecodeError, match="IHL 4"):
        IPv4Packet.parse(bytes(bad))
    bad = bytearray(raw)
    bad[21] = 9     # Router Alert option length overruns the options area
    with pytest.raises(DecodeError, match="option type 148 has length 9") as e:
        IPv4Packet.parse(bytes(bad))
    assert e.value.offset == 21
    bad = bytearray(raw)
    bad[2:4] = (10).to_bytes(2, "big")
    with pytest.raises(DecodeError, match="Total Length 10"):
        IPv4Packet.parse(bytes(bad))
    with pytest.raises(Truncated):
        IPv4Packet.parse(raw[:30])
    with pytest.raises(UsageError, match="32-bit words"):
        IPv4Packet.build(SRC, DST, options=[IPv4Option(148, b"\x00")])


def test_fragments_keep_payload_raw() -> None:
    pkt = IPv4Packet.build(SRC, DST, [], UDP.build(1, 2, b"abc"), flags=IPv4Header.MF)
    assert isinstance(IPv4Packet.parse(pkt.to_bytes()).payload, bytes)


@given(ipv4_packets())
def test_hypothesis_round_trip(pkt: IPv4Packet) -> None:
    data = pkt.to_bytes()
    again = IPv4Packet.parse(data)
    assert again == pkt and again.to_bytes() == data


@given(ipv4_packets(), st.data())
def test_hypothesis_prefixes(pkt: IPv4Packet, data: st.DataObject) -> None:
    raw = pkt.to_bytes()
    with pytest.raises(DecodeError):
        IPv4Packet.parse(raw[: data.draw(st.integers(0, len(raw) - 1))])


@given(st.binary(max_size=120))
def test_fuzz(data: bytes) -> None:
    only_secmob_errors(IPv4Packet.parse, data)
    only_secmob_errors(IPv4Packet.parse, b"\x46" + data)


@given(ipv4_packets(), st.data())
def test_fuzz_mutated(pkt: IPv4Packet, data: st.DataObject) -> None:
    raw = bytearray(pkt.to_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    only_secmob_errors(IPv4Packet.parse, bytes(raw))


def test_scapy_to_secmob() -> None:
    from scapy.layers.inet import (
        ICMP as SICMP,
    )
    from scapy.layers.inet import (
        IP,
        IPOption_NOP,
        IPOption_Router_Alert,
        IPOption_RR,
        IPOption_Security,
        IPOption_Timestamp,
    )
    from scapy.layers.inet import TCP as STCP
    from scapy.layers.inet import UDP as SUDP
    from scapy.layers.ipsec import AH as SAH
    from scapy.layers.ipsec import ESP as SESP

    base = {"src": a4(SRC), "dst": a4(DST), "tos": 0x28, "ttl": 3, "id": 7, "flags": "DF"}
    cases = [
        IP(**base) / SUDP(sport=1, dport=2) / b"u",
        IP(**base, options=[IPOption_RR(routers=["10.0.0.1", "10.0.0.2"]),
                            IPOption_Router_Alert()]) / STCP(sport=3, dport=4, flags="S"),
        IP(**base, options=[IPOption_Security(), IPOption_NOP(), IPOption_Timestamp(
            flg=0, timestamp=1)]) / SICMP(type=8) / b"ping",
        IP(**base) / SAH(nh=17, payloadlen=4, spi=9, seq=1, icv=b"\x01" * 12) / SUDP() / b"a",
        IP(**base) / SESP(spi=10, seq=2, data=b"\x02" * 16),
    ]
    for spkt in cases:
        raw = bytes(spkt)
        pkt = IPv4Packet.parse(raw)
        assert pkt.to_bytes() == raw
        s = IP(raw)
        h = pkt.header
        assert (a4(h.src), a4(h.dst), h.tos, h.ttl, h.identification, int(h.flags),
                h.checksum, h.header_length // 4) == (
            s.src, s.dst, s.tos, s.ttl, s.id, int(s.flags), s.chksum, s.ihl)
        verify_header_checksum(h)
        assert [o.type for o in h.options if o.type != 0] == [
            o.copy_flag << 7 | o.optclass << 5 | o.option for o in s.options if o.option != 0]
        if isinstance(pkt.payload, UDP | TCP | ICMP) and not pkt.chain:
            pkt.payload.verify_checksum(h.src, h.dst)
            assert pkt.payload.checksum == s.payload.chksum
        for ext, layer in zip(pkt.chain, [s.payload], strict=False):
            if isinstance(ext, AH | ESP):
                assert (ext.spi, ext.sequence) == (layer.spi, layer.seq)


def test_secmob_to_scapy() -> None:
    from scapy.layers.inet import IP

    cases = [
        IPv4Packet.build(SRC, DST, [], UDP.build(53, 53, b"q"), ttl=9, tos=4),
        IPv4Packet.build(SRC, DST, [], TCP(1, 2, 3, 4, TCP.SYN, 100),
                         options=[IPv4Option(148, b"\0\0")]),
        IPv4Packet.build(SRC, DST, [], ICMP(8, 0, body=b"\0\1\0\1hi")),
        IPv4Packet.build(SRC, DST, [AH(0, 5, 6, bytes(12))], UDP.build(1, 1)),
    ]
    for pkt in cases:
        raw = pkt.to_bytes()
        s = IP(raw)
        assert bytes(s) == raw
        assert (s.src, s.dst, s.ttl, s.len, s.chksum) == (
            a4(SRC), a4(DST), pkt.header.ttl, pkt.header.total_length, pkt.header.checksum)
        del s.chksum
        assert IP(bytes(s)).chksum == pkt.header.checksum
        seg = pkt.payload
        assert not isinstance(seg, bytes)
        if not pkt.chain:
            layer = s.payload
            assert layer.chksum == seg.checksum
            del layer.chksum
            assert IP(bytes(s)).payload.chksum == seg.checksum
