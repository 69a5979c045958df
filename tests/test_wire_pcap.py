"""Classic pcap writer/reader; tshark reads the captures without complaint."""

from __future__ import annotations

import ipaddress
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from _wire_strategies import only_secmob_errors
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, Truncated, UsageError
from secmob.wire.ipsec_headers import AH, ESP
from secmob.wire.ipv4 import IPv4Option, IPv4Packet
from secmob.wire.ipv6 import DestinationOptions, HopByHop, IPv6Packet, RoutingType2
from secmob.wire.l4 import ICMP, ICMPV6, TCP, UDP, TCPOption
from secmob.wire.options import HomeAddressOption, RawOption, layout_options
from secmob.wire.pcap import LINKTYPE_RAW, PcapRecord, pcap_bytes, read_pcap

S6, D6 = ipaddress.IPv6Address("2001:db8::1").packed, ipaddress.IPv6Address("2001:db8::2").packed
HOA = ipaddress.IPv6Address("2001:db8:77::1").packed
S4, D4 = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])


def packets() -> list[bytes]:
    tcp = TCP(40000, 443, 1, 0, TCP.SYN, 65535,
              options=(TCPOption(2, b"\x05\xb4"), TCPOption(1), TCPOption(3, b"\x07")))
    return [
        IPv6Packet.build(S6, D6, [], UDP.build(5353, 5353, b"\x00" * 12)).to_bytes(),
        IPv6Packet.build(S6, D6, [HopByHop(0, layout_options([RawOption(5, b"\0\0")]))],
                         ICMPV6(128, 0, body=b"\x00\x01\x00\x01")).to_bytes(),
        IPv6Packet.build(S6, D6, [DestinationOptions(0, layout_options([HomeAddressOption(HOA)]))],
                         tcp).to_bytes(),
        IPv6Packet.build(S6, D6, [RoutingType2(0, 1, HOA)], UDP.build(1, 2, b"rh2")).to_bytes(),
        IPv6Packet.build(S6, D6, [AH(0, 0x100, 1, bytes(12))], UDP.build(3, 4)).to_bytes(),
        IPv6Packet.build(S6, D6, [ESP(0x200, 1, bytes(32))]).to_bytes(),
        IPv4Packet.build(S4, D4, [], UDP.build(7777, 7778, b"data")).to_bytes(),
        IPv4Packet.build(S4, D4, [], ICMP(8, 0, body=b"\0\1\0\1"),
                         options=[IPv4Option(148, b"\0\0")]).to_bytes(),
        IPv4Packet.build(S4, D4, [AH(0, 0x300, 2, bytes(12))], tcp).to_bytes(),
    ]


def records() -> list[PcapRecord]:
    return [PcapRecord(1_700_000_000 + i, 1000 * i, p) for i, p in enumerate(packets())]


def test_write_read_round_trip() -> None:
    data = pcap_bytes(records())
    assert struct.unpack("<IHHiIII", data[:24]) == (0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    linktype, back = read_pcap(data)
    assert linktype == LINKTYPE_RAW
    assert [r.data for r in back] == packets()
    assert [(r.seconds, r.fraction) for r in back] == [(r.seconds, r.fraction) for r in records()]
    assert all(r.original_length == len(r.data) for r in back)


def test_snaplen_cuts_and_records_original_length() -> None:
    _, back = read_pcap(pcap_bytes([PcapRecord(0, 0, bytes(100))], snaplen=40))
    assert back == [PcapRecord(0, 0, bytes(40), 100)]


def test_big_endian_and_errors() -> None:
    be = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    be += struct.pack(">IIII", 5, 6, 2, 2) + b"ab"
    assert read_pcap(be) == (101, [PcapRecord(5, 6, b"ab", 2)])
    with pytest.raises(DecodeError, match="magic"):
        read_pcap(bytes(24))
    data = pcap_bytes(records())
    boundaries = {24}
    for rec in records():
        boundaries.add(max(boundaries) + 16 + len(rec.data))
    for n in range(len(data)):
        if n in boundaries:
            assert len(read_pcap(data[:n])[1]) == sorted(boundaries).index(n)
        elif n >= 4:
            with pytest.raises(Truncated):
                read_pcap(data[:n])
        else:
            with pytest.raises(DecodeError):
                read_pcap(data[:n])
    with pytest.raises(UsageError):
        pcap_bytes([PcapRecord(0, 1_000_000, b"")])


@given(st.binary(max_size=100))
def test_fuzz(data: bytes) -> None:
    only_secmob_errors(read_pcap, data)
    only_secmob_errors(read_pcap, b"\xd4\xc3\xb2\xa1" + data)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_capture_without_malformed_packets(tmp_path: Path) -> None:
    path = tmp_path / "wire.pcap"
    path.write_bytes(pcap_bytes(records()))
    tshark = shutil.which("tshark") or "tshark"
    run = subprocess.run(
        [tshark, "-n", "-r", str(path), "-T", "fields", "-e", "frame.protocols",
         "-e", "_ws.malformed", "-e", "_ws.expert.severity"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == len(packets())
    assert "malformed" not in run.stdout.lower()
    # Expert info: nothing at warning (0x600000) or error (0x800000) severity.
    severities = [int(v) for line in lines for v in line.split("\t")[2].split(",") if v]
    assert all(v < 0x600000 for v in severities), run.stdout
    protocols = [line.split("\t")[0] for line in lines]
    assert protocols[0].startswith("raw:ipv6:udp")
    assert "icmpv6" in protocols[1]
    assert "ipv6.dstopts" in protocols[2] or "tcp" in protocols[2]
    assert "ah" in protocols[4].split(":")
    assert "esp" in protocols[5].split(":")
    assert protocols[6].startswith("raw:ip:udp")
    assert "icmp" in protocols[7].split(":")
    # tshark validates checksums when asked: none may be flagged bad
    # (status 0 is "Bad"; the filter prints every matching packet).
    check = subprocess.run(
        [tshark, "-n", "-r", str(path), "-o", "udp.check_checksum:TRUE",
         "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
         "-Y", "udp.checksum.status == 0 || tcp.checksum.status == 0 || "
               "ip.checksum.status == 0 || icmpv6.checksum.status == 0 || "
               "icmp.checksum.status == 0"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == ""
