"""Packets of the Mobile IPv6 nodes (secmob.mip6.packets): the Arrival view
and the packets built agree with the full IPv6 codec for every header layout
and every mutation, and notes formatted on demand read as notes formatted
at once."""

from __future__ import annotations

import dataclasses
import ipaddress
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, SecmobError
from secmob.mip6 import packets
from secmob.wire import mobility as mh
from secmob.wire.ipv6 import (
    ESP,
    DestinationOptions,
    ExtensionHeader,
    Fragment,
    HopByHop,
    IPv6Packet,
    RoutingType0,
    RoutingType2,
)
from secmob.wire.l4 import UDP
from secmob.wire.options import HomeAddressOption, Pad1, PadN, RawOption, layout_options

A = ipaddress.IPv6Address("2001:db8:2::10").packed
B = ipaddress.IPv6Address("2001:db8:4::1").packed
H = ipaddress.IPv6Address("2001:db8:1::10").packed
H2 = ipaddress.IPv6Address("2001:db8:1::20").packed


def reference(packet: bytes) -> tuple[bytes, bytes, bytes | None, bytes | None, int, bytes]:
    """The Arrival fields computed from the full decoder, header by header."""
    p = IPv6Packet.parse(packet, decode_upper=False)
    home = routed = None
    protocol = p.header.next_header
    for h in p.chain:
        if isinstance(h, DestinationOptions):
            found = [o.home_address for o in h.options if isinstance(o, HomeAddressOption)]
            if found:
                home = found[0]
        if isinstance(h, RoutingType2):
            if h.segments_left > 1:
                raise DecodeError("Routing", "type 2 Segments Left above 1", 43)
            if h.segments_left == 1:
                routed = h.address
        if isinstance(h, ESP):
            protocol = 50
            break
        protocol = h.next_header
    assert isinstance(p.payload, bytes)
    return p.header.src, p.header.dst, home, routed, protocol, p.payload


def view(a: packets.Arrival) -> tuple[bytes, bytes, bytes | None, bytes | None, int, bytes]:
    return a.src, a.dst, a.home_address, a.routed_to, a.protocol, a.payload


def dstopts(*options: object) -> DestinationOptions:
    return DestinationOptions(0, layout_options(options))  # type: ignore[arg-type]


CHAINS: list[tuple[ExtensionHeader, ...]] = [
    (),
    (RoutingType2(0, 1, H),),
    (RoutingType2(0, 0, H),),
    (RoutingType2(0, 2, H),),
    (dstopts(HomeAddressOption(H)),),
    (RoutingType2(0, 1, H), dstopts(HomeAddressOption(H2))),
    (dstopts(Pad1(), HomeAddressOption(H), HomeAddressOption(H2)),),
    (dstopts(HomeAddressOption(H)), dstopts(HomeAddressOption(H2))),
    (dstopts(RawOption(7, b"xyz"), PadN(b"\0" * 3)),),
    (dstopts(),),
    (HopByHop(0, layout_options(())), dstopts(HomeAddressOption(H))),
    (RoutingType0(0, 1, (H,)),),
    (Fragment(0, 0, False, 7),),
    (dstopts(HomeAddressOption(H)), ESP(0x1000, 1, b"sealed")),
]
PAYLOADS: list[tuple[object, int | None]] = [
    (b"\x3b\x01\x05\x00" + bytes(28), mh.MH_PROTOCOL), (b"raw", None),
    (UDP.build(1, 2, b"hello"), None), (b"", 58)]


def samples() -> list[bytes]:
    out = []
    for chain in CHAINS:
        esp = bool(chain) and isinstance(chain[-1], ESP)
        for payload, protocol in [(b"", 50)] if esp else PAYLOADS:
            out.append(IPv6Packet.build(A, B, chain, payload,  # type: ignore[arg-type]
                                        protocol=protocol).to_bytes())
    return out


SAMPLES = samples()


def agree(packet: bytes) -> None:
    try:
        want = reference(packet)
    except SecmobError as exc:
        with pytest.raises(type(exc)):
            packets.parse(packet)
        return
    got = packets.parse(packet)
    assert view(got) == want
    assert got.data == packet
    assert got.packet == IPv6Packet.parse(packet, decode_upper=False)


@pytest.mark.parametrize("packet", SAMPLES)
def test_parse_agrees_with_the_full_decoder(packet: bytes) -> None:
    agree(packet)
    for cut in range(len(packet)):
        agree(packet[:cut])
    agree(packet + b"\0")


