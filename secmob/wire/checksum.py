"""The Internet checksum (RFC 1071) and the IPv6/IPv4 pseudo-headers.

Used by UDP, TCP, ICMPv6 (RFC 8200 §8.1, RFC 4443 §2.3), ICMP, and the Mobile
IPv6 Mobility Header (RFC 6275 §6.1.1).
"""

from __future__ import annotations

import struct

__all__ = ["internet_checksum", "pseudo_header_v4", "pseudo_header_v6", "transport_checksum"]


def _ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    # Folding the carries back in (RFC 1071 §1) computes the sum of the 16-bit
    # words modulo 2^16 - 1, and since 2^16 = 1 modulo 2^16 - 1, the whole
    # buffer read as one big-endian integer has that same remainder. A
    # remainder of 0 is written 0xFFFF unless every word is zero.
    total = int.from_bytes(data, "big") % 0xFFFF
    return total if total or not any(data) else 0xFFFF


def internet_checksum(data: bytes) -> int:
    """One's complement of the one's complement sum of 16-bit words (RFC 1071)."""
    return ~_ones_sum(data) & 0xFFFF


def pseudo_header_v6(src: bytes, dst: bytes, upper_length: int, next_header: int) -> bytes:
    """RFC 8200 §8.1: source, destination, upper-layer length (32 bits), 3 zero
    octets, next header."""
    return src + dst + struct.pack("!I3xB", upper_length, next_header)


def pseudo_header_v4(src: bytes, dst: bytes, upper_length: int, protocol: int) -> bytes:
    """RFC 768 / RFC 793: source, destination, zero, protocol, length (16 bits)."""
    return src + dst + struct.pack("!xBH", protocol, upper_length)


def transport_checksum(src: bytes, dst: bytes, next_header: int, segment: bytes) -> int:
    """Checksum of ``segment`` (its checksum field zeroed by the caller) over the
    IPv6 pseudo-header when the addresses are 16 octets, IPv4 when 4."""
    if len(src) == 16:
        pseudo = pseudo_header_v6(src, dst, len(segment), next_header)
    else:
        pseudo = pseudo_header_v4(src, dst, len(segment), next_header)
    return internet_checksum(pseudo + segment)
