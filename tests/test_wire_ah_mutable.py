"""AH ICV input: mutable fields normalised (RFC 4302 §3.3.3.1, RFC 6275 §6.4, §9.3.1, §11.3.2).

Each hand-checked case edits the wire octets directly (not through the
function under test) to build the expected result.
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from _wire_strategies import ipv4_packets, ipv6_packets, only_secmob_errors
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, UsageError
from secmob.wire.ah_mutable import ah_icv_input
from secmob.wire.ipsec_headers import AH
from secmob.wire.ipv4 import IPv4Option, IPv4Packet
from secmob.wire.ipv6 import (
    DestinationOptions,
    Fragment,
    HopByHop,
    IPv6Packet,
    RawRouting,
    RoutingType0,
    RoutingType2,
)
from secmob.wire.l4 import UDP
from secmob.wire.options import HomeAddressOption, RawOption, layout_options


def a(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


S, D, I1, I2 = a("2001:db8::5"), a("2001:db8::d"), a("2001:db8:1::1"), a("2001:db8:2::2")
HOA, COA = a("2001:db8:ab::1"), a("2001:db8:cd::1")
ICV = bytes(range(1, 13))
UDP_SEG = UDP.build(1000, 2000, b"hello")


def v6(chain: list[object], src: bytes = S, dst: bytes = D) -> IPv6Packet:
    return IPv6Packet.build(src, dst, chain, UDP_SEG, traffic_class=0xB8,  # type: ignore[arg-type]
                            flow_label=0xABCDE, hop_limit=33, fill_checksum=False)


def test_ipv6_base_fields_and_icv() -> None:
    pkt = v6([AH(0, 0x100, 1, ICV)])
    raw = bytearray(pkt.to_bytes())
    expected = raw.copy()
    expected[0:4] = b"\x60\x00\x00\x00"       # version 6, traffic class 0, flow label 0
    expected[7] = 0                           # hop limit
    expected[40 + 12 : 40 + 24] = bytes(12)   # ICV
    assert ah_icv_input(pkt) == bytes(expected)
    assert ah_icv_input(bytes(raw)) == bytes(expected)
    assert expected[40 + 24 :] == UDP_SEG.to_bytes()   # after AH: unchanged


def test_option_mutable_bit_zeroes_data_only() -> None:
    mutable = RawOption(0x3E, b"\x11\x22\x33\x44")   # 001 11110: bit 0x20 set
    fixed = RawOption(0x1E, b"\x55\x66")              # 000 11110
    hbh = HopByHop(0, layout_options([mutable, fixed]))
    pkt = v6([hbh, AH(0, 1, 1, ICV)])
    raw = bytearray(pkt.to_bytes())
    out = ah_icv_input(pkt)
    # HBH at 40: nh, len, then option 0x3e len 4 data at 44..48, then 0x1e len 2 data 50..52
    assert raw[42:44] == b"\x3e\x04" and out[42:44] == b"\x3e\x04"
    assert raw[44:48] == b"\x11\x22\x33\x44" and out[44:48] == bytes(4)
    assert out[48:52] == raw[48:52] == b"\x1e\x02\x55\x66"


def test_options_after_ah_are_not_touched() -> None:
    after = DestinationOptions(0, layout_options([RawOption(0x3E, b"\x99" * 4)]))
    pkt = v6([AH(0, 1, 1, ICV), after])
    raw = pkt.to_bytes()
    assert ah_icv_input(pkt)[64:] == raw[64:]


def test_routing_type0_final_destination_view() -> None:
    # Sender: destination I1, the route still to visit [I2, D], Segments Left 2.
    sent = v6([RoutingType0(0, 2, (I2, D)), AH(0, 1, 1, ICV)], dst=I1)
    # At D: destination D, visited [I1, I2], Segments Left 0.
    arrived = v6([RoutingType0(0, 0, (I1, I2)), AH(0, 1, 1, ICV)], dst=D)
    expected = bytearray(arrived.to_bytes())
    expected[0:4], expected[7] = b"\x60\x00\x00\x00", 0
    expected[40 + 40 + 12 : 40 + 40 + 24] = bytes(12)
    assert ah_icv_input(sent) == bytes(expected)
    assert ah_icv_input(arrived) == bytes(expected)
    # Half way: at I1 the header was processed once (destination I2, [I1, D], 1 left).
    midway = v6([RoutingType0(0, 1, (I1, D)), AH(0, 1, 1, ICV)], dst=I2)
    assert ah_icv_input(midway) == bytes(expected)


def test_routing_type2_final_destination_view() -> None:
    # RFC 6275 §6.4: sent to the care-of address, the home address in the header.
    sent = v6([RoutingType2(0, 1, HOA), AH(0, 1, 1, ICV)], dst=COA)
    arrived = v6([RoutingType2(0, 0, COA), AH(0, 1, 1, ICV)], dst=HOA)
    out = ah_icv_input(sent)
    assert out == ah_icv_input(arrived)
    assert out[24:40] == HOA          # Destination Address = home address
    assert out[40 + 3] == 0           # Segments Left 0
    assert out[48:64] == COA          # the header holds the care-of address


def test_home_address_option_swapped() -> None:
    # RFC 6275 §11.3.2 / §9.3.1: on the wire, source = care-of address, option = home address;
    # the ICV is computed with the home address in the source field and the
    # care-of address in the option.
    dest = DestinationOptions(0, layout_options([HomeAddressOption(HOA)]))
    pkt = v6([dest, AH(0, 1, 1, ICV)], src=COA)
    raw = pkt.to_bytes()
    assert raw[8:24] == COA and raw[48:64] == HOA
    out = ah_icv_input(pkt)
    assert out[8:24] == HOA and out[48:64] == COA
    # A receiver that already exchanged the two fields gets the same octets.
    swapped = v6([DestinationOptions(0, layout_options([HomeAddressOption(COA)])),
                  AH(0, 1, 1, ICV)], src=HOA)
    assert ah_icv_input(swapped, swap_home_address=False) == out


def test_atomic_fragment_header_is_left_out() -> None:
    # RFC 4302 Appendix A.2: before the ICV is computed, AH MUST "remove" (or
    # skip over) a Fragment header with Offset 0 and M 0 and give the previous
    # header the Fragment header's Next Header: the sender computed the ICV
    # before fragmenting, so the receiver's view must be the packet without it.
    hop = HopByHop(0, layout_options([RawOption(0x05, b"\x00\x00")]))
    for chain in ([Fragment(0, 0, False, 0x1234), AH(0, 1, 1, ICV)],
                  [hop, Fragment(0, 0, False, 0x1234), AH(0, 1, 1, ICV)]):
        raw = bytearray(v6(chain).to_bytes())
        frag_at = 40 + (8 if len(chain) == 3 else 0)
        expected = raw[:frag_at] + raw[frag_at + 8:]
        nh_at = 6 if frag_at == 40 else 40
        expected[nh_at] = 51                              # previous Next Header -> AH
        expected[4:6] = (len(expected) - 40).to_bytes(2, "big")
        expected[0:4] = b"\x60\x00\x00\x00"
        expected[7] = 0
        expected[frag_at + 12 : frag_at + 24] = bytes(12)  # ICV
        assert ah_icv_input(bytes(raw)) == bytes(expected)
    whole = v6([AH(0, 1, 1, ICV)])
    atomic = v6([Fragment(0, 0, False, 7), AH(0, 1, 1, ICV)])
    assert ah_icv_input(atomic) == ah_icv_input(whole)
    # A real fragment is reassembled before AH (RFC 4302 §3.4.1).
    for frag in (Fragment(0, 0, True, 7), Fragment(0, 3, False, 7)):
        with pytest.raises(DecodeError, match="reassembl"):
            ah_icv_input(v6([frag, AH(0, 1, 1, ICV)]))


def test_errors() -> None:
    with pytest.raises(UsageError, match="no AH"):
        ah_icv_input(v6([]))
    with pytest.raises(DecodeError, match="type 4 Routing header"):
        ah_icv_input(v6([RawRouting(0, 4, 1, bytes(20)), AH(0, 1, 1, ICV)]))
    ah_icv_input(v6([RawRouting(0, 4, 0, bytes(20)), AH(0, 1, 1, ICV)]))  # nothing left: fine
    with pytest.raises(DecodeError, match="Segments Left 3"):
        ah_icv_input(v6([RoutingType0(0, 3, (I1, I2)), AH(0, 1, 1, ICV)]))


V4S, V4D, V4R = a("192.0.2.1"), a("198.51.100.2"), a("203.0.113.3")


def v4(options: list[IPv4Option], padding: bytes = b"", dst: bytes = V4D) -> IPv4Packet:
    return IPv4Packet.build(V4S, dst, [AH(0, 7, 8, ICV)], UDP_SEG, tos=0xB9, ttl=42,
                            identification=0x1234, flags=2, options=options, padding=padding)


def test_ipv4_base_fields_and_options() -> None:
    opts = [IPv4Option(148, b"\x00\x00"),            # Router Alert: immutable
            IPv4Option(7, b"\x04" + V4R),            # Record Route: zeroed
            IPv4Option(130, bytes(9)),               # Security: immutable
            IPv4Option(1), IPv4Option(0)]
    pkt = v4(opts, padding=bytes(4))
    raw = bytearray(pkt.to_bytes())
    hl = pkt.header.header_length
    assert hl == 20 + 4 + 7 + 11 + 1 + 1 + 4   # NOP, EOL, 4 octets of padding
    expected = raw.copy()
    expected[1] = 0                  # TOS
    expected[6:8] = b"\x00\x00"      # flags + fragment offset
    expected[8] = 0                  # TTL
    expected[10:12] = b"\x00\x00"    # header checksum
    expected[24:31] = bytes(7)       # Record Route, type and length included
    expected[hl + 12 : hl + 24] = bytes(12)
    assert ah_icv_input(pkt) == bytes(expected)
    assert ah_icv_input(bytes(raw)) == bytes(expected)


def test_ipv4_loose_source_route_predicts_destination() -> None:
    # LSRR, pointer 4: the route [V4R, final] is still to be visited.
    final = a("192.0.2.99")
    pkt = v4([IPv4Option(131, b"\x04" + V4R + final), IPv4Option(0)], dst=V4R)
    out = ah_icv_input(pkt)
    assert out[16:20] == final
    assert out[20:31] == bytes(11)
    # A completed route (pointer past the end) leaves the destination alone.
    done = v4([IPv4Option(131, b"\x0c" + V4R + final), IPv4Option(0)], dst=final)
    assert ah_icv_input(done)[16:20] == final


# ---------------------------------------------------------------------------
# Cross-check with scapy's zero_mutable_fields
# ---------------------------------------------------------------------------

def _scapy_zeroed(pkt: object, sending: bool = False) -> bytes:
    from scapy.layers.ipsec import zero_mutable_fields

    return bytes(zero_mutable_fields(pkt.copy(), sending=sending))  # type: ignore[attr-defined]


def test_scapy_ipv4_agrees() -> None:
    from scapy.layers.inet import IP, IPOption_Router_Alert, IPOption_RR, IPOption_Security
    from scapy.layers.ipsec import AH as SAH
    from scapy.packet import Raw

    for options in ([], [IPOption_Router_Alert()],
                    [IPOption_RR(routers=["10.1.1.1"]), IPOption_Security()]):
        spkt = IP(src="192.0.2.1", dst="198.51.100.2", tos=0xFC, ttl=9, flags="DF", id=3,
                  options=options) / SAH(nh=17, payloadlen=4, spi=1, seq=2, icv=ICV) / Raw(
            UDP_SEG.to_bytes())
        assert ah_icv_input(bytes(spkt)) == _scapy_zeroed(spkt)


def test_scapy_ipv6_agrees_without_home_address() -> None:
    from scapy.layers.inet6 import (
        HBHOptUnknown,
        IPv6,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrRouting,
        RouterAlert,
    )
    from scapy.layers.ipsec import AH as SAH
    from scapy.packet import Raw

    def ip6(s: bytes, d: bytes) -> object:
        return IPv6(src=str(ipaddress.IPv6Address(s)), dst=str(ipaddress.IPv6Address(d)),
                    tc=0x20, fl=77, hlim=5)

    tail = SAH(nh=17, payloadlen=4, spi=1, seq=2, icv=ICV) / Raw(UDP_SEG.to_bytes())
    cases = [
        (ip6(S, D) / tail, False),
        (ip6(S, D) / IPv6ExtHdrHopByHop(options=[RouterAlert(), HBHOptUnknown(
            otype=0x3E, optlen=4, optdata=b"\x01\x02\x03\x04")]) / IPv6ExtHdrDestOpt(
            options=[HBHOptUnknown(otype=0x22, optlen=2, optdata=b"zz")]) / tail, False),
        # scapy rearranges the routing header only with sending=True and then
        # assumes every segment is left (Segments Left = number of addresses).
        (ip6(S, I1) / IPv6ExtHdrRouting(addresses=[str(ipaddress.IPv6Address(x))
                                                   for x in (I2, D)]) / tail, True),
        (ip6(S, COA) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[
            str(ipaddress.IPv6Address(HOA))]) / tail, True),
        (ip6(S, HOA) / IPv6ExtHdrRouting(type=2, segleft=0, addresses=[
            str(ipaddress.IPv6Address(COA))]) / tail, False),
    ]
    for spkt, sending in cases:
        assert ah_icv_input(bytes(spkt)) == _scapy_zeroed(spkt, sending)  # type: ignore[call-overload]


def test_scapy_ignores_home_address_rule() -> None:
    """scapy leaves the care-of address in the source field; RFC 6275 §6.3 puts
    the home address there (and the care-of address in the option)."""
    from scapy.layers.inet6 import HAO, IPv6, IPv6ExtHdrDestOpt
    from scapy.layers.ipsec import AH as SAH
    from scapy.packet import Raw

    spkt = (IPv6(src=str(ipaddress.IPv6Address(COA)), dst=str(ipaddress.IPv6Address(D)))
            / IPv6ExtHdrDestOpt(options=[HAO(hoa=str(ipaddress.IPv6Address(HOA)))])
            / SAH(nh=17, payloadlen=4, spi=1, seq=2, icv=ICV) / Raw(UDP_SEG.to_bytes()))
    theirs = _scapy_zeroed(spkt)
    ours = ah_icv_input(bytes(spkt))
    assert theirs != ours
    assert theirs[8:24] == COA and theirs[48:64] == HOA
    assert ours[8:24] == HOA and ours[48:64] == COA
    # Apart from the exchange of the two addresses the outputs are identical.
    assert theirs[:8] + theirs[24:48] + theirs[64:] == ours[:8] + ours[24:48] + ours[64:]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

@given(ipv6_packets())
def test_normalised_length_and_invariance(pkt: IPv6Packet) -> None:
    if not any(isinstance(h, AH) for h in pkt.chain):
        with pytest.raises(UsageError):
            ah_icv_input(pkt)
        return
    try:
        out = ah_icv_input(pkt)
    except DecodeError:
        return   # unpredictable routing header, Segments Left beyond the list, or a fragment
    ai = next(i for i, h in enumerate(pkt.chain) if isinstance(h, AH))
    atomic = sum(isinstance(h, Fragment) for h in pkt.chain[:ai])  # left out, 8 octets each
    assert len(out) == len(pkt.to_bytes()) - 8 * atomic
    # Changing mutable base fields does not change the ICV input.
    other = dataclasses.replace(pkt, header=dataclasses.replace(
        pkt.header, hop_limit=pkt.header.hop_limit ^ 0xFF, traffic_class=1, flow_label=2))
    assert ah_icv_input(other) == out


@given(ipv4_packets())
def test_ipv4_normalised_invariance(pkt: IPv4Packet) -> None:
    if not any(isinstance(h, AH) for h in pkt.chain):
        return
    out = ah_icv_input(pkt)
    other = dataclasses.replace(pkt, header=dataclasses.replace(
        pkt.header, ttl=pkt.header.ttl ^ 1, tos=3, checksum=0x5555, flags=1,
        fragment_offset=9))
    assert ah_icv_input(other) == out and len(out) == len(pkt.to_bytes())


@given(st.binary(max_size=150))
def test_fuzz(data: bytes) -> None:
    only_secmob_errors(ah_icv_input, data)
    only_secmob_errors(ah_icv_input, b"\x60" + data)
    only_secmob_errors(ah_icv_input, b"\x45" + data)


@given(st.binary(min_size=0, max_size=64), st.integers(0, 255), st.integers(0, 0xFFFFF),
       st.integers(0, 255), st.sampled_from([1, 2, 4, 6]))
def test_direct_ah_fast_path_equals_the_general_path(
    payload: bytes, tc: int, flow: int, hlim: int, ah_words: int,
) -> None:
    from scapy.layers import ipsec as scapy_ipsec
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    from secmob.wire.ah_mutable import ah_icv_input
    from secmob.wire.ipv4 import IPv4Packet
    from secmob.wire.ipv6 import IPv6Packet

    icv = bytes(range(1, 4 * ah_words + 1))
    v6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", tc=tc, fl=flow, hlim=hlim)
               / scapy_ipsec.AH(spi=0x1234, seq=7, nh=59, icv=icv, payloadlen=ah_words + 1)
               / payload)
    assert ah_icv_input(v6) == ah_icv_input(IPv6Packet.parse(v6, decode_upper=False))
    v4 = bytes(IP(src="192.0.2.1", dst="192.0.2.2", tos=tc, ttl=hlim, id=9, flags="DF",
                  frag=0, proto=51)
               / scapy_ipsec.AH(spi=0x1234, seq=7, nh=59, icv=icv, payloadlen=ah_words + 1)
               / payload)
    assert ah_icv_input(v4) == ah_icv_input(IPv4Packet.parse(v4, decode_upper=False))


@pytest.mark.parametrize("version", [4, 6])
def test_ah_shorter_than_its_fixed_part_is_a_decode_error(version: int) -> None:
    """Payload Len 0 says 8 octets, less than AH's 12 fixed ones (RFC 4302 §2.2)."""
    ah = bytes([17, 0, 0, 0]) + (0x1001).to_bytes(4, "big") + bytes(48)
    if version == 6:
        packet = bytes([0x60, 0, 0, 0]) + len(ah).to_bytes(2, "big") + bytes([51, 64])
        packet += bytes(32) + ah
    else:
        packet = bytes([0x45, 0]) + (20 + len(ah)).to_bytes(2, "big") + bytes(4)
        packet += bytes([64, 51, 0, 0]) + bytes(8) + ah
    with pytest.raises(DecodeError):
        ah_icv_input(packet)