@given(st.sampled_from(SAMPLES), st.integers(0, 200), st.integers(0, 255))
def test_parse_agrees_after_any_one_octet_change(packet: bytes, where: int, value: int) -> None:
    data = bytearray(packet)
    data[where % len(data)] = value
    agree(bytes(data))


def test_parse_accepts_a_bytearray_and_keeps_bytes() -> None:
    pkt = packets.mobility_packet(A, B, mh.BindingRefreshRequest().padded(), home_address=H)
    a = packets.parse(bytearray(pkt))  # type: ignore[arg-type]
    assert type(a.data) is bytes and a == packets.parse(pkt)


def test_without_mobility_headers_keeps_the_packet() -> None:
    pkt = packets.build(A, B, b"x", protocol=17, home_address=H, routing_to=H2)
    a = packets.parse(pkt).without_mobility_headers()
    assert (a.src, a.dst, a.home_address, a.routed_to) == (H, H2, None, None)
    assert a.packet == IPv6Packet.parse(pkt, decode_upper=False) and a.data == pkt


@pytest.mark.parametrize("home", [None, H])
@pytest.mark.parametrize("routing", [None, H2])
@pytest.mark.parametrize("protocol", [None, 17, 135])
@pytest.mark.parametrize("payload", [b"", b"abc", bytes(range(64))])
def test_build_writes_what_the_full_encoder_writes(home: bytes | None, routing: bytes | None,
                                                    protocol: int | None,
                                                    payload: bytes) -> None:
    chain: list[ExtensionHeader] = []
    if routing is not None:
        chain.append(RoutingType2(0, 1, routing))
    if home is not None:
        chain.append(DestinationOptions(0, layout_options((HomeAddressOption(home),))))
    for hop_limit in (0, 1, 64, 255):
        want = IPv6Packet.build(A, B, chain, payload, protocol=protocol,
                                hop_limit=hop_limit).to_bytes()
        assert packets.build(A, B, payload, protocol=protocol, home_address=home,
                             routing_to=routing, hop_limit=hop_limit) == want


def test_build_refuses_what_the_full_encoder_refuses() -> None:
    for kwargs in ({"hop_limit": 256}, {"protocol": 300}, {"home_address": H[:15]},
                   {"routing_to": H + b"\0"}):
        with pytest.raises(SecmobError):
            packets.build(A, B, b"x", **kwargs)
    with pytest.raises(SecmobError):
        packets.build(A[:4], B, b"x")


def test_deferred_notes_read_like_notes_made_at_once() -> None:
    e = packets.Event.deferred(2.5, "accepted", "binding {} -> {}, sequence {}", H, A, 7,
                               status=0)
    text = f"binding {ipaddress.IPv6Address(H)} -> {ipaddress.IPv6Address(A)}, sequence 7"
    plain = packets.Event(2.5, "accepted", text, 0)
    assert e.detail == text and e == plain and hash(e) == hash(plain)
    assert repr(e) == repr(plain) == (f"Event(time=2.5, kind='accepted', detail={text!r}, "
                                      "status=0)")
    assert e != packets.Event(2.5, "accepted", text, 1)
    assert pickle.loads(pickle.dumps(e)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.kind = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del e.time
    assert packets.Event(1, "sent", "{} braces stay", None).detail == "{} braces stay"


def test_admit_reports_what_inbound_ipsec_decided() -> None:
    from types import SimpleNamespace

    from secmob.errors import IntegrityError
    from secmob.mip6.packets import admit

    class Engine:
        def __init__(self, outcome: object) -> None:
            self.outcome = outcome

        def outbound(self, packet: bytes, *, now: float) -> object:
            raise AssertionError("not used")

        def inbound(self, packet: bytes, *, now: float) -> object:
            if isinstance(self.outcome, Exception):
                raise self.outcome
            return self.outcome

    sa = SimpleNamespace(mode=SimpleNamespace(value="transport"))
    assert admit(Engine(SimpleNamespace(packet=b"p", sas=(sa,))), b"x", 0) == (b"p", True, "")
    assert admit(Engine(SimpleNamespace(packet=b"p", sas=())), b"x", 0) == (b"p", False, "")
    # an authenticated dummy packet: dropped without a reason
    assert admit(Engine(SimpleNamespace(packet=None, sas=(sa,))), b"x", 0) == (None, True, "")
    refused = admit(Engine(IntegrityError("ICV does not verify")), b"x", 0)
    assert refused == (None, False, "ICV does not verify")
