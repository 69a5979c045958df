"""Hypothesis strategies producing valid wire structures, and codec checks
shared by the tests/test_wire_*.py files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st

from secmob.errors import DecodeError, SecmobError
from secmob.wire.ipsec_headers import AH, ESP
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
from secmob.wire.l4 import ICMP, ICMPV6, TCP, UDP, TCPOption
from secmob.wire.options import HomeAddressOption, Pad1, PadN, RawOption, layout_options

addr16 = st.binary(min_size=16, max_size=16)
addr4 = st.binary(min_size=4, max_size=4)
u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)

option = st.one_of(
    st.just(Pad1()),
    st.binary(max_size=6).map(PadN),
    addr16.map(HomeAddressOption),
    st.builds(RawOption, u8.filter(lambda t: t not in (0, 1, 201)), st.binary(max_size=24)),
)
options = st.lists(option, max_size=5).map(layout_options)

hbh = st.builds(HopByHop, st.just(0), options)
dst_opts = st.builds(DestinationOptions, st.just(0), options)
routing = st.one_of(
    st.builds(RoutingType0, st.just(0), u8, st.lists(addr16, max_size=4).map(tuple), u32),
    st.builds(RoutingType2, st.just(0), u8, addr16, u32),
    st.builds(RawRouting, st.just(0), u8.filter(lambda t: t not in (0, 2)), u8,
              st.integers(0, 3).flatmap(lambda k: st.binary(min_size=4 + 8 * k,
                                                            max_size=4 + 8 * k))),
)
atomic_fragment = st.builds(Fragment, st.just(0), st.just(0), st.just(False), u32, u8,
                            st.integers(0, 3))
ah = st.builds(AH, st.just(0), u32, u32,
               st.integers(0, 8).flatmap(lambda k: st.binary(min_size=4 * k, max_size=4 * k)),
               u16)
esp = st.builds(ESP, u32, u32, st.binary(max_size=40))

tcp_option = st.one_of(
    st.just(TCPOption(1)),
    st.builds(TCPOption, st.integers(2, 255), st.binary(max_size=8)),
)


@st.composite
def tcp_segments(draw: Callable[..., Any]) -> TCP:
    opts = draw(st.lists(tcp_option, max_size=3))  # at most 40 octets with End and padding
    size = sum(1 if o.kind == 1 else 2 + len(o.data) for o in opts)
    padding = b""
    if draw(st.booleans()):
        opts.append(TCPOption(0))
        size += 1
        padding = draw(st.binary(min_size=(-size) % 4, max_size=(-size) % 4))
    else:
        opts.extend([TCPOption(1)] * ((-size) % 4))
    return TCP(draw(u16), draw(u16), draw(u32), draw(u32), draw(u8), draw(u16), draw(u16),
               draw(u16), tuple(opts), padding, draw(st.binary(max_size=30)),
               draw(st.integers(0, 15)))


udp_segments = st.builds(lambda s, d, c, p: UDP(s, d, 8 + len(p), c, p),
                         u16, u16, u16, st.binary(max_size=40))
icmpv6 = st.builds(ICMPV6, u8, u8, u16, st.binary(max_size=30))
icmp = st.builds(ICMP, u8, u8, u16, st.binary(max_size=30))


@st.composite
def ipv6_packets(draw: Callable[..., Any]) -> IPv6Packet:
    chain: list[Any] = []
    if draw(st.booleans()):
        chain.append(draw(hbh))
    chain += draw(st.lists(st.one_of(dst_opts, routing, atomic_fragment, ah), max_size=4))
    payload: Any
    protocol = None
    if draw(st.booleans()):
        chain.append(draw(esp))
        payload = b""
    else:
        payload = draw(st.one_of(udp_segments, tcp_segments(), icmpv6, st.binary(max_size=30)))
        if isinstance(payload, bytes):
            protocol = draw(st.sampled_from([59, 253, 254]))
    return IPv6Packet.build(
        draw(addr16), draw(addr16), chain, payload, protocol=protocol,
        hop_limit=draw(u8), traffic_class=draw(u8), flow_label=draw(st.integers(0, 0xFFFFF)),
        fill_checksum=draw(st.booleans()),
    )


ipv4_option = st.one_of(
    st.just(IPv4Option(1)),
    st.builds(IPv4Option, st.integers(2, 255), st.binary(max_size=8)),
)


@st.composite
def ipv4_packets(draw: Callable[..., Any]) -> IPv4Packet:
    opts = draw(st.lists(ipv4_option, max_size=3))
    size = sum(o.length for o in opts)
    padding = b""
    if draw(st.booleans()):
        opts.append(IPv4Option(0))
        size += 1
        padding = draw(st.binary(min_size=(-size) % 4, max_size=(-size) % 4))
    else:
        opts.extend([IPv4Option(1)] * ((-size) % 4))
    chain: list[Any] = draw(st.lists(ah, max_size=2))
    payload: Any = b""
    protocol = None
    if draw(st.booleans()):
        chain.append(draw(esp))
    else:
        payload = draw(st.one_of(udp_segments, tcp_segments(), icmp, st.binary(max_size=30)))
        if isinstance(payload, bytes):
            protocol = draw(st.sampled_from([4, 41, 253]))
    return IPv4Packet.build(
        draw(addr4), draw(addr4), chain, payload, protocol=protocol, ttl=draw(u8),
        tos=draw(u8), identification=draw(u16), flags=draw(st.sampled_from([0, 2, 4, 6])),
        options=opts, padding=padding, fill_checksums=draw(st.booleans()),
    )


def check_codec(parse: Callable[[bytes], Any], data: bytes, trailing: str) -> Any:
    """Whole, every proper prefix, trailing bytes, round trip.

    ``trailing`` is ``"reject"`` (extra octets raise DecodeError) or ``"keep"``
    (they stay in the payload and re-encode)."""
    obj = parse(data)
    assert obj.to_bytes() == data
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            parse(data[:n])
    extra = data + b"\x00\xab"
    if trailing == "reject":
        with pytest.raises(DecodeError):
            parse(extra)
    else:
        assert parse(extra).to_bytes() == extra
    return obj


def only_secmob_errors(parse: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(SecmobError):
        parse(data)
