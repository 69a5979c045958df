from hypothesis import given
from hypothesis import strategies as st

from secmob.wire.checksum import (
    internet_checksum,
    pseudo_header_v4,
    pseudo_header_v6,
    transport_checksum,
)


def test_rfc1071_example() -> None:
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    assert internet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0xFFFF - 0xDDF2


def test_sums_that_fold_to_all_ones() -> None:
    # 0001 + fffe = ffff: the one's complement sum is 0xffff (the checksum 0),
    # while an all-zero buffer sums to 0 (the checksum 0xffff).
    assert internet_checksum(bytes.fromhex("0001fffe")) == 0
    assert internet_checksum(bytes.fromhex("ffffffff")) == 0
    assert internet_checksum(bytes(6)) == 0xFFFF
    assert internet_checksum(b"") == 0xFFFF
    assert internet_checksum(b"\x01") == 0xFEFF  # odd length: padded with a zero octet


@given(st.binary(max_size=300))
def test_matches_scapy(data: bytes) -> None:
    from scapy.utils import checksum

    assert internet_checksum(data) == checksum(data)


@given(st.sampled_from([4, 16]), st.data(), st.binary(max_size=200))
def test_udp_checksum_matches_scapy(size: int, data: st.DataObject, payload: bytes) -> None:
    import ipaddress

    from scapy.layers.inet import IP, UDP, in4_chksum
    from scapy.layers.inet6 import IPv6, in6_chksum

    src = data.draw(st.binary(min_size=size, max_size=size))
    dst = data.draw(st.binary(min_size=size, max_size=size))
    seg = bytes(8) + payload
    a, b = str(ipaddress.ip_address(src)), str(ipaddress.ip_address(dst))
    want = (in6_chksum(17, IPv6(src=a, dst=b) / UDP(), seg) if size == 16
            else in4_chksum(17, IP(src=a, dst=b) / UDP(), seg))
    assert transport_checksum(src, dst, 17, seg) == want
    assert len(pseudo_header_v6(bytes(16), bytes(16), 8, 17)) == 40


@given(st.sampled_from([4, 16]), st.data(), st.binary(min_size=2, max_size=301),
       st.integers(0, 255))
def test_transport_checksum_is_the_sum_over_the_pseudo_header(size: int, data: st.DataObject,
                                                             segment: bytes, nh: int) -> None:
    # The arithmetic form against the checksum of the pseudo-header built out
    # (RFC 8200 §8.1, RFC 768), odd lengths included; a checksum field at an
    # even offset counts as zero.
    src = data.draw(st.binary(min_size=size, max_size=size))
    dst = data.draw(st.binary(min_size=size, max_size=size))
    pseudo = (pseudo_header_v6 if size == 16 else pseudo_header_v4)(src, dst, len(segment), nh)
    assert transport_checksum(src, dst, nh, segment) == internet_checksum(pseudo + segment)
    at = data.draw(st.integers(0, len(segment) // 2 - 1)) * 2
    zeroed = segment[:at] + b"\0\0" + segment[at + 2:]
    assert transport_checksum(src, dst, nh, segment, checksum_at=at) == \
        transport_checksum(src, dst, nh, zeroed)

