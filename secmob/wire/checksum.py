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


def transport_checksum(src: bytes, dst: bytes, next_header: int, segment: bytes,
                       checksum_at: int | None = None) -> int:
    """Checksum of ``segment`` over the IPv6 pseudo-header when the addresses
    are 16 octets, IPv4 when 4. The 16-bit checksum field at the even offset
    ``checksum_at`` counts as zero; without it the caller has zeroed the field.

    No pseudo-header is built: summed modulo 2^16 - 1 (see :func:`_ones_sum`),
    either pseudo-header (RFC 8200 §8.1, RFC 768) comes to the two addresses
    read as integers plus the length plus the protocol number. A remainder of
    0 stands for the sum 0xFFFF (a pseudo-header is never all zeros), whose
    complement is 0.
    """
    n = len(segment)
    total = (int.from_bytes(src, "big") + int.from_bytes(dst, "big") + n + next_header
             + (int.from_bytes(segment, "big") << 8 if n % 2 else int.from_bytes(segment, "big")))
    if checksum_at is not None:
        total -= segment[checksum_at] << 8 | segment[checksum_at + 1]
    total %= 0xFFFF
    return 0xFFFF - total if total else 0
