"""Upper-layer segments: UDP (RFC 768), TCP (RFC 9293 §3.1), ICMPv6 (RFC 4443 §2.1)
and ICMP (RFC 792).

Each class decodes a whole segment (everything up to the end of the IP
payload) and encodes it back byte for byte, checksum and length fields
included as stored. Checksums are never filled in behind the caller's back:
:meth:`compute_checksum` returns the right value, :meth:`with_checksum` a copy
carrying it, and :meth:`verify_checksum` raises
:class:`~secmob.errors.DecodeError` when the stored value is wrong. UDP, TCP
and ICMPv6 checksums cover the IPv6 (RFC 8200 §8.1) or IPv4 pseudo-header;
pass the addresses of the final destination and of the original source (see
``IPv6Packet.pseudo_header_addresses``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire._encode import encoded
from secmob.wire._tlv import check_option_words, decode_kind_length, encode_kind_length
from secmob.wire.checksum import internet_checksum, transport_checksum

__all__ = [
    "ICMP",
    "ICMPV6",
    "TCP",
    "UDP",
    "Segment",
    "TCPOption",
    "decode_segment",
]

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58


def _verify(name: str, stored: int, expected: int, offset: int) -> None:
    if stored != expected:
        raise DecodeError(
            name, f"checksum 0x{stored:04x} does not verify (expected 0x{expected:04x})", offset
        )


@dataclass(frozen=True, slots=True)
class UDP:
    """A UDP datagram (RFC 768). ``length`` is stored as received; octets after
    ``length`` but inside the IP payload stay in ``payload`` so that the datagram
    re-encodes identically."""

    source_port: int
    destination_port: int
    length: int
    checksum: int
    payload: bytes = b""

    PROTOCOL = PROTO_UDP
    NAME = "UDP"

    @classmethod
    def build(
        cls, source_port: int, destination_port: int, payload: bytes = b"",
        *, src: bytes | None = None, dst: bytes | None = None,
    ) -> UDP:
        """A datagram with its length set and, when ``src``/``dst`` are given, its
        checksum computed over the matching pseudo-header."""
        seg = cls(source_port, destination_port, 8 + len(payload), 0, payload)
        return seg if src is None or dst is None else seg.with_checksum(src, dst)

    @classmethod
    def decode(cls, r: Reader) -> UDP:
        start = r.pos
        sport, dport, length, csum = r.u16(), r.u16(), r.u16(), r.u16()
        total = r.end - start
        if length < 8 or length > total:
            raise DecodeError(
                "UDP", f"Length {length} outside 8..{total} (octets present)", start + 4
            )
        return cls(sport, dport, length, csum, r.rest())

    @classmethod
    def parse(cls, data: bytes) -> UDP:
        return cls.decode(Reader(data, cls.NAME))

    def encode(self, w: Writer) -> None:
        w.u16(self.source_port).u16(self.destination_port).u16(self.length).u16(self.checksum)
        w.put(self.payload)

    def to_bytes(self) -> bytes:
        return encoded(self.NAME, self.encode)

    def compute_checksum(self, src: bytes, dst: bytes) -> int:
        """RFC 768: a computed 0 is sent as 0xffff (0 means "no checksum")."""
        seg = dataclasses.replace(self, checksum=0).to_bytes()
        return transport_checksum(src, dst, PROTO_UDP, seg) or 0xFFFF

    def with_checksum(self, src: bytes, dst: bytes) -> UDP:
        return dataclasses.replace(self, checksum=self.compute_checksum(src, dst))

    def verify_checksum(self, src: bytes, dst: bytes) -> None:
        """Raise :class:`DecodeError` unless the checksum verifies. Over IPv4 a
        zero checksum means none was sent (RFC 768); over IPv6 it is invalid
        (RFC 8200 §8.1)."""
        if self.checksum == 0 and len(src) == 4:
            return
        _verify(self.NAME, self.checksum, self.compute_checksum(src, dst), 6)


@dataclass(frozen=True, slots=True)
class TCPOption:
    """A TCP option (RFC 9293 §3.1): kinds 0 (End of Option List) and 1 (No-Operation)
    are one octet; every other kind is ``kind, length, data``."""

    kind: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if self.kind in (0, 1) and self.data:
            raise UsageError(f"TCP option kind {self.kind} is a single octet, it has no data")
        if len(self.data) > 253:
            raise UsageError(f"TCP option data is at most 253 octets, got {len(self.data)}")

    def encode(self, w: Writer) -> None:
        if self.kind in (0, 1):
            w.u8(self.kind)
        else:
            w.u8(self.kind).u8(2 + len(self.data)).put(self.data)


def _decode_tcp_options(r: Reader) -> tuple[tuple[TCPOption, ...], bytes]:
    return decode_kind_length(r, "TCP", "option kind", TCPOption)


@dataclass(frozen=True, slots=True)
class TCP:
    """A TCP segment (RFC 9293 §3.1). ``flags`` holds the 8 control bits (CWR ECE
    URG ACK PSH RST SYN FIN), ``reserved`` the 4 bits before them. The Data
    Offset is derived from the options, whose encoding (plus ``padding``, the
    octets after an End of Option List) must fill whole 32-bit words."""

    source_port: int
    destination_port: int
    sequence: int
    acknowledgment: int
    flags: int
    window: int
    checksum: int = 0
    urgent_pointer: int = 0
    options: tuple[TCPOption, ...] = ()
    padding: bytes = b""
    payload: bytes = b""
    reserved: int = 0

    PROTOCOL = PROTO_TCP
    NAME = "TCP"
    FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = (1 << i for i in range(8))

    @classmethod
    def decode(cls, r: Reader) -> TCP:
        start = r.pos
        sport, dport, seq, ack = r.u16(), r.u16(), r.u32(), r.u32()
        off_res = r.u8()
        flags, window, csum, urg = r.u8(), r.u16(), r.u16(), r.u16()
        data_offset = off_res >> 4
        if data_offset < 5:
            raise DecodeError("TCP", f"Data Offset {data_offset} is below 5", start + 12)
        opts, pad = _decode_tcp_options(r.block(data_offset * 4 - 20))
        return cls(sport, dport, seq, ack, flags, window, csum, urg, opts, pad, r.rest(),
                   off_res & 0x0F)

    @classmethod
    def parse(cls, data: bytes) -> TCP:
        return cls.decode(Reader(data, cls.NAME))

    def options_bytes(self) -> bytes:
        return encode_kind_length(((o.kind, o.data) for o in self.options), self.padding)

    def encode(self, w: Writer) -> None:
        opts = self.options_bytes()
        check_option_words("TCP", opts, "pad with NOP/End of Option List")
        w.u16(self.source_port).u16(self.destination_port).u32(self.sequence)
        w.u32(self.acknowledgment).u8(((5 + len(opts) // 4) << 4) | self.reserved)
        w.u8(self.flags).u16(self.window).u16(self.checksum).u16(self.urgent_pointer)
        w.put(opts).put(self.payload)

    def to_bytes(self) -> bytes:
        return encoded(self.NAME, self.encode)

    def compute_checksum(self, src: bytes, dst: bytes) -> int:
        seg = dataclasses.replace(self, checksum=0).to_bytes()
        return transport_checksum(src, dst, PROTO_TCP, seg)

    def with_checksum(self, src: bytes, dst: bytes) -> TCP:
        return dataclasses.replace(self, checksum=self.compute_checksum(src, dst))

    def verify_checksum(self, src: bytes, dst: bytes) -> None:
        _verify(self.NAME, self.checksum, self.compute_checksum(src, dst), 16)


@dataclass(frozen=True, slots=True)
class ICMPV6:
    """An ICMPv6 message (RFC 4443 §2.1): type, code, checksum, message body.
    The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3)."""

    type: int
    code: int
    checksum: int = 0
    body: bytes = b""

    PROTOCOL = PROTO_ICMPV6
    NAME = "ICMPv6"

    @classmethod
    def decode(cls, r: Reader) -> ICMPV6:
        return cls(r.u8(), r.u8(), r.u16(), r.rest())

    @classmethod
    def parse(cls, data: bytes) -> ICMPV6:
        return cls.decode(Reader(data, cls.NAME))

    def encode(self, w: Writer) -> None:
        w.u8(self.type).u8(self.code).u16(self.checksum).put(self.body)

    def to_bytes(self) -> bytes:
        return encoded(self.NAME, self.encode)

    def compute_checksum(self, src: bytes, dst: bytes) -> int:
        seg = bytes([self.type, self.code, 0, 0]) + self.body
        return transport_checksum(src, dst, PROTO_ICMPV6, seg)

    def with_checksum(self, src: bytes, dst: bytes) -> ICMPV6:
        return dataclasses.replace(self, checksum=self.compute_checksum(src, dst))

    def verify_checksum(self, src: bytes, dst: bytes) -> None:
        _verify(self.NAME, self.checksum, self.compute_checksum(src, dst), 2)


@dataclass(frozen=True, slots=True)
class ICMP:
    """An ICMP (IPv4) message (RFC 792): type, code, checksum over the message
    alone (no pseudo-header), then the rest of the message."""

    type: int
    code: int
    checksum: int = 0
    body: bytes = b""

    PROTOCOL = PROTO_ICMP
    NAME = "ICMP"

    @classmethod
    def decode(cls, r: Reader) -> ICMP:
        return cls(r.u8(), r.u8(), r.u16(), r.rest())

    @classmethod
    def parse(cls, data: bytes) -> ICMP:
        return cls.decode(Reader(data, cls.NAME))

    def encode(self, w: Writer) -> None:
        w.u8(self.type).u8(self.code).u16(self.checksum).put(self.body)

    def to_bytes(self) -> bytes:
        return encoded(self.NAME, self.encode)

    def compute_checksum(self, src: bytes = b"", dst: bytes = b"") -> int:
        """The addresses are accepted for a uniform interface and ignored."""
        return internet_checksum(bytes([self.type, self.code, 0, 0]) + self.body)

    def with_checksum(self, src: bytes = b"", dst: bytes = b"") -> ICMP:
        return dataclasses.replace(self, checksum=self.compute_checksum())

    def verify_checksum(self, src: bytes = b"", dst: bytes = b"") -> None:
        _verify(self.NAME, self.checksum, self.compute_checksum(), 2)


Segment = UDP | TCP | ICMPV6 | ICMP

_SEGMENTS: dict[int, type[UDP] | type[TCP] | type[ICMPV6] | type[ICMP]] = {
    PROTO_UDP: UDP, PROTO_TCP: TCP, PROTO_ICMPV6: ICMPV6, PROTO_ICMP: ICMP,
}


def decode_segment(protocol: int, r: Reader, known: Sequence[int] = ()) -> Segment | bytes:
    """Decode the rest of ``r`` as the upper-layer protocol ``protocol`` when it is
    one of ``known`` (defaults to UDP, TCP, ICMPv6 and ICMP); anything else is
    returned as raw bytes."""
    cls = _SEGMENTS.get(protocol)
    if cls is None or (known and protocol not in known):
        return r.rest()
    sub = Reader(r.data, cls.NAME, r.pos, r.end)
    r.pos = r.end
    return cls.decode(sub)
