"""The Mobility Header checksum (RFC 6275 §6.1.1) summed without building the
pseudo-header gives what RFC 1071's word-by-word fold gives over the
pseudo-header of RFC 8200 §8.1, for every length, and ``checksum_matches``
agrees with it, including the two forms of zero."""

from __future__ import annotations

import struct

from hypothesis import example, given
from hypothesis import strategies as st

from secmob.wire import mobility as mh

addresses = st.one_of(st.binary(min_size=16, max_size=16), st.just(bytes(16)),
                      st.just(b"\xff" * 16))
messages = st.one_of(st.binary(min_size=0, max_size=80),
                     st.integers(0, 80).map(bytes),
                     st.integers(0, 40).map(lambda n: b"\xff" * n))


def rfc1071(src: bytes, dst: bytes, message: bytes) -> int:
    """Word-by-word one's complement sum with carries folded (RFC 1071 §4.1)."""
    segment = message[:4] + b"\0\0" + message[6:]
    data = src + dst + struct.pack("!I3xB", len(segment), 135) + segment
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += data[i] << 8 | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@given(addresses, addresses, messages)
@example(bytes(16), bytes(16), bytes(8))
def test_checksum_is_rfc_1071_over_the_pseudo_header(src: bytes, dst: bytes,
                                                     message: bytes) -> None:
    assert mh.mh_checksum(src, dst, message) == rfc1071(src, dst, message)


@given(addresses, addresses, st.binary(min_size=6, max_size=80), st.integers(0, 0xFFFF))
def test_checksum_matches_only_the_computed_value(src: bytes, dst: bytes, message: bytes,
                                                  field: int) -> None:
    right = rfc1071(src, dst, message)
    for value in (right, field, 0xFFFF if right == 0 else right ^ 1):
        m = message[:4] + value.to_bytes(2, "big") + message[6:]
        assert mh.checksum_matches(src, dst, m) is (value == right)
